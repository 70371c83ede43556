import { expect } from 'chai'
import { Readable } from 'node:stream'
import { buildTestApp, TestApp } from './helper'
import { buildRegister, Fixture } from './export-fixture'
import { registerAsOf } from '../src/register/accountability/history'
import { exportRegister } from '../src/register/exchange/export'
import type { ExportQuery } from '../src/register/exchange/export-document'

type Row = Record<string, any>

const pause = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 15))

async function text(stream: Readable): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk))
  return Buffer.concat(chunks).toString('utf8')
}

/** The export a reader gets for a query, as text (200 expected). */
async function exported(t: TestApp, query: string): Promise<string> {
  const res = await t.http.get(`/api/v1/register/export?${query}`).set('authorization', await t.auth('reader')).buffer(true).parse((r, cb) => {
    const chunks: Buffer[] = []
    r.on('data', (c: Buffer) => chunks.push(c))
    r.on('end', () => cb(null, Buffer.concat(chunks).toString('utf8')))
  })
  expect(res.status, String(res.body)).to.equal(200)
  return res.body as string
}

/** A JSON document without what says when and how it was taken. */
const content = (doc: Row): Row => ({ ...doc, generatedAt: null, filters: { ...doc.filters, asOf: null } })

/**
 * The export as of a moment is read from history a page at a time (no scratch database). It must be
 * what the export taken at that moment was, and what the former implementation (the register
 * rebuilt from history into a scratch database, kept as registerAsOf) writes: both are its oracle.
 */
describe('export as of a moment, from history', function () {
  this.timeout(120_000)
  let t: TestApp
  let f: Fixture
  let then: string
  /** The live exports taken at `then`, by query. */
  const taken = new Map<string, string>()
  const QUERIES = [
    'format=json', 'format=json&record=processor', 'format=csv&lang=en', 'format=csv&lang=sv', 'format=csv&record=processor&lang=sv',
    'format=csv&status=active&lang=en', 'format=json&status=draft',
  ]
  const byController = (id: string): string[] => [`format=csv&lang=sv&controllerId=${id}`, `format=json&controllerId=${id}`]

  const get = (query: string): Promise<string> => exported(t, query)

  before(async () => {
    t = await buildTestApp()
    const editor = await t.auth('admin')
    const send = async (method: 'post' | 'patch' | 'delete', path: string, body?: Row, status = method === 'post' ? 201 : method === 'delete' ? 204 : 200): Promise<Row> => {
      const res = await t.http[method](`/api/v1/${path}`).set('authorization', editor).send(body)
      expect(res.status, `${method} ${path}: ${JSON.stringify(res.body)}`).to.equal(status)
      return res.body
    }
    f = await buildRegister(t)
    const clinic = f.controllers.clinic
    // before the moment: activities that tie on name (ordered by id), names in Swedish collation,
    // an activity changed, one deleted, and a controller and a purpose renamed after the
    // activities that show them were last written (their views show the new names)
    for (const name of ['Ärendehantering', 'Ärendehantering', 'Zebra', 'Åtgärder', 'Öppettider', 'arkiv']) {
      await send('post', 'processing-activities', { name, role: 'controller', controllerId: clinic.id, status: 'active' })
    }
    const changed = await send('post', 'processing-activities', { name: 'Bokningar', role: 'controller', controllerId: f.controllers.joint.id, jointControllerIds: [clinic.id] })
    await send('patch', `processing-activities/${changed.id}`, { description: 'Bokningar via webben', status: 'active' })
    const gone = await send('post', 'processing-activities', { name: 'Borttagen', role: 'controller', controllerId: clinic.id })
    await send('delete', `processing-activities/${gone.id}`)
    await send('patch', `controllers/${f.controllers.joint.id}`, { name: 'Hudateljén i Östersund AB' })
    const purposes = (await t.http.get('/api/v1/purposes?limit=100').set('authorization', editor)).body.items as Row[]
    const care = purposes.find((p) => p.name === 'Vård och behandling')!
    await send('patch', `purposes/${care.id}`, { name: 'Vård, behandling och uppföljning' })
    await pause()
    then = new Date().toISOString()
    for (const q of [...QUERIES, ...byController(clinic.id), ...byController(f.controllers.joint.id)]) taken.set(q, await get(q))
    await pause()

    // after the moment: renames, changes, deletions and additions that the moment must not show
    await send('patch', `controllers/${clinic.id}`, { name: 'Klinik i Östersund och Åre AB' })
    await send('patch', `purposes/${care.id}`, { name: 'Vård' })
    await send('patch', `processing-activities/${changed.id}`, { name: 'Aaa först nu', status: 'retired' })
    await send('delete', `processing-activities/${f.activities.newsletter?.id ?? changed.id}`)
    await send('post', 'processing-activities', { name: 'Ny efteråt', role: 'controller', controllerId: clinic.id })
  })
  after(async () => t.close())

  it('is the export taken at that moment, in JSON and CSV, whole and filtered', async () => {
    expect(taken.size).to.be.greaterThan(8)
    for (const [q, expected] of taken) {
      const asOf = await get(`${q}&asOf=${encodeURIComponent(then)}`)
      if (q.startsWith('format=json')) {
        const doc = JSON.parse(asOf)
        expect(doc.filters.asOf, q).to.equal(then)
        expect(content(doc), q).to.deep.equal(content(JSON.parse(expected)))
        // byte for byte after its head: each view as GET answered it then, whether composed again
        // from history or today's stored view of an activity that nothing it shows has changed since
        expect(asOf.slice(asOf.indexOf('\n')), q).to.equal(expected.slice(expected.indexOf('\n')))
      } else expect(asOf, q).to.equal(expected)
    }
    // the moment is not the present: the register changed since
    expect(await get('format=csv&lang=en')).to.not.equal(taken.get('format=csv&lang=en'))
  })

  it('is what the register rebuilt from history into a scratch database exports (the former implementation)', async () => {
    const scratch = await registerAsOf(t.app.db, 'test', then)
    try {
      for (const q of taken.keys()) {
        const query = Object.fromEntries(new URLSearchParams(q)) as Row
        const full = { record: 'controller', lang: 'en', ...query, asOf: then } as ExportQuery
        const oracle = await text(exportRegister(scratch, 'test', full, new Date(0), t.config.registerTimeZone).stream)
        const asOf = await get(`${q}&asOf=${encodeURIComponent(then)}`)
        if (full.format === 'json') expect(content(JSON.parse(asOf)), q).to.deep.equal(content(JSON.parse(oracle)))
        else expect(asOf, q).to.equal(oracle)
      }
    } finally {
      await scratch.dataSource.destroy()
    }
  })

  it('keeps the live export\'s order: names in the register\'s collation, ties by id', async () => {
    const doc = JSON.parse(await get(`format=json&asOf=${encodeURIComponent(then)}`))
    const names = (doc.processingActivities as Row[]).map((a) => a.name)
    expect(names.indexOf('arkiv')).to.be.lessThan(names.indexOf('Zebra'))
    expect(names.indexOf('Zebra')).to.be.lessThan(names.indexOf('Åtgärder'))
    expect(names.indexOf('Åtgärder')).to.be.lessThan(names.indexOf('Ärendehantering'))
    expect(names.indexOf('Ärendehantering')).to.be.lessThan(names.indexOf('Öppettider'))
    const ties = (doc.processingActivities as Row[]).filter((a) => a.name === 'Ärendehantering').map((a) => a.id)
    expect(ties).to.have.length(2)
    expect(ties).to.deep.equal([...ties].sort())
    expect(names).to.not.include('Borttagen')
  })

  it('answers 400 for a controller that did not exist then', async () => {
    const added = await t.http.post('/api/v1/controllers').set('authorization', await t.auth('admin')).send({ name: 'Sent tillkommen AB' })
    expect(added.status).to.equal(201)
    const res = await t.http.get(`/api/v1/register/export?format=csv&controllerId=${added.body.id}&asOf=${encodeURIComponent(then)}`).set('authorization', await t.auth('reader'))
    expect(res.status).to.equal(400)
    expect(res.body.details[0].field).to.equal('controllerId')
    const now = await t.http.get(`/api/v1/register/export?format=csv&controllerId=${added.body.id}`).set('authorization', await t.auth('reader'))
    expect(now.status).to.equal(200)
  })

  it('answers 400 naming asOf, with an example, for a moment that does not exist', async () => {
    for (const asOf of ['2026-06-30T23:59:60Z', '2026-02-30T12:00:00Z', '2026-02-29T12:00:00Z', '2026-06-30T24:00:00Z', '2026-06-30T12:00:00+25:00', '2026-13-01T00:00:00Z', 'yesterday']) {
      const res = await t.http.get(`/api/v1/register/export?format=csv&asOf=${encodeURIComponent(asOf)}`).set('authorization', await t.auth('reader'))
      expect(res.status, `${asOf}: ${JSON.stringify(res.body)}`).to.equal(400)
      const detail = (res.body.details as Row[]).find((d) => /asOf/.test(d.field))
      expect(detail, `${asOf}: ${JSON.stringify(res.body)}`).to.not.equal(undefined)
      expect(detail!.field).to.equal('asOf')
      expect(detail!.message).to.match(/such as \d{4}-\d{2}-\d{2}T/)
    }
    const leap = await t.http.get(`/api/v1/register/export?asOf=${encodeURIComponent('2026-06-30T23:59:60Z')}`).set('authorization', await t.auth('reader'))
    expect(leap.body.details[0].message).to.match(/such as \d{4}-\d{2}-\d{2}T/)
    // a real instant in another zone, and a leap day that exists
    for (const asOf of ['2026-07-01T01:59:59+02:00', '2028-02-29T12:00:00.5Z']) {
      const res = await t.http.get(`/api/v1/register/export?format=csv&asOf=${encodeURIComponent(asOf)}`).set('authorization', await t.auth('reader'))
      expect(res.status, asOf).to.equal(200)
    }
  })
})

/**
 * A register of several pages (the asOf walk reads today's unchanged activities in pages by name and
 * merges in those changed since, keyed from history): renames after the moment that move activities
 * across pages, in both directions, deletions, additions between, and a change that keeps the name.
 */
describe('export as of a moment, across many pages', function () {
  this.timeout(180_000)
  let t: TestApp
  let then: string
  const taken = new Map<string, string>()
  const QUERIES = ['format=json', 'format=csv&lang=en', 'format=csv&lang=sv&status=active']
  const get = (query: string): Promise<string> => exported(t, query)

  before(async () => {
    t = await buildTestApp()
    const editor = await t.auth('admin')
    const send = async (method: 'post' | 'patch' | 'delete', path: string, body?: Row): Promise<Row> => {
      const res = await t.http[method](`/api/v1/${path}`).set('authorization', editor).send(body)
      expect(res.status, `${method} ${path}: ${JSON.stringify(res.body)}`).to.be.oneOf([200, 201, 204])
      return res.body
    }
    const controller = await send('post', 'controllers', { name: 'Sidornas AB' })
    const activities: Row[] = []
    for (let i = 0; i < 260; i++) {
      const name = `${i % 3 === 0 ? 'Behandling' : i % 3 === 1 ? 'Ärende' : 'Lista'} ${String(i).padStart(3, '0')}`
      activities.push(await send('post', 'processing-activities', { name, role: 'controller', controllerId: controller.id, status: i % 4 ? 'active' : 'draft' }))
    }
    await pause()
    then = new Date().toISOString()
    for (const q of QUERIES) taken.set(q, await get(q))
    await pause()
    for (const [i, a] of activities.entries()) {
      if (i % 7 === 0) await send('patch', `processing-activities/${a.id}`, { name: `Översikt ${a.name}` }) // to the last page
      else if (i % 7 === 1) await send('patch', `processing-activities/${a.id}`, { name: `Aaa ${a.name}` }) // to the first
      else if (i % 7 === 2) await send('patch', `processing-activities/${a.id}`, { description: 'ändrad efteråt', status: 'retired' })
      else if (i % 23 === 3) await send('delete', `processing-activities/${a.id}`)
      if (i % 29 === 4) await send('post', 'processing-activities', { name: `${a.name} b`, role: 'controller', controllerId: controller.id, status: 'active' })
    }
  })
  after(async () => t.close())

  it('is, byte for byte, the export taken at that moment', async () => {
    for (const [q, expected] of taken) {
      const asOf = await get(`${q}&asOf=${encodeURIComponent(then)}`)
      if (q.startsWith('format=json')) {
        expect(JSON.parse(asOf).processingActivities, q).to.have.length(260)
        expect(asOf.slice(asOf.indexOf('\n')), q).to.equal(expected.slice(expected.indexOf('\n')))
      } else expect(asOf, q).to.equal(expected)
      expect(await get(q), `${q}: the register changed since`).to.not.equal(expected)
    }
  })
})
