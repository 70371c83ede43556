import { expect } from 'chai'
import fc from 'fast-check'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { AnswerTooLarge, Spool } from '../src/plugins/spool'

const read = async (stream: Readable): Promise<Buffer> => {
  const parts: Buffer[] = []
  for await (const part of stream) parts.push(part as Buffer)
  return Buffer.concat(parts)
}

/**
 * The spool writes an answer's text into one reused buffer and its large chunks as they are
 * (src/plugins/spool.ts): whatever the mix, the file must hold exactly the answer's bytes.
 */
describe('the spool', () => {
  let dir: string
  let spool: Spool
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'spool-test-'))
    spool = new Spool(dir, 64 * 1024 * 1024)
  })
  after(async () => {
    await spool.close()
    rmSync(dir, { recursive: true, force: true })
  })

  // text of any length around the 256 KB batch (Swedish and astral characters: their UTF-8 is
  // longer than their JavaScript length), and buffers beside it
  const text = fc.oneof(
    fc.string({ unit: fc.constantFrom('a', ';', '\n', 'å', 'Ö', '€', '😀'), maxLength: 2000 }),
    fc.integer({ min: 0, max: 300 * 1024 }).map((n) => 'ä'.repeat(Math.floor(n / 2)) + 'x'.repeat(n % 2)),
  )
  const bytes = fc.oneof(fc.uint8Array({ maxLength: 2000 }), fc.integer({ min: 0, max: 300 * 1024 }).map((n) => new Uint8Array(n).fill(7)))
  const chunk = fc.oneof({ weight: 4, arbitrary: text }, { weight: 1, arbitrary: bytes.map((b) => Buffer.from(b)) })

  it('holds exactly the bytes of any mix of text and buffers, in order', async function () {
    this.timeout(120_000)
    await fc.assert(fc.asyncProperty(fc.array(chunk, { maxLength: 40 }), async (chunks) => {
      const expected = Buffer.concat(chunks.map((c) => (typeof c === 'string' ? Buffer.from(c, 'utf8') : c)))
      const { stream, size } = await spool.take(Readable.from(chunks, { objectMode: true }), new AbortController().signal)
      expect(size).to.equal(expected.length)
      expect((await read(stream)).equals(expected)).to.equal(true)
    }), { numRuns: 60 })
  })

  it('refuses an answer larger than its limit, counting UTF-8 bytes, not characters', async () => {
    const small = new Spool(dir, 1000)
    try {
      // 600 characters, 1,200 bytes
      await small.take(Readable.from(['å'.repeat(300), 'ö'.repeat(300)]), new AbortController().signal)
      expect.fail('an answer over the limit was taken')
    } catch (err) {
      expect(err).to.be.instanceOf(AnswerTooLarge)
    } finally {
      await small.close()
    }
  })
})
