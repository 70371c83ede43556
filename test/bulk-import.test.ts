import { expect } from 'chai'
import { randomUUID } from 'node:crypto'
import { Client } from 'pg'
import { QueryFailedError } from 'typeorm'
import { copyField, copyRows } from '../src/db/copy'
import { processingActivities, purposes } from '../src/register/records/model'
import { getView } from '../src/register/records/reads'
import { buildRegister, withoutTimestamps } from './export-fixture'
import { buildTestApp, onPostgres, TEST_DATABASE_URL, TestApp } from './helper'

type Row = Record<string, any>

/** Texts that COPY's text format (and a PostgreSQL array literal inside it) must carry unchanged. */
const AWKWARD = [
  'Tab\there', 'Line\nbreak', 'CR\r\nLF', 'Back\\slash \\N \\t \\\\', '"double" and \'single\' quotes', '{braces, commas}',
  'NULL', '\\N', 'o\u0308 (NFD) and ö (NFC)', 'Åre, Ängelholm, Örebro', 'emoji 🧾 and \u2028 line separator', '  spaces around  ',
]
/** A document's lists of records in id order (the export orders them by name, in the register's collation). */
const inIdOrder = (doc: any): Row => Object.fromEntries(Object.entries(doc).map(([k, v]) =>
  [k, Array.isArray(v) ? [...v].sort((a: Row, b: Row) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)) : v]))
const awkward = (i: number): string => `${AWKWARD[i % AWKWARD.length]} #${i}`

/**
 * An import's batches are written in bulk (on PostgreSQL by COPY, from 64 rows of one table on):
 * what lands in the tables must be exactly what the document said, as a write through the API
 * stores it. The views and history states the import writes are built in the process, so they
 * would look right even if the rows were wrong: these tests read the rows back.
 */
describe('bulk import (COPY on PostgreSQL)', () => {
  let source: TestApp
  let target: TestApp
  let doc: Row

  before(async () => {
    source = await buildTestApp()
    await buildRegister(source)
    const res = await source.http.get('/api/v1/register/export?format=json').set('authorization', await source.auth('reader'))
    expect(res.status).to.equal(200)
    doc = res.body
    // 80 more purposes and activities (more than a COPY's threshold in every list table), named
    // and described awkwardly
    const purposeTemplate = doc.purposes[0]
    const extraPurposes = Array.from({ length: 80 }, (_, i) => ({ ...purposeTemplate, id: randomUUID(), name: awkward(i), description: awkward(i + 1) }))
    doc.purposes.push(...extraPurposes)
    const template = doc.processingActivities.find((a: Row) => a.purposes.length && a.dataCategories.length)
    expect(template, 'the fixture has an activity with purposes').to.not.equal(undefined)
    doc.processingActivities.push(...Array.from({ length: 80 }, (_, i) => ({
      ...template,
      id: randomUUID(),
      name: awkward(i),
      description: awkward(i + 2),
      dataSources: [awkward(i + 3), awkward(i + 4)],
      systems: [awkward(i + 5)],
      purposes: [{ ...template.purposes[0], purpose: { id: extraPurposes[i].id, name: extraPurposes[i].name }, legitimateInterest: awkward(i + 6) }, ...template.purposes.slice(1)],
    })))
  })
  after(async () => source.close())
  beforeEach(async () => { target = await buildTestApp() })
  afterEach(async () => target.close())

  it('stores every text, list and reference as the document gives them; the views and history agree with the rows', async () => {
    const res = await target.http.post('/api/v1/register/import').set('authorization', await target.auth('admin')).send(doc)
    expect(res.status, JSON.stringify(res.body).slice(0, 500)).to.equal(200)
    expect(res.body.created.processingActivities).to.equal(doc.processingActivities.length)

    // the register exported again is the document
    const again = await target.http.get('/api/v1/register/export?format=json').set('authorization', await target.auth('reader'))
    expect(inIdOrder(withoutTimestamps(again.body))).to.deep.equal(inIdOrder(withoutTimestamps(doc)))

    // each view computed from the rows now in the tables is the stored view, and the history's state
    for (const [def, records] of [[processingActivities, doc.processingActivities], [purposes, doc.purposes]] as const) {
      for (const record of records as Row[]) {
        const computed = await target.app.db.read((m) => getView(m, 'test', def, record.id))
        const stored = await target.http.get(`/api/v1/${def.plural}/${record.id}`).set('authorization', await target.auth('reader'))
        expect(stored.status).to.equal(200)
        expect(computed, `${def.plural} ${record.id}`).to.deep.equal(stored.body)
        expect(withoutTimestamps(stored.body)).to.deep.equal(withoutTimestamps(record))
      }
    }
    // the search and sort keys went in with the rows: a search finds them, case and form folded
    const named = doc.processingActivities.filter((a: Row) => `${a.name} ${a.description}`.includes('Ängelholm'))
    const found = await target.http.get(`/api/v1/processing-activities?q=${encodeURIComponent('ÄNGELHOLM')}&limit=100`).set('authorization', await target.auth('reader'))
    expect(found.status).to.equal(200)
    expect(found.body.items.map((a: Row) => a.id).sort()).to.deep.equal(named.map((a: Row) => a.id).sort())
    const nfd = await target.http.get(`/api/v1/processing-activities?q=${encodeURIComponent('ö (NFC)'.normalize('NFD'))}&limit=100`).set('authorization', await target.auth('reader'))
    expect(nfd.body.total).to.equal(doc.processingActivities.filter((a: Row) => `${a.name} ${a.description}`.includes('ö (NFC)')).length).and.to.be.greaterThan(0)

    const sample = doc.processingActivities[doc.processingActivities.length - 1]
    const history = await target.http.get(`/api/v1/processing-activities/${sample.id}/history`).set('authorization', await target.auth('reader'))
    expect(history.body.items[0].state.name).to.equal(sample.name)
    expect(history.body.items[0].state.dataSources).to.deep.equal(sample.dataSources)
    const verify = await target.http.get('/api/v1/history/verify').set('authorization', await target.auth('reader'))
    expect(verify.body.valid).to.equal(true)
  })

  if (onPostgres) {
    it('writes each value by COPY as the same value a parameter of an INSERT stores', async () => {
      const client = new Client({ connectionString: TEST_DATABASE_URL })
      await client.connect()
      try {
        await client.query('CREATE TEMP TABLE copied (n int, t text, v varchar(200), b boolean, i integer, at timestamptz, j jsonb, a text[])')
        const values: unknown[][] = [
          ...AWKWARD.map((text, n) => [n, text, text, n % 2 === 0, n - 5, new Date(Date.UTC(2026, 11, 2, 0, 30, n)), JSON.stringify({ text, list: [text] }), [text, 'plain', null]]),
          [100, null, null, null, null, null, null, null],
          [101, '', '', false, 0, new Date(0), 'null', []],
        ]
        await client.query('BEGIN')
        for (const row of values) await client.query('INSERT INTO copied VALUES ($1, $2, $3, $4, $5, $6, $7, $8)', row)
        const inserted = (await client.query('SELECT * FROM copied ORDER BY n')).rows
        await client.query('DELETE FROM copied')
        // copyRows takes a transaction's manager; a stand-in whose query runner hands over this client
        const m = { queryRunner: { connect: async () => client } } as never
        await copyRows(m, 'copied', ['n', 't', 'v', 'b', 'i', 'at', 'j', 'a'], values)
        const copied = (await client.query('SELECT * FROM copied ORDER BY n')).rows
        // a refused row fails the COPY as any statement fails (TypeORM's error), and the connection goes on
        const refused = await copyRows(m, 'copied', ['n', 'i'], [[1, 2], [3, 'not a number']]).then(() => null, (e: unknown) => e)
        expect(refused).to.be.instanceOf(QueryFailedError)
        expect(String((refused as Error).message)).to.match(/invalid input syntax for type integer/)
        await client.query('ROLLBACK')
        expect((await client.query('SELECT 1 AS one')).rows).to.deep.equal([{ one: 1 }])
        expect(copied).to.deep.equal(inserted)
        expect(copied.find((r) => r.n === 1).t).to.equal(AWKWARD[1])
        expect(copied.find((r) => r.n === 101).a).to.deep.equal([])
      } finally {
        await client.end()
      }
    })
  }

  it('escapes what COPY reads specially, and nothing else', () => {
    expect(copyField(null)).to.equal('\\N')
    expect(copyField(undefined)).to.equal('\\N')
    expect(copyField('a\tb\nc\rd\\e')).to.equal('a\\tb\\nc\\rd\\\\e')
    expect(copyField('plain, "quoted"')).to.equal('plain, "quoted"')
    expect(copyField(true)).to.equal('true')
    expect(copyField(['x', 'y"z'])).to.equal('{"x","y\\\\"z"}')
    expect(() => copyField(Buffer.from('x'))).to.throw(TypeError)
  })
})
