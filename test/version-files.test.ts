import { expect } from 'chai'
import { createHash } from 'node:crypto'
import { Readable } from 'node:stream'
import { gzipSync } from 'node:zlib'
import ExcelJS from 'exceljs'
import { buildTestApp, TestApp } from './helper'
import { buildRegister, Fixture } from './export-fixture'
import { scratchRegister } from '../src/register/accountability/history'
import { exportRegister } from '../src/register/exchange/export'
import { SECTIONS } from '../src/register/exchange/export-document'
import type { ExportQuery } from '../src/register/exchange/export-document'
import { placeholders } from '../src/db/sql'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { open } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DOCUMENT_DIR_PREFIX, documentsInUse, exportVersion, writeIndexed } from '../src/register/accountability/version-files'
import { VersionFilesCarryProof1796643053170 as SqliteProof } from '../migrations/sqlite/1796643053170-VersionFilesCarryProof'
import { VersionFilesCarryProof1796643053170 as PostgresProof } from '../migrations/postgres/1796643053170-VersionFilesCarryProof'

type Row = Record<string, any>

async function bytes(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk))
  return Buffer.concat(chunks)
}

/** A workbook's sheets as the text of their cells, row by row. */
async function sheets(file: Buffer): Promise<Record<string, string[][]>> {
  const book = new ExcelJS.Workbook()
  await book.xlsx.load(file as any)
  const out: Record<string, string[][]> = {}
  book.eachSheet((sheet) => {
    const rows: string[][] = []
    sheet.eachRow({ includeEmpty: true }, (row) => {
      const cells: string[] = []
      row.eachCell({ includeEmpty: true }, (cell) => { cells.push(cell.text) })
      rows.push(cells)
    })
    out[sheet.name] = rows
  })
  return out
}

/**
 * A frozen version's CSV and workbook are written from its document by the export's code, rendered
 * once and served from the stored bytes. Their oracle is the former implementation: the document's
 * records in a scratch register, exported.
 */
describe('files of a register version', function () {
  this.timeout(120_000)
  let t: TestApp
  let f: Fixture
  let version: Row
  let document: string

  const download = async (query: string): Promise<{ status: number; body: Buffer; headers: Row }> => {
    const res = await t.http.get(`/api/v1/register/export?${query}`).set('authorization', await t.auth('reader')).buffer(true).parse((r, cb) => {
      const chunks: Buffer[] = []
      r.on('data', (c: Buffer) => chunks.push(c))
      r.on('end', () => cb(null, Buffer.concat(chunks)))
    })
    return { status: res.status, body: res.body as Buffer, headers: res.headers }
  }
  const storedFiles = async (): Promise<string[]> => (await t.app.db.read((m) => m.query(placeholders(t.app.db.dialect,
    'SELECT file FROM "register_version_files" WHERE workspace_id = ? AND number = ? ORDER BY file'), ['test', version.number])) as Row[]).map((r) => r.file)

  /** The former implementation: the frozen document's records in a scratch register, exported. */
  const oracle = async (q: ExportQuery): Promise<Buffer> => {
    const doc = JSON.parse(document) as Row
    const records = SECTIONS.flatMap((s) => (doc[s.key] as Row[]).map((state) => ({ recordType: s.def.type, state })))
    const scratch = await scratchRegister('test', records)
    try {
      return await bytes(exportRegister(scratch, 'test', q, new Date(version.proposedAt), t.config.registerTimeZone).stream)
    } finally {
      await scratch.dataSource.destroy()
    }
  }

  before(async () => {
    t = await buildTestApp()
    f = await buildRegister(t)
    const admin = await t.auth('admin')
    for (const name of ['Ärendehantering', 'Ärendehantering', 'arkiv', 'Öppettider']) {
      const res = await t.http.post('/api/v1/processing-activities').set('authorization', admin)
        .send({ name, role: 'controller', controllerId: f.controllers.clinic.id, jointControllerIds: [f.controllers.joint.id], status: 'active' })
      expect(res.status).to.equal(201)
    }
    const proposed = await t.http.post('/api/v1/register/versions').set('authorization', await t.auth('editor', 'test', 'alice')).send({ note: 'Årlig genomgång' })
    expect(proposed.status).to.equal(201)
    version = proposed.body
    document = (await download(`format=json&version=${version.number}`)).body.toString('utf8')
    // the register changes after the version was frozen
    await t.http.patch(`/api/v1/controllers/${f.controllers.clinic.id}`).set('authorization', admin).send({ name: 'Klinik i Åre AB' }).expect(200)
    await t.http.delete(`/api/v1/processing-activities/${f.activities.hosting.id}`).set('authorization', admin).expect(204)
  })
  after(async () => t.close())

  it('writes each CSV as the former implementation did, filtered or not, whatever the register became', async () => {
    const queries: [string, ExportQuery][] = [
      ['format=csv', { format: 'csv', record: 'controller', lang: 'en' }],
      ['format=csv&lang=sv', { format: 'csv', record: 'controller', lang: 'sv' }],
      ['format=csv&lang=en&delimiter=semicolon', { format: 'csv', record: 'controller', lang: 'en', delimiter: 'semicolon' }],
      ['format=csv&record=processor&lang=sv', { format: 'csv', record: 'processor', lang: 'sv' }],
      [`format=csv&controllerId=${f.controllers.joint.id}`, { format: 'csv', record: 'controller', lang: 'en', controllerId: f.controllers.joint.id }],
      ['format=csv&status=active&lang=sv', { format: 'csv', record: 'controller', lang: 'sv', status: 'active' }],
    ]
    for (const [query, q] of queries) {
      const got = await download(`${query}&version=${version.number}`)
      expect(got.status, query).to.equal(200)
      // the former file, then the version's proof after an empty record (test/proof.test.ts checks the proof)
      const former = (await oracle(q)).toString('utf8')
      const text = got.body.toString('utf8')
      expect(text.slice(0, former.length), query).to.equal(former)
      const delimiter = q.delimiter === 'semicolon' || (!q.delimiter && q.lang === 'sv') ? ';' : ','
      const width = former.split('\r\n')[0].split(delimiter).length
      expect(text.slice(former.length), query).to.match(new RegExp(`^${delimiter.repeat(width - 1)}\r\n(Proof of register version|Bevis för registerversion) ${version.number} `))
      expect(got.headers['x-register-version']).to.equal(String(version.number))
      expect(got.headers['content-disposition']).to.match(new RegExp(`-version-${version.number}-\\d{4}-\\d{2}-\\d{2}\\.csv"$`))
    }
    const first = (await download(`format=csv&version=${version.number}`)).body.toString('utf8')
    expect(first).to.contain('Klinik Östersund AB').and.not.contain('Klinik i Åre AB')
  })

  it('writes each workbook as the former implementation did, sheet for sheet and cell for cell', async () => {
    for (const lang of ['en', 'sv'] as const) {
      const got = await download(`format=xlsx&lang=${lang}&version=${version.number}`)
      expect(got.status).to.equal(200)
      // the former sheets, and the version's proof on a sheet of its own
      const { [lang === 'sv' ? 'Bevis' : 'Proof']: proof, ...register } = await sheets(got.body)
      expect(register).to.deep.equal(await sheets(await oracle({ format: 'xlsx', record: 'controller', lang })))
      expect(proof[1]).to.deep.equal([lang === 'sv' ? 'Registerversion' : 'Register version', String(version.number)])
    }
  })

  it('renders each unfiltered file once and serves its stored bytes after; filtered files are not stored', async () => {
    const csv = await download(`format=csv&lang=sv&version=${version.number}`)
    const before = await storedFiles()
    expect(before).to.include('csv:sv:controller:semicolon')
    expect(before.every((file) => /^(csv:(en|sv):(controller|processor):(comma|semicolon)|xlsx:(en|sv)|json)$/.test(file)), before.join()).to.equal(true)
    // the same bytes on every download, the workbook's too (its zip holds a time of writing)
    expect((await download(`format=csv&lang=sv&version=${version.number}`)).body.equals(csv.body)).to.equal(true)
    const xlsx = await download(`format=xlsx&lang=en&version=${version.number}`)
    expect((await download(`format=xlsx&lang=en&version=${version.number}`)).body.equals(xlsx.body)).to.equal(true)
    await download(`format=csv&status=draft&version=${version.number}`)
    await download(`format=csv&controllerId=${f.controllers.clinic.id}&version=${version.number}`)
    expect(await storedFiles()).to.deep.equal(before)
    // what is served is what is stored: not rendered again
    await t.app.db.write((m) => m.query(placeholders(t.app.db.dialect, 'UPDATE "register_version_files" SET gzip = ? WHERE workspace_id = ? AND number = ? AND file = ?'),
      [gzipSync('stored;bytes\r\n').toString('base64'), 'test', version.number, 'csv:sv:controller:semicolon']))
    expect((await download(`format=csv&lang=sv&version=${version.number}`)).body.toString('utf8')).to.equal('stored;bytes\r\n')
    // a file stored before files carried their proof is let go by the migration and rendered again, with it
    const runner = t.app.db.dataSource.createQueryRunner()
    try {
      await new (t.app.db.dialect === 'postgres' ? PostgresProof : SqliteProof)().up(runner)
    } finally {
      await runner.release()
    }
    expect(await storedFiles()).to.deep.equal(['json']) // the frozen document stays: it carries no rendering
    const again = (await download(`format=csv&lang=sv&version=${version.number}`)).body.toString('utf8')
    expect(again).to.equal(csv.body.toString('utf8')).and.contain(`Bevis för registerversion ${version.number} `)
  })

  it('renders a file asked for by many at once a single time, and every one gets the same bytes', async () => {
    const all = await Promise.all(Array.from({ length: 6 }, () => download(`format=csv&record=processor&lang=en&version=${version.number}`)))
    for (const d of all) {
      expect(d.status).to.equal(200)
      expect(d.body.equals(all[0].body)).to.equal(true)
    }
    expect((await storedFiles()).filter((file) => file === 'csv:en:processor:comma')).to.have.length(1)
  })

  it('stores the frozen document as the version is frozen and serves its bytes (SHA-256 = contentHash); a version without it stores it at its first download', async () => {
    expect(await storedFiles()).to.include('json')
    const frozen = await download(`format=json&version=${version.number}`)
    expect(frozen.status).to.equal(200)
    expect(createHash('sha256').update(frozen.body).digest('hex')).to.equal(version.contentHash)
    expect(frozen.headers.etag).to.equal(`"${version.contentHash}"`)
    // as a version frozen before its document was stored, or restored from a backup
    await t.app.db.write((m) => m.query(placeholders(t.app.db.dialect, 'DELETE FROM "register_version_files" WHERE workspace_id = ? AND number = ?'), ['test', version.number]))
    const again = await download(`format=json&version=${version.number}`)
    expect(again.body.equals(frozen.body)).to.equal(true)
    expect(await storedFiles()).to.deep.equal(['json'])
    // the other files are rendered from it again, the same as before
    const csv = await download(`format=csv&lang=sv&version=${version.number}`)
    const former = (await oracle({ format: 'csv', record: 'controller', lang: 'sv' })).toString('utf8')
    expect(csv.body.toString('utf8').slice(0, former.length)).to.equal(former)
    expect(csv.body.toString('utf8').slice(former.length)).to.match(/^;+\r\nBevis för registerversion /)
  })

  it('serves a file stored in parts, a row each, byte for byte', async () => {
    const frozen = await download(`format=json&version=${version.number}`)
    const where = 'WHERE workspace_id = ? AND number = ? AND file = ?'
    const rows = (await t.app.db.read((m) => m.query(placeholders(t.app.db.dialect, `SELECT part, rendered_at, bytes, gzip FROM "register_version_files" ${where} ORDER BY part`),
      ['test', version.number, 'json'])) as Row[])
    const base64 = rows.map((r) => r.gzip as string).join('')
    // parts of 4 characters of base64 (3 bytes) and a shorter last one
    const parts = Array.from({ length: Math.ceil(base64.length / 400) }, (_, i) => base64.slice(i * 400, (i + 1) * 400))
    expect(parts.length).to.be.greaterThan(2)
    await t.app.db.write(async (m) => {
      await m.query(placeholders(t.app.db.dialect, `DELETE FROM "register_version_files" ${where}`), ['test', version.number, 'json'])
      for (const [part, gzip] of parts.entries()) {
        await m.query(placeholders(t.app.db.dialect, 'INSERT INTO "register_version_files" (workspace_id, number, file, part, rendered_at, bytes, gzip) VALUES (?, ?, ?, ?, ?, ?, ?)'),
          ['test', version.number, 'json', part, rows[0].rendered_at, rows[0].bytes, gzip])
      }
    })
    const again = await download(`format=json&version=${version.number}`)
    expect(again.body.equals(frozen.body)).to.equal(true)
    expect(createHash('sha256').update(again.body).digest('hex')).to.equal(version.contentHash)
    // and the files rendered from it
    const csv = await download(`format=csv&record=processor&controllerId=${f.controllers.clinic.id}&version=${version.number}`)
    expect(csv.status).to.equal(200)
  })

  it('answers 400 for a controller the version does not hold, and 404 for a version that does not exist', async () => {
    const added = await t.http.post('/api/v1/controllers').set('authorization', await t.auth('admin')).send({ name: 'Efteråt AB' })
    expect((await download(`format=csv&controllerId=${added.body.id}&version=${version.number}`)).status).to.equal(400)
    expect((await download('format=csv&version=99')).status).to.equal(404)
    expect((await download('format=xlsx&version=approved')).status).to.equal(404)
  })

  describe('the document unzipped for a render', () => {
    let scratch: string
    let tmp: string | undefined
    // the service's temporary files go to a directory of this test's own
    beforeEach(() => {
      tmp = process.env.TMPDIR
      scratch = mkdtempSync(join(tmpdir(), 'version-files-test-'))
      process.env.TMPDIR = scratch
    })
    afterEach(() => {
      if (tmp === undefined) delete process.env.TMPDIR
      else process.env.TMPDIR = tmp
      rmSync(scratch, { recursive: true, force: true })
    })
    const unzipped = (): string[] => readdirSync(scratch).filter((name) => name.startsWith(DOCUMENT_DIR_PREFIX))
    /** The temporary files once they are removed (after the export: a moment later). */
    const leftOver = async (): Promise<string[]> => {
      for (let i = 0; i < 100 && (unzipped().length || documentsInUse()); i++) await new Promise((resolve) => setTimeout(resolve, 20))
      expect(documentsInUse()).to.equal(0)
      return unzipped()
    }
    const exported = (q: Partial<ExportQuery>) => exportVersion(t.app.db, 'test', version.number,
      { format: 'csv', record: 'controller', lang: 'en', recordGiven: false, ...q }, t.config.registerTimeZone)

    it('is a file without a name while an export reads it (a killed process leaves nothing behind), closed when the export ends, also when the client goes away first', async () => {
      const whole = await exported({ controllerId: f.controllers.clinic.id })
      expect(documentsInUse()).to.equal(1)
      expect(readdirSync(scratch), 'names in the temporary directory during the export').to.deep.equal([])
      const read = await bytes(whole.stream)
      expect(read.toString('utf8')).to.contain(`Proof of register version ${version.number} `)
      expect(await leftOver()).to.deep.equal([])
      // the client goes away: the stream is destroyed before it is read
      const left = await exported({ controllerId: f.controllers.clinic.id, format: 'xlsx' })
      expect(documentsInUse()).to.equal(1)
      expect(readdirSync(scratch)).to.deep.equal([])
      left.stream.destroy()
      expect(await leftOver()).to.deep.equal([])
    })

    it('is removed after a file is rendered and stored, and when the document cannot be read', async () => {
      await t.app.db.write((m) => m.query(placeholders(t.app.db.dialect, 'DELETE FROM "register_version_files" WHERE workspace_id = ? AND number = ? AND file <> ?'), ['test', version.number, 'json']))
      expect((await download(`format=csv&record=processor&lang=sv&version=${version.number}`)).status).to.equal(200)
      expect(await leftOver()).to.deep.equal([])
      // every part as it was (an earlier test stored the document in many parts)
      const stored = (await t.app.db.read((m) => m.query(placeholders(t.app.db.dialect,
        'SELECT part, gzip FROM "register_version_files" WHERE workspace_id = ? AND number = ? AND file = ?'), ['test', version.number, 'json'])) as Row[])
      await t.app.db.write((m) => m.query(placeholders(t.app.db.dialect, 'UPDATE "register_version_files" SET gzip = ? WHERE workspace_id = ? AND number = ? AND file = ?'),
        [Buffer.from('not a gzip').toString('base64'), 'test', version.number, 'json']))
      try {
        const failed = await download(`format=csv&record=processor&lang=en&version=${version.number}`)
        expect(failed.status).to.equal(500)
        expect(await leftOver()).to.deep.equal([])
      } finally {
        await t.app.db.write(async (m) => {
          for (const { part, gzip } of stored) {
            await m.query(placeholders(t.app.db.dialect, 'UPDATE "register_version_files" SET gzip = ? WHERE workspace_id = ? AND number = ? AND file = ? AND part = ?'),
              [gzip, 'test', version.number, 'json', part])
          }
        })
      }
    })

    it('sends a CSV\'s first download as it is rendered, the bytes then stored; a client that goes away leaves it stored all the same', async () => {
      const clear = () => t.app.db.write((m) => m.query(placeholders(t.app.db.dialect, 'DELETE FROM "register_version_files" WHERE workspace_id = ? AND number = ? AND file <> ?'), ['test', version.number, 'json']))
      await clear()
      const first = await download(`format=csv&record=processor&lang=sv&version=${version.number}`)
      expect(first.status).to.equal(200)
      expect(await storedFiles()).to.include('csv:sv:processor:semicolon')
      expect((await download(`format=csv&record=processor&lang=sv&version=${version.number}`)).body.equals(first.body)).to.equal(true)
      expect(await leftOver()).to.deep.equal([])
      await clear()
      const left = await exported({ record: 'processor', lang: 'sv' })
      left.stream.destroy()
      for (let i = 0; i < 250 && !(await storedFiles()).includes('csv:sv:processor:semicolon'); i++) await new Promise((resolve) => setTimeout(resolve, 20))
      expect(await storedFiles()).to.include('csv:sv:processor:semicolon')
      expect(await leftOver()).to.deep.equal([])
      expect((await download(`format=csv&record=processor&lang=sv&version=${version.number}`)).body.equals(first.body)).to.equal(true)
    })

    it('renders from a document not laid out a record a line (a hand-made backup) as from the frozen one', async () => {
      const where = 'WHERE workspace_id = ? AND number = ? AND file = ?'
      const rows = (await t.app.db.read((m) => m.query(placeholders(t.app.db.dialect, `SELECT part, rendered_at, bytes, gzip FROM "register_version_files" ${where} ORDER BY part`),
        ['test', version.number, 'json'])) as Row[])
      const compact = JSON.stringify(JSON.parse(document))
      const put = (parts: Row[]) => t.app.db.write(async (m) => {
        await m.query(placeholders(t.app.db.dialect, `DELETE FROM "register_version_files" ${where}`), ['test', version.number, 'json'])
        for (const r of parts) {
          await m.query(placeholders(t.app.db.dialect, 'INSERT INTO "register_version_files" (workspace_id, number, file, part, rendered_at, bytes, gzip) VALUES (?, ?, ?, ?, ?, ?, ?)'),
            ['test', version.number, 'json', r.part, r.rendered_at, r.bytes, r.gzip])
        }
      })
      await put([{ part: 0, rendered_at: rows[0].rendered_at, bytes: Buffer.byteLength(compact), gzip: gzipSync(compact).toString('base64') }])
      try {
        const csv = await exported({ record: 'processor', lang: 'sv', status: 'active' })
        const former = (await oracle({ format: 'csv', record: 'processor', lang: 'sv', status: 'active' })).toString('utf8')
        expect((await bytes(csv.stream)).toString('utf8').slice(0, former.length)).to.equal(former)
        expect(await leftOver()).to.deep.equal([])
      } finally {
        await put(rows)
      }
    })

    it('finds each record wherever the unzipped chunks end, and writes the document byte for byte', async () => {
      const doc = Buffer.from(document, 'utf8')
      const indexOf = async (size: number) => {
        const path = join(scratch, `document-${size}.json`)
        const file = await open(path, 'w+')
        try {
          const chunks = Array.from({ length: Math.ceil(doc.length / size) }, (_, i) => doc.subarray(i * size, (i + 1) * size))
          const { indexer, laidOut } = await writeIndexed(chunks, file)
          expect(laidOut).to.equal(true)
          return indexer.finish()!
        } finally {
          await file.close()
          expect(readFileSync(path).equals(doc)).to.equal(true)
        }
      }
      const whole = await indexOf(doc.length)
      const records = [...whole.sections.values()].flat()
      expect(records).to.have.length(SECTIONS.reduce((n, s) => n + (JSON.parse(document)[s.key] as Row[]).length, 0))
      for (const e of records) expect(JSON.parse(doc.toString('utf8', e.start, e.end)).id).to.equal(e.id)
      for (const size of [1, 2, 7, 100, 4096]) {
        const chunked = await indexOf(size)
        expect([...chunked.sections]).to.deep.equal([...whole.sections])
        expect(chunked.activities).to.deep.equal(whole.activities)
      }
    })

    it('orders and filters activities whose lines hold their fields in another order as the frozen ones', async () => {
      // each activity's keys reversed (onBehalfOfControllers before name and the controllers), and one
      // whose name holds the text that ends the walk's fields in a frozen line
      const doc = JSON.parse(document) as Row
      const activities = (doc.processingActivities as Row[]).map((a, i) => (i === 0 ? { ...a, name: `${a.name},"onBehalfOfControllers":[]` } : a))
      const laidOut = (reorder: (a: Row) => Row): Buffer => {
        let text = '{}'
        for (const s of SECTIONS) {
          const records = s.key === 'processingActivities' ? activities.map(reorder) : doc[s.key] as Row[]
          text += `\n${JSON.stringify(s.key)}:[` + records.map((r) => '\n' + JSON.stringify(r) + ',').join('') + '\n]'
        }
        return Buffer.from(text + '}\n', 'utf8')
      }
      const indexOf = async (bytes: Buffer) => {
        const file = await open(join(scratch, 'document.json'), 'w+')
        try {
          const { indexer, laidOut: ok } = await writeIndexed([bytes], file)
          expect(ok).to.equal(true)
          return indexer.finish()!.activities.map(({ start, end, ...fields }) => fields)
        } finally {
          await file.close()
        }
      }
      const frozen = await indexOf(laidOut((a) => a))
      const reversed = await indexOf(laidOut((a) => Object.fromEntries(Object.entries(a).reverse())))
      expect(reversed).to.deep.equal(frozen)
      expect(frozen.map((a) => a.id)).to.have.members(activities.map((a) => a.id))
      expect(frozen.find((a) => a.id === activities[0].id)!.jointControllerIds).to.deep.equal(activities[0].jointControllers.map((c: Row) => c.id))
    })
  })
})
