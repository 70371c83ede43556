import { expect } from 'chai'
import { randomUUID } from 'node:crypto'
import { buildTestApp, TestApp } from './helper'
import { buildRegister, exportValidator, Fixture, withoutTimestamps } from './export-fixture'

type Row = Record<string, any>

describe('register import', () => {
  let source: TestApp
  let f: Fixture
  let target: TestApp
  const validate = exportValidator()

  before(async () => {
    source = await buildTestApp()
    f = await buildRegister(source)
  })
  after(async () => source.close())
  beforeEach(async () => { target = await buildTestApp() })
  afterEach(async () => target.close())

  async function exportOf(t: TestApp, query = '', ws = 'test'): Promise<Row> {
    const res = await t.http.get(`/api/v1/register/export?format=json&${query}`).set('authorization', await t.auth('reader', ws))
    expect(res.status).to.equal(200)
    expect(validate(res.body), JSON.stringify(validate.errors)).to.equal(true)
    return res.body
  }

  const importInto = async (t: TestApp, doc: unknown, opts: { role?: 'reader' | 'editor' | 'admin'; dryRun?: boolean; ws?: string } = {}) =>
    t.http.post(`/api/v1/register/import${opts.dryRun ? '?dryRun=true' : ''}`).set('authorization', await t.auth(opts.role ?? 'admin', opts.ws ?? 'test')).send(doc as object)

  /** The whole state of a workspace, timestamps and versions included. */
  const fullState = async (t: TestApp): Promise<Row> => {
    const [controller, processor] = [await exportOf(t, 'record=controller'), await exportOf(t, 'record=processor')]
    return { controller: { ...controller, generatedAt: null }, processor: { ...processor, generatedAt: null } }
  }

  it('round-trips: export, import into an empty workspace, export again gives the same document', async () => {
    for (const record of ['controller', 'processor']) {
      const first = await exportOf(source, `record=${record}`)
      const res = await importInto(target, first)
      expect(res.status, JSON.stringify(res.body)).to.equal(200)
      expect(res.body.errors).to.deep.equal([])
      const again = await exportOf(target, `record=${record}`)
      expect(withoutTimestamps(again)).to.deep.equal(withoutTimestamps(first))
    }
  })

  it('counts what it creates, updates and leaves alone, and keeps ids', async () => {
    const doc = await exportOf(source)
    const res = await importInto(target, doc)
    expect(res.body.dryRun).to.equal(false)
    expect(res.body.created).to.include({ controllers: 5, processors: 3, processingActivities: 2, legalBases: 1, purposes: 4 })
    expect(res.body.unchanged.legalBases).to.equal(6) // the built-in entries, matched by id and code
    const got = await target.http.get(`/api/v1/processing-activities/${f.activities.records.id}`).set('authorization', await target.auth('reader'))
    expect(got.body.name).to.equal('Patientjournal')

    doc.processingActivities[0].name = 'Nytt namn'
    const again = await importInto(target, doc)
    expect(again.body.updated.processingActivities).to.equal(1)
    expect(again.body.unchanged).to.include({ controllers: 5, processors: 3, processingActivities: 1 })
    const changed = await target.http.get(`/api/v1/processing-activities/${doc.processingActivities[0].id}`).set('authorization', await target.auth('reader'))
    expect(changed.body).to.include({ name: 'Nytt namn', version: 2 })
  })

  it('writes nothing on a dry run, and says what it would create', async () => {
    const before = await fullState(target)
    const res = await importInto(target, await exportOf(source), { dryRun: true })
    expect(res.status).to.equal(200)
    expect(res.body).to.include({ dryRun: true })
    expect(res.body.errors).to.deep.equal([])
    expect(res.body.created).to.include({ controllers: 5, processingActivities: 2 })
    expect(await fullState(target)).to.deep.equal(before)
  })

  it('reports every error with its JSON path on a dry run; the import itself fails with 400 and changes nothing', async () => {
    const doc = await exportOf(source)
    const journal = doc.processingActivities.findIndex((a: Row) => a.name === 'Patientjournal')
    doc.processingActivities[journal].purposes[0].legalBases[1].id = randomUUID()
    const news = doc.processingActivities.findIndex((a: Row) => a.name === 'Nyhetsbrev')
    doc.processingActivities[news].automatedDecisionMakingDescription = null
    const purposeIndex = doc.purposes.findIndex((p: Row) => p.name === 'Fakturering')
    doc.purposes[purposeIndex].name = 'Fakturering och påminnelser'
    // the target already has something the failed import must not touch
    await importInto(target, { ...doc, processingActivities: [] })
    doc.purposes[purposeIndex].name = 'Fakturering'
    const before = await fullState(target)

    const dry = await importInto(target, doc, { dryRun: true })
    expect(dry.status).to.equal(200)
    const paths = dry.body.errors.map((e: Row) => e.path)
    expect(paths).to.include(`processingActivities[${journal}].purposes[0].legalBases[1].id`)
    expect(paths).to.include(`processingActivities[${news}].automatedDecisionMakingDescription`)

    const res = await importInto(target, doc)
    expect(res.status).to.equal(400)
    expect(res.body.code).to.equal('validation_failed')
    expect(res.body.details.map((d: Row) => d.field)).to.deep.equal(paths)
    expect(await fullState(target)).to.deep.equal(before)
  })

  it('rejects what is not an export document with 400 naming the field', async () => {
    const doc = await exportOf(source)
    for (const [body, field] of [
      [{ ...doc, format: 'something-else' }, 'format'],
      [{ ...doc, formatVersion: 2 }, 'formatVersion'],
      [{ ...doc, controllers: undefined }, 'controllers'],
      [{ ...doc, processors: [{ ...doc.processors[0], colour: 'red' }] }, 'processors[0].colour'],
      [{ ...doc, controllers: [doc.controllers[0], doc.controllers[0]] }, 'controllers[1].id'],
    ] as [Row, string][]) {
      const res = await importInto(target, body)
      expect(res.status, field).to.equal(400)
      expect(res.body.details.map((d: Row) => d.field), field).to.include(field)
    }
    const list = await importInto(target, [1, 2])
    expect(list.status).to.equal(400)
    expect((await fullState(target)).controller.controllers).to.deep.equal([])
  })

  it('names schema errors at their index in a long list (checked a chunk at a time), and only once', async () => {
    const doc = await exportOf(source)
    const [template] = doc.processingActivities
    doc.processingActivities = Array.from({ length: 250 }, (_, i) => ({ ...template, id: randomUUID(), name: `Kopia ${i}` }))
    doc.processingActivities[237] = { ...doc.processingActivities[237], colour: 'red' }
    doc.processingActivities[99] = { ...doc.processingActivities[99], status: 'unheard-of' }
    doc.format = 'something-else'
    const res = await importInto(target, doc, { dryRun: true })
    expect(res.status).to.equal(200)
    const paths = res.body.errors.map((e: Row) => e.path)
    expect(paths).to.deep.equal(['format', 'processingActivities[99].status', 'processingActivities[237].colour'])
  })

  it('matches built-in legal bases by code and refuses to invent one', async () => {
    const doc = await exportOf(source)
    const i = doc.legalBases.findIndex((l: Row) => l.code === 'A6-1-b')
    doc.legalBases[i] = { ...doc.legalBases[i], code: 'A6-1-z' }
    const res = await importInto(target, doc, { dryRun: true })
    expect(res.body.errors.map((e: Row) => e.path)).to.include(`legalBases[${i}].code`)
  })

  it('imports processors that are each other\'s sub-processors', async () => {
    const doc = await exportOf(source)
    const google = doc.processors.find((p: Row) => p.name === 'Google LLC')
    const books = doc.processors.find((p: Row) => p.name === 'Bokföringssystem AB')
    google.subProcessors = [{ id: books.id, name: books.name, organisationNumber: null, country: 'SE' }]
    const res = await importInto(target, doc)
    expect(res.status, JSON.stringify(res.body)).to.equal(200)
    expect(res.body.created.processors).to.equal(3)
    const stored = await target.http.get(`/api/v1/processors/${google.id}`).set('authorization', await target.auth('reader'))
    expect(stored.body.subProcessors.map((s: Row) => s.id)).to.deep.equal([books.id])
  })

  it('needs the editor role, and the admin role to create or change legal bases', async () => {
    const doc = await exportOf(source)
    const reader = await importInto(target, doc, { role: 'reader' })
    expect(reader.status).to.equal(403)
    const editor = await importInto(target, doc, { role: 'editor' })
    expect(editor.status).to.equal(403)
    const custom = doc.legalBases.findIndex((l: Row) => l.code === 'SE-LSO-5-1')
    expect(editor.body.details.map((d: Row) => d.field)).to.deep.equal([`legalBases[${custom}]`])
    expect((await fullState(target)).controller.controllers).to.deep.equal([])
    // without custom legal bases, an editor imports
    const withoutCustom = { ...doc, legalBases: doc.legalBases.filter((l: Row) => l.builtIn) }
    const ok = await importInto(target, withoutCustom, { role: 'editor' })
    expect(ok.status, JSON.stringify(ok.body)).to.equal(200)
  })

  it('writes into the token\'s workspace only', async () => {
    const doc = await exportOf(source)
    const res = await importInto(target, doc, { ws: 'elsewhere' })
    expect(res.status).to.equal(200)
    expect((await exportOf(target, '', 'elsewhere')).controllers).to.have.length(5)
    expect((await fullState(target)).controller.controllers).to.deep.equal([])
  })
})
