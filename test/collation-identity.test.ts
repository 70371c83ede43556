import { expect } from 'chai'
import { randomUUID } from 'node:crypto'
import { Database } from '../src/db/database'
import type { Principal } from '../src/auth/principal'
import { recipients } from '../src/register/records/model'
import { storeMany, validateWrite } from '../src/register/records/writes'
import { currentCollation, recomputeSortKeys, storedCollation } from '../src/register/records/collation-identity'
import { buildTestApp, migratedDatabase, TestApp } from './helper'

type Row = Record<string, any>
const dbOf = (t: TestApp): Database => (t.app as unknown as { db: Database }).db

/**
 * A Node.js upgrade brings another ICU, whose ranks may order names otherwise: the keys stored
 * under the old one are recomputed at the first start under the new one, while the service answers.
 */
describe('sort keys after an ICU upgrade', () => {
  const who: Principal = { sub: 'upgrader', role: 'admin', ws: 'test' }
  const RECIPIENTS = 1200
  const firstThree = async (t: TestApp): Promise<string[]> =>
    (await t.http.get('/api/v1/recipients?sort=name&limit=3').set('authorization', await t.auth('reader'))).body.items.map((i: Row) => i.name)

  it('a start under another ICU recomputes them in the background, says so once, and lists come back in order', async function () {
    this.timeout(120_000)
    const db = await migratedDatabase()
    try {
      const first = await buildTestApp({ DATABASE_URL: db.url })
      try {
        expect(await storedCollation(dbOf(first))).to.deep.equal(currentCollation())
        const names = ['Äpfel', 'Zucker', 'Apfelsaft', ...Array.from({ length: RECIPIENTS - 3 }, (_, i) => `Mottagare ${String(i).padStart(4, '0')}`)]
        const items = names.map((name) => { const id = randomUUID(); return { id, dto: validateWrite(recipients, { name }, id), existing: null } })
        await dbOf(first).write((m) => storeMany(m, who, recipients, items))
        expect(await firstThree(first)).to.deep.equal(['Apfelsaft', 'Mottagare 0000', 'Mottagare 0001'])
        // the keys as another collation ranked them (German: Ä with A), under an older ICU's name
        const locale = process.env.REGISTER_LOCALE
        process.env.REGISTER_LOCALE = 'de'
        try {
          await recomputeSortKeys(dbOf(first))
        } finally {
          if (locale === undefined) delete process.env.REGISTER_LOCALE
          else process.env.REGISTER_LOCALE = locale
        }
        await dbOf(first).write((m) => m.query(`UPDATE "sort_key_collation" SET "locale" = 'sv', "icu" = '72.1', "unicode" = '15.0'`))
        expect(await firstThree(first)).to.deep.equal(['Äpfel', 'Apfelsaft', 'Mottagare 0000'])
      } finally {
        await first.close()
      }

      // batches 200 ms apart: six of them leave reads a second to be answered in, however fast the
      // machine (at the default 5 ms, a fast one finished before the first read came back)
      const second = await buildTestApp({ DATABASE_URL: db.url, SORT_KEYS_RECOMPUTE_PAUSE: '200ms' })
      try {
        const said = (re: RegExp): Row[] => second.logs.filter((l) => re.test(String(l.msg)))
        expect(said(/^sort keys were computed in sv \(ICU 72\.1, Unicode 15\.0\): recomputing them in sv \(ICU /)).to.have.length(1)
        // reads are answered while the keys are recomputed
        let answeredBefore = 0
        const started = Date.now()
        while (!said(/^sort keys recomputed/).length) {
          expect(Date.now() - started, 'the recompute ends').to.be.below(60_000)
          const res = await second.http.get('/api/v1/recipients?limit=1').set('authorization', await second.auth('reader'))
          expect(res.status).to.equal(200)
          if (!said(/^sort keys recomputed/).length) answeredBefore++
        }
        expect(answeredBefore, 'reads answered during the recompute').to.be.greaterThan(0)
        const [done] = said(/^sort keys recomputed in sv \(ICU /)
        expect(done.records).to.be.at.least(RECIPIENTS)
        expect(await firstThree(second)).to.deep.equal(['Apfelsaft', 'Mottagare 0000', 'Mottagare 0001'])
        expect(await storedCollation(dbOf(second))).to.deep.equal(currentCollation())
        expect(said(/^sort keys/)).to.have.length(2)
      } finally {
        await second.close()
      }

      // the next start finds the keys in its collation: nothing to say, nothing to do
      const third = await buildTestApp({ DATABASE_URL: db.url })
      try {
        expect(third.logs.filter((l) => /^sort keys/.test(String(l.msg)))).to.deep.equal([])
      } finally {
        await third.close()
      }
    } finally {
      await db.drop()
    }
  })
})
