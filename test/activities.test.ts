import { expect } from 'chai'
import { buildTestApp, TestApp } from './helper'

/** A processing activity is the register's record: every reference resolved, integrity both ways. */
describe('processing activities', () => {
  let t: TestApp
  let editor: string
  const ids: Record<string, string> = {}

  async function create(path: string, body: object, auth = editor): Promise<any> {
    const res = await t.http.post(`/api/v1/${path}`).set('authorization', auth).send(body)
    expect(res.status, `${path}: ${JSON.stringify(res.body)}`).to.equal(201)
    return res.body
  }

  async function legalBasis(code: string): Promise<string> {
    const res = await t.http.get(`/api/v1/legal-bases?code=${code}`).set('authorization', editor)
    return res.body.items[0].id
  }

  function fullActivity(): Record<string, unknown> {
    return {
      name: 'Försäljning av upplevelser',
      description: 'Beställning, betalning och leverans av presentkort',
      role: 'controller',
      controllerId: ids.controller,
      jointControllerIds: [ids.joint],
      purposes: [
        { purposeId: ids.contract, legalBasisIds: [ids.A6_1_b] },
        { purposeId: ids.marketing, legalBasisIds: [ids.A6_1_f], legitimateInterest: 'Direktmarknadsföring till befintliga kunder', liaReference: 'LIA-2026-01' },
      ],
      dataSubjectCategoryIds: [ids.customers],
      dataCategoryIds: [ids.name, ids.personnummer],
      recipientIds: [ids.organisers, ids.google],
      processorIds: [ids.klarna],
      transfers: [{ country: 'US', recipientId: ids.google, mechanism: 'A45-3', safeguards: 'EU–US Data Privacy Framework', documentation: 'https://www.dataprivacyframework.gov' }],
      retention: [{ retentionRuleId: ids.r36 }, { retentionRuleId: ids.r7y, dataCategoryIds: [ids.personnummer] }],
      securityMeasureIds: [ids.tls],
      dataSources: ['Webbformulär', 'Automatiskt insamlad enhetsinformation'],
      systems: ['Webbutik'],
      dpia: { required: false, status: 'not-required', reference: null, justification: null, dpoAdvice: null, decidedBy: null, decidedAt: null },
      automatedDecisionMaking: false,
      status: 'active',
      owner: 'Kundtjänst',
      lastReviewedAt: '2026-01-15',
      nextReviewAt: '2027-01-15',
    }
  }

  before(async () => {
    t = await buildTestApp()
    editor = await t.auth('editor')
    ids.controller = (await create('controllers', { name: 'HALTEA AB', email: 'info@minupplevelse.se' })).id
    ids.joint = (await create('controllers', { name: 'Hudateljén' })).id
    ids.client = (await create('controllers', { name: 'Kundföretaget AB' })).id
    ids.contract = (await create('purposes', { name: 'Fullgöra köpeavtal' })).id
    ids.marketing = (await create('purposes', { name: 'Marknadsföring' })).id
    ids.customers = (await create('data-subject-categories', { name: 'Kunder' })).id
    ids.name = (await create('data-categories', { name: 'Namn', classification: 'ordinary' })).id
    ids.personnummer = (await create('data-categories', { name: 'Personnummer', classification: 'national-id' })).id
    ids.organisers = (await create('recipients', { name: 'Arrangörer' })).id
    ids.google = (await create('recipients', { name: 'Google', country: 'US' })).id
    ids.klarna = (await create('processors', { name: 'Klarna Bank AB', dataProcessingAgreement: { reference: 'DPA-1' } })).id
    ids.r36 = (await create('retention-rules', { name: 'Kunduppgifter', period: 'P36M', trigger: 'efter senaste besöket' })).id
    ids.r7y = (await create('retention-rules', { name: 'Bokföringsunderlag', period: 'P7Y', legalReference: 'Bokföringslagen 7 kap. 2 §' })).id
    ids.tls = (await create('security-measures', { name: 'TLS', type: 'technical', category: 'encryption' })).id
    ids.A6_1_b = await legalBasis('A6-1-b')
    ids.A6_1_f = await legalBasis('A6-1-f')
  })
  after(async () => t.close())

  it('creates an activity and reads it back with every reference resolved', async () => {
    const created = await create('processing-activities', fullActivity())
    ids.activity = created.id
    const res = await t.http.get(`/api/v1/processing-activities/${created.id}`).set('authorization', await t.auth('reader'))
    expect(res.status).to.equal(200)
    const a = res.body
    expect(a).to.deep.equal(created)
    expect(a.controller).to.include({ id: ids.controller, name: 'HALTEA AB' })
    expect(a.jointControllers.map((c: any) => c.name)).to.deep.equal(['Hudateljén'])
    expect(a.purposes).to.have.length(2)
    expect(a.purposes[0].purpose.name).to.equal('Fullgöra köpeavtal')
    expect(a.purposes[0].legalBases[0]).to.include({ code: 'A6-1-b', name: 'Contract', nameSv: 'Avtal' })
    expect(a.purposes[1]).to.include({ legitimateInterest: 'Direktmarknadsföring till befintliga kunder', liaReference: 'LIA-2026-01' })
    expect(a.purposes[1].legalBases[0].code).to.equal('A6-1-f')
    expect(a.dataCategories.map((c: any) => [c.name, c.classification])).to.deep.equal([['Namn', 'ordinary'], ['Personnummer', 'national-id']])
    expect(a.recipients.map((r: any) => r.name)).to.deep.equal(['Arrangörer', 'Google'])
    expect(a.processors[0]).to.include({ id: ids.klarna, name: 'Klarna Bank AB' })
    expect(a.transfers[0]).to.deep.include({ country: 'US', safeguards: 'EU–US Data Privacy Framework' })
    expect(a.transfers[0].recipient).to.include({ name: 'Google', country: 'US' })
    expect(a.transfers[0].mechanism).to.include({ code: 'A45-3', name: 'Adequacy decision' })
    expect(a.retention[0].retentionRule).to.include({ name: 'Kunduppgifter', period: 'P36M', trigger: 'efter senaste besöket' })
    expect(a.retention[0].dataCategories).to.deep.equal([])
    expect(a.retention[1].dataCategories.map((c: any) => c.name)).to.deep.equal(['Personnummer'])
    expect(a.securityMeasures[0]).to.include({ name: 'TLS', type: 'technical', category: 'encryption' })
    expect(a).to.deep.include({
      dataSources: ['Webbformulär', 'Automatiskt insamlad enhetsinformation'], systems: ['Webbutik'],
      dpia: { required: false, status: 'not-required', reference: null, justification: null, dpoAdvice: null, decidedBy: null, decidedAt: null },
      automatedDecisionMaking: false, status: 'active', owner: 'Kundtjänst', lastReviewedAt: '2026-01-15', nextReviewAt: '2027-01-15',
    })
  })

  it('names every reference that does not exist, and stores nothing', async () => {
    const missing = '00000000-0000-4000-8000-000000000000'
    const body = { ...fullActivity(), processorIds: [ids.klarna, missing], purposes: [{ purposeId: ids.contract, legalBasisIds: [missing] }], controllerId: missing }
    const before = (await t.http.get('/api/v1/processing-activities').set('authorization', editor)).body.total
    const res = await t.http.post('/api/v1/processing-activities').set('authorization', editor).send(body)
    expect(res.status).to.equal(400)
    expect(res.body.details.map((d: any) => d.field)).to.have.members(['controllerId', 'processorIds[1]', 'purposes[0].legalBasisIds[0]'])
    expect(res.body.details[0].message).to.contain(missing)
    expect((await t.http.get('/api/v1/processing-activities').set('authorization', editor)).body.total).to.equal(before)
  })

  it('refuses references to another workspace\'s records as if they did not exist', async () => {
    const other = await t.auth('editor', 'other-ws')
    const foreign = (await create('processors', { name: 'Foreign processor' }, other)).id
    const res = await t.http.post('/api/v1/processing-activities').set('authorization', editor).send({ ...fullActivity(), processorIds: [foreign] })
    expect(res.status).to.equal(400)
    expect(res.body.details).to.deep.equal([{ field: 'processorIds[0]', message: `no processor with id ${foreign} in this workspace` }])
    const read = await t.http.get(`/api/v1/processing-activities/${ids.activity}`).set('authorization', other)
    expect(read.status).to.equal(404)
    const list = await t.http.get('/api/v1/processing-activities').set('authorization', other)
    expect(list.body.total).to.equal(0)
    const del = await t.http.delete(`/api/v1/processing-activities/${ids.activity}`).set('authorization', other)
    expect(del.status).to.equal(404)
  })

  it('refuses to delete what an activity references, with 409 listing the activity; nothing cascades', async () => {
    for (const [path, id] of [['processors', ids.klarna], ['controllers', ids.joint], ['data-categories', ids.personnummer], ['retention-rules', ids.r7y], ['recipients', ids.google], ['purposes', ids.marketing], ['security-measures', ids.tls], ['data-subject-categories', ids.customers]]) {
      const res = await t.http.delete(`/api/v1/${path}/${id}`).set('authorization', editor)
      expect(res.status, path).to.equal(409)
      expect(res.body.code).to.equal('still_referenced')
      expect(res.body.references).to.deep.include({ type: 'processing-activity', id: ids.activity, name: 'Försäljning av upplevelser' })
      expect((await t.http.get(`/api/v1/${path}/${id}`).set('authorization', editor)).status).to.equal(200)
    }
    const activity = await t.http.get(`/api/v1/processing-activities/${ids.activity}`).set('authorization', editor)
    expect(activity.body.processors).to.have.length(1)
  })

  it('lists a processor\'s sub-processors and refuses deleting a sub-processor in use', async () => {
    const sub = await create('processors', { name: 'Klarna hosting' })
    const upd = await t.http.patch(`/api/v1/processors/${ids.klarna}`).set('authorization', editor).send({ subProcessorIds: [sub.id] })
    expect(upd.status).to.equal(200)
    expect(upd.body.subProcessors).to.deep.equal([{ id: sub.id, name: 'Klarna hosting', organisationNumber: null, country: null }])
    const del = await t.http.delete(`/api/v1/processors/${sub.id}`).set('authorization', editor)
    expect(del.status).to.equal(409)
    expect(del.body.references).to.deep.equal([{ type: 'processor', id: ids.klarna, name: 'Klarna Bank AB' }])
    const self = await t.http.patch(`/api/v1/processors/${ids.klarna}`).set('authorization', editor).send({ subProcessorIds: [ids.klarna] })
    expect(self.status).to.equal(400)
    expect(self.body.details[0].field).to.equal('subProcessorIds[0]')
  })

  it('filters activities by controller, processor, data category, recipient, legal basis, status and role', async () => {
    const second = await create('processing-activities', { name: 'Nyhetsbrev', role: 'controller', controllerId: ids.joint, status: 'draft' })
    const q = async (query: string): Promise<string[]> => {
      const res = await t.http.get(`/api/v1/processing-activities?${query}`).set('authorization', editor)
      expect(res.status, query).to.equal(200)
      return res.body.items.map((i: any) => i.id)
    }
    expect(await q(`controllerId=${ids.controller}`)).to.deep.equal([ids.activity])
    expect(await q(`controllerId=${ids.joint}`)).to.deep.equal([second.id])
    expect(await q(`jointControllerId=${ids.joint}`)).to.deep.equal([ids.activity])
    expect(await q(`processorId=${ids.klarna}`)).to.deep.equal([ids.activity])
    expect(await q(`dataCategoryId=${ids.personnummer}`)).to.deep.equal([ids.activity])
    expect(await q(`recipientId=${ids.google}`)).to.deep.equal([ids.activity])
    expect(await q(`legalBasisId=${ids.A6_1_f}`)).to.deep.equal([ids.activity])
    expect(await q('transferCountry=US')).to.deep.equal([ids.activity])
    expect(await q('status=draft')).to.deep.equal([second.id])
    expect(await q('role=processor')).to.deep.equal([])
    expect(await q('q=nyhets')).to.deep.equal([second.id])
    expect(await q('sort=name')).to.deep.equal([ids.activity, second.id])
    await t.http.delete(`/api/v1/processing-activities/${second.id}`).set('authorization', editor).expect(204)
  })

  it('keeps an Art. 30(2) record: role processor names the controllers it acts for', async () => {
    const bad = await t.http.post('/api/v1/processing-activities').set('authorization', editor)
      .send({ name: 'Lönehantering åt kunder', role: 'processor', controllerId: ids.controller })
    expect(bad.status).to.equal(400)
    expect(bad.body.details[0].field).to.equal('onBehalfOfControllerIds')
    const ok = await create('processing-activities', { name: 'Lönehantering åt kunder', role: 'processor', controllerId: ids.controller, onBehalfOfControllerIds: [ids.client] })
    expect(ok.onBehalfOfControllers.map((c: any) => c.name)).to.deep.equal(['Kundföretaget AB'])
    const notForController = await t.http.patch(`/api/v1/processing-activities/${ok.id}`).set('authorization', editor).send({ role: 'controller' })
    expect(notForController.status).to.equal(400)
    await t.http.delete(`/api/v1/processing-activities/${ok.id}`).set('authorization', editor).expect(204)
  })

  it('checks the rules that tie fields together', async () => {
    const res = await t.http.post('/api/v1/processing-activities').set('authorization', editor).send({
      ...fullActivity(),
      jointControllerIds: [ids.controller],
      purposes: [{ purposeId: ids.contract }, { purposeId: ids.contract }],
      transfers: [{ country: 'US', recipientId: ids.google, processorId: ids.klarna }],
      retention: [{ retentionRuleId: ids.r7y, dataCategoryIds: [ids.organisers] }],
      automatedDecisionMaking: true,
    })
    expect(res.status).to.equal(400)
    expect(res.body.details.map((d: any) => d.field)).to.have.members([
      'jointControllerIds[0]', 'purposes[1].purposeId', 'transfers[0]', 'retention[0].dataCategoryIds[0]', 'automatedDecisionMakingDescription',
    ])
  })

  it('holds the gaps a register must show: a transfer without mechanism, a purpose without legal basis, no retention limit', async () => {
    const open = await create('retention-rules', { name: 'Så länge det är nödvändigt', period: null })
    const a = await create('processing-activities', {
      name: 'Webbstatistik', role: 'controller', controllerId: ids.controller,
      purposes: [{ purposeId: ids.marketing }],
      transfers: [{ country: 'US', recipientId: ids.google }],
      retention: [{ retentionRuleId: open.id }],
    })
    expect(a.transfers[0].mechanism).to.equal(null)
    expect(a.purposes[0].legalBases).to.deep.equal([])
    expect(a.retention[0].retentionRule.period).to.equal(null)
    await t.http.delete(`/api/v1/processing-activities/${a.id}`).set('authorization', editor).expect(204)
  })

  it('PATCH replaces only the lists it names and keeps the rest', async () => {
    const res = await t.http.patch(`/api/v1/processing-activities/${ids.activity}`).set('authorization', editor)
      .send({ recipientIds: [ids.organisers], transfers: [], status: 'retired' })
    expect(res.status, JSON.stringify(res.body)).to.equal(200)
    expect(res.body.recipients.map((r: any) => r.name)).to.deep.equal(['Arrangörer'])
    expect(res.body.transfers).to.deep.equal([])
    expect(res.body.status).to.equal('retired')
    expect(res.body.purposes).to.have.length(2)
    expect(res.body.retention).to.have.length(2)
    expect(res.body.processors).to.have.length(1)
    expect(res.body.version).to.equal(2)
  })

  it('honours If-Match: a stale version gets 412 and changes nothing', async () => {
    const current = await t.http.get(`/api/v1/processing-activities/${ids.activity}`).set('authorization', editor)
    const etag = current.headers.etag
    const stale = await t.http.patch(`/api/v1/processing-activities/${ids.activity}`).set('authorization', editor)
      .set('if-match', '"1"').send({ owner: 'Someone else' })
    expect(stale.status).to.equal(412)
    expect(stale.body.code).to.equal('precondition_failed')
    const fresh = await t.http.patch(`/api/v1/processing-activities/${ids.activity}`).set('authorization', editor)
      .set('if-match', etag).send({ owner: 'Ekonomi' })
    expect(fresh.status).to.equal(200)
    const staleDelete = await t.http.delete(`/api/v1/processing-activities/${ids.activity}`).set('authorization', editor).set('if-match', etag)
    expect(staleDelete.status).to.equal(412)
    const after = await t.http.get(`/api/v1/processing-activities/${ids.activity}`).set('authorization', editor)
    expect(after.body.owner).to.equal('Ekonomi')
  })

  it('deletes an activity with its own lists, then lets its references go', async () => {
    await t.http.delete(`/api/v1/processing-activities/${ids.activity}`).set('authorization', editor).expect(204)
    await t.http.delete(`/api/v1/security-measures/${ids.tls}`).set('authorization', editor).expect(204)
    await t.http.delete(`/api/v1/data-categories/${ids.personnummer}`).set('authorization', editor).expect(204)
  })
})
