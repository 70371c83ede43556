import { expect } from 'chai'
import { buildTestApp, TestApp } from './helper'

const pause = (ms = 5) => new Promise((r) => setTimeout(r, ms))

/** Accountability (Art. 5(2)): who changed what and when, and the register as it stood. */
describe('change history', () => {
  let t: TestApp
  const alice = (): Promise<string> => t.auth('editor', 'test', 'alice')
  const bob = (): Promise<string> => t.auth('editor', 'test', 'bob')
  const admin = (): Promise<string> => t.auth('admin', 'test', 'carol')

  before(async () => { t = await buildTestApp() })
  after(async () => t.close())

  const bodies: [string, Record<string, unknown>, Record<string, unknown>][] = [
    ['controllers', { name: 'Klinik AB' }, { email: 'info@klinik.se' }],
    ['processors', { name: 'Bokföringssystemet' }, { service: 'Bokföring' }],
    ['purposes', { name: 'Vård' }, { description: 'Behandling av patienter' }],
    ['data-subject-categories', { name: 'Patienter' }, { description: 'Vuxna' }],
    ['data-categories', { name: 'Hälsouppgifter', classification: 'special', specialCategory: 'health' }, { description: 'Journal' }],
    ['recipients', { name: 'Försäkringskassan' }, { country: 'SE' }],
    ['retention-rules', { name: 'Journal', period: 'P10Y' }, { trigger: 'efter sista anteckningen' }],
    ['security-measures', { name: 'Loggning', type: 'technical', category: 'logging' }, { description: 'Åtkomstloggar' }],
    ['legal-bases', { code: 'SE-HSL', kind: 'national-law', articleReference: 'Hälso- och sjukvårdslagen', name: 'Health care act' }, { description: 'HSL' }],
  ]

  it('records every create, update and delete of every kind of record, with who, version and state', async () => {
    for (const [path, create, patch] of bodies) {
      const who = path === 'legal-bases' ? admin : alice
      const created = await t.http.post(`/api/v1/${path}`).set('authorization', await who()).send(create)
      expect(created.status, path).to.equal(201)
      const id = created.body.id
      const updater = path === 'legal-bases' ? admin : bob
      const updated = await t.http.patch(`/api/v1/${path}/${id}`).set('authorization', await updater()).send(patch)
      expect(updated.status, path).to.equal(200)
      await t.http.delete(`/api/v1/${path}/${id}`).set('authorization', await who()).expect(204)

      const res = await t.http.get(`/api/v1/${path}/${id}/history`).set('authorization', await t.auth('reader'))
      expect(res.status, path).to.equal(200)
      const entries = res.body.items
      expect(entries.map((e: any) => [e.operation, e.version, e.actor]), path).to.deep.equal([
        ['create', 1, path === 'legal-bases' ? 'carol' : 'alice'],
        ['update', 2, path === 'legal-bases' ? 'carol' : 'bob'],
        ['delete', 2, path === 'legal-bases' ? 'carol' : 'alice'],
      ])
      expect(entries[0].state).to.deep.equal(created.body)
      expect(entries[1].state).to.deep.equal(updated.body)
      expect(entries[2].state).to.deep.equal(updated.body) // the state before the delete
      expect(entries[1].at).to.equal(updated.body.updatedAt)
    }
  })

  it('records activity writes, and filters the workspace history by type, record, who and time', async () => {
    const c = await t.http.post('/api/v1/controllers').set('authorization', await alice()).send({ name: 'HALTEA AB' })
    const from = new Date().toISOString()
    await pause()
    const a = await t.http.post('/api/v1/processing-activities').set('authorization', await bob())
      .send({ name: 'Bokning', role: 'controller', controllerId: c.body.id })
    await t.http.patch(`/api/v1/processing-activities/${a.body.id}`).set('authorization', await alice()).send({ status: 'active' })
    const q = async (query: string) => (await t.http.get(`/api/v1/history?${query}`).set('authorization', await t.auth('reader'))).body
    const forActivity = await q(`recordType=processing-activity&recordId=${a.body.id}`)
    expect(forActivity.items.map((e: any) => [e.operation, e.actor, e.state.status])).to.deep.equal([['create', 'bob', 'draft'], ['update', 'alice', 'active']])
    const byBob = await q(`actor=bob&from=${encodeURIComponent(from)}`)
    expect(byBob.items.map((e: any) => e.recordId)).to.deep.equal([a.body.id])
    const beforeFrom = await q(`to=${encodeURIComponent(from)}&recordType=controller&recordId=${c.body.id}`)
    expect(beforeFrom.total).to.equal(1)
    const bad = await t.http.get('/api/v1/history?from=yesterday').set('authorization', await t.auth('reader'))
    expect(bad.status).to.equal(400)
    expect(bad.body.details[0].field).to.equal('from')
  })

  it('holds the catalogue fill as changes made by the system', async () => {
    const res = await t.http.get('/api/v1/history?recordType=legal-basis&actor=system&limit=500').set('authorization', await t.auth('reader'))
    expect(res.body.items.map((e: any) => e.state.code)).to.include.members(['A6-1-a', 'A9-2-h', 'SE-BFL-7-2'])
  })

  it('is append-only: the API offers no way to change it, and the database refuses to', async () => {
    for (const method of ['put', 'patch', 'delete', 'post'] as const) {
      const res = await t.http[method]('/api/v1/history').set('authorization', await admin()).send({})
      expect(res.status, method).to.be.oneOf([404, 405])
    }
    const ds = t.app.db.dataSource
    let updateRefused = false
    let deleteRefused = false
    try { await ds.query("UPDATE history SET actor = 'mallory'") } catch { updateRefused = true }
    try { await ds.query('DELETE FROM history') } catch { deleteRefused = true }
    expect(updateRefused && deleteRefused).to.equal(true)
    const res = await t.http.get('/api/v1/history?actor=mallory').set('authorization', await t.auth('reader'))
    expect(res.body.total).to.equal(0)
  })

  it('answers 404 for the history of a record that never existed', async () => {
    const res = await t.http.get('/api/v1/purposes/00000000-0000-4000-8000-000000000099/history').set('authorization', await t.auth('reader'))
    expect(res.status).to.equal(404)
  })
})

describe('the register as it stood, and what changed', () => {
  let t: TestApp
  let editor: string
  before(async () => {
    t = await buildTestApp()
    editor = await t.auth('editor', 'test', 'alice')
  })
  after(async () => t.close())

  async function post(path: string, body: object): Promise<any> {
    const res = await t.http.post(`/api/v1/${path}`).set('authorization', editor).send(body)
    expect(res.status, JSON.stringify(res.body)).to.equal(201)
    return res.body
  }

  const exportAt = async (query: string) => {
    const res = await t.http.get(`/api/v1/register/export?${query}`).set('authorization', await t.auth('reader')).buffer(true)
    expect(res.status, res.text).to.equal(200)
    return res
  }

  it('exports the register as of a past moment exactly as it was exported then, in JSON and CSV', async () => {
    const c = await post('controllers', { name: 'Wellnesskliniken i Östersund AB', email: 'info@wellnesskliniken.se' })
    const p = await post('purposes', { name: 'Boka behandlingar' })
    const dc = await post('data-categories', { name: 'Foton av huden', classification: 'special', specialCategory: 'health' })
    const r = await post('retention-rules', { name: 'Kunduppgifter', period: 'P36M', trigger: 'efter senaste besöket' })
    const lb = (await t.http.get('/api/v1/legal-bases?code=A6-1-b').set('authorization', editor)).body.items[0]
    const kept = await post('processing-activities', {
      name: 'Journal', role: 'controller', controllerId: c.id, purposes: [{ purposeId: p.id, legalBasisIds: [lb.id] }],
      dataCategoryIds: [dc.id], retention: [{ retentionRuleId: r.id, dataCategoryIds: [dc.id] }], status: 'active',
    })
    const removed = await post('processing-activities', { name: 'Nyhetsbrev', role: 'controller', controllerId: c.id })
    await pause()
    const then = new Date().toISOString()
    const jsonThen = JSON.parse((await exportAt('format=json')).text)
    const csvThen = (await exportAt('format=csv&lang=sv')).text
    await pause()

    // later: a rename, a changed activity, a deletion, an addition
    await t.http.patch(`/api/v1/purposes/${p.id}`).set('authorization', editor).send({ name: 'Boka och genomföra behandlingar' }).expect(200)
    await t.http.patch(`/api/v1/processing-activities/${kept.id}`).set('authorization', editor).send({ status: 'retired', dpia: { required: true, status: 'planned' } }).expect(200)
    await t.http.delete(`/api/v1/processing-activities/${removed.id}`).set('authorization', editor).expect(204)
    const added = await post('processing-activities', { name: 'Webbstatistik', role: 'controller', controllerId: c.id })

    const jsonNow = JSON.parse((await exportAt('format=json')).text)
    expect(jsonNow.processingActivities.map((a: any) => a.name)).to.have.members(['Journal', 'Webbstatistik'])

    const jsonAsOf = JSON.parse((await exportAt(`format=json&asOf=${encodeURIComponent(then)}`)).text)
    expect(jsonAsOf.filters.asOf).to.equal(then)
    const strip = (doc: any) => ({ ...doc, generatedAt: null, filters: { ...doc.filters, asOf: null } })
    expect(strip(jsonAsOf)).to.deep.equal(strip(jsonThen))
    const csvAsOf = (await exportAt(`format=csv&lang=sv&asOf=${encodeURIComponent(then)}`)).text
    expect(csvAsOf).to.equal(csvThen)

    // and what changed since then, field by field
    const changes = (await t.http.get(`/api/v1/register/changes?since=${encodeURIComponent(then)}`).set('authorization', await t.auth('reader'))).body
    expect(changes.added.map((a: any) => a.id)).to.deep.equal([added.id])
    expect(changes.removed.map((a: any) => [a.id, a.name])).to.deep.equal([[removed.id, 'Nyhetsbrev']])
    expect(changes.changed).to.have.length(1)
    expect(changes.changed[0]).to.include({ id: kept.id, actor: 'alice' })
    const fields = Object.fromEntries(changes.changed[0].fields.map((f: any) => [f.field, [f.before, f.after]]))
    expect(fields.status).to.deep.equal(['active', 'retired'])
    expect(fields.dpia).to.deep.equal([null, { required: true, status: 'planned', reference: null, justification: null, dpoAdvice: null, decidedBy: null, decidedAt: null }])
    expect(Object.keys(fields)).to.not.include('version')

    const none = (await t.http.get(`/api/v1/register/changes?since=${encodeURIComponent(then)}&until=${encodeURIComponent(then)}`).set('authorization', await t.auth('reader'))).body
    expect(none).to.deep.include({ added: [], changed: [], removed: [] })
    const backwards = await t.http.get(`/api/v1/register/changes?since=${encodeURIComponent(new Date().toISOString())}&until=${encodeURIComponent(then)}`).set('authorization', await t.auth('reader'))
    expect(backwards.status).to.equal(400)
  })

  it('shows an empty register before anything was written', async () => {
    const doc = JSON.parse((await exportAt('format=json&asOf=2000-01-01T00:00:00Z')).text)
    expect(doc.processingActivities).to.deep.equal([])
    expect(doc.controllers).to.deep.equal([])
  })
})

describe('reviews', () => {
  let t: TestApp
  before(async () => { t = await buildTestApp() })
  after(async () => t.close())

  it('lists activities never reviewed or overdue, and marking one reviewed records who and when', async () => {
    const editor = await t.auth('editor', 'test', 'dpo@klinik.se')
    const c = (await t.http.post('/api/v1/controllers').set('authorization', editor).send({ name: 'Klinik AB' })).body
    const mk = async (name: string, extra: object) => (await t.http.post('/api/v1/processing-activities').set('authorization', editor)
      .send({ name, role: 'controller', controllerId: c.id, ...extra })).body
    const never = await mk('Aldrig granskad', {})
    const overdue = await mk('Försenad', { lastReviewedAt: '2024-01-10', nextReviewAt: '2025-01-10' })
    const fine = await mk('I tid', { lastReviewedAt: '2026-01-10', nextReviewAt: '2099-01-10' })
    await mk('Avslutad', { status: 'retired' })

    const due = (await t.http.get('/api/v1/register/reviews-due').set('authorization', await t.auth('reader'))).body
    const reasons = Object.fromEntries(due.items.map((i: any) => [i.activity.name, i.reason]))
    expect(reasons).to.deep.equal({ 'Aldrig granskad': 'never-reviewed', 'Försenad': 'overdue' })
    expect(due.items[0].controller.name).to.equal('Klinik AB')

    const reviewed = await t.http.post(`/api/v1/processing-activities/${overdue.id}/review`).set('authorization', editor).send({ nextReviewAt: '2099-06-30' })
    expect(reviewed.status, JSON.stringify(reviewed.body)).to.equal(200)
    const today = new Date().toLocaleDateString('sv-SE', { timeZone: 'Europe/Stockholm' }) // the register's time zone
    expect(reviewed.body).to.include({ lastReviewedAt: today, lastReviewedBy: 'dpo@klinik.se', nextReviewAt: '2099-06-30' })
    const byDefault = await t.http.post(`/api/v1/processing-activities/${never.id}/review`).set('authorization', editor)
    expect(byDefault.status).to.equal(200)
    expect(byDefault.body.nextReviewAt).to.equal(`${Number(today.slice(0, 4)) + 1}${today.slice(4)}`)
    const history = (await t.http.get(`/api/v1/processing-activities/${overdue.id}/history`).set('authorization', await t.auth('reader'))).body
    expect(history.items.at(-1)).to.include({ operation: 'update', actor: 'dpo@klinik.se' })

    const after = (await t.http.get('/api/v1/register/reviews-due').set('authorization', await t.auth('reader'))).body
    expect(after.total).to.equal(0)
    expect(fine.nextReviewAt).to.equal('2099-01-10')

    const past = await t.http.post(`/api/v1/processing-activities/${fine.id}/review`).set('authorization', editor).send({ nextReviewAt: '2020-01-01' })
    expect(past.status).to.equal(400)
    expect(past.body.details[0].field).to.equal('nextReviewAt')
    const reader = await t.http.post(`/api/v1/processing-activities/${fine.id}/review`).set('authorization', await t.auth('reader'))
    expect(reader.status).to.equal(403)
  })
})
