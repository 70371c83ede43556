import { expect } from 'chai'
import { buildTestApp, TestApp } from './helper'
import { catalogueId } from '../src/register/records/catalogue'
import { DEMO, demoId, loadDemo } from '../src/register/demo/demo'
import { RULES } from '../src/register/review/findings'
import { WALK_PAGE_SIZE } from '../src/register/records/walk'

type Body = Record<string, any>

/** The register's accountability checks: each rule fires on a register that breaks it, and only then. */
describe('register findings', () => {
  let t: TestApp
  let workspaces = 0
  const freshWorkspace = (): string => `findings-${++workspaces}`
  const basis = catalogueId

  before(async () => { t = await buildTestApp() })
  after(async () => t.close())

  async function create(ws: string, path: string, body: Body): Promise<string> {
    const res = await t.http.post(`/api/v1/${path}`).set('authorization', await t.auth('admin', ws)).send(body)
    expect(res.status, `${path}: ${JSON.stringify(res.body)}`).to.equal(201)
    return res.body.id
  }

  async function findings(ws: string, query = ''): Promise<any> {
    const res = await t.http.get(`/api/v1/register/findings${query}`).set('authorization', await t.auth('reader', ws))
    expect(res.status, JSON.stringify(res.body)).to.equal(200)
    return res.body
  }

  const rulesOf = (list: any): string[] => [...new Set<string>(list.items.map((f: any) => f.rule))].sort()

  interface Changes {
    controller?(b: Body): void
    jointController?(b: Body): void
    processor?(b: Body): void
    health?(b: Body): void
    patients?(b: Body): void
    retentionRule?(b: Body): void
    activity?(b: Body, ids: Record<string, string>): void
  }

  /**
   * A register that satisfies every rule: a clinic's activity with health, criminal-offence and
   * personnummer data, three kinds of legal basis, an adequacy transfer and a documented
   * Art. 49(1) second-subparagraph transfer, a processor with an agreement, a fixed retention,
   * security measures, a DPIA decision and a recent review. `changes` break it one way at a time.
   */
  async function build(ws: string, changes: Changes = {}): Promise<Record<string, string>> {
    const body = (b: Body, change?: (b: Body) => void): Body => {
      change?.(b)
      return b
    }
    const ids: Record<string, string> = {}
    ids.controller = await create(ws, 'controllers', body({
      name: 'Kliniken AB', email: 'info@kliniken.se', address: 'Storgatan 1, 831 30 Östersund',
      dataProtectionOfficer: { name: 'Dataskyddsombudet', email: 'dso@kliniken.se' },
    }, changes.controller))
    ids.joint = await create(ws, 'controllers', body({
      name: 'Hudateljén', phone: '063-512545', dataProtectionOfficer: { email: 'dso@hudateljen.se' },
    }, changes.jointController))
    ids.processor = await create(ws, 'processors', body({
      name: 'Journalsystem AB', country: 'IN', dataProcessingAgreement: { signedAt: '2025-01-10', reference: 'PUB-7' },
    }, changes.processor))
    ids.care = await create(ws, 'purposes', { name: 'Vård och behandling' })
    ids.fraud = await create(ws, 'purposes', { name: 'Förhindra bedrägeri' })
    ids.newsletter = await create(ws, 'purposes', { name: 'Nyhetsbrev' })
    ids.analytics = await create(ws, 'purposes', { name: 'Besöksstatistik' })
    ids.patients = await create(ws, 'data-subject-categories', body({ name: 'Patienter' }, changes.patients))
    ids.name = await create(ws, 'data-categories', { name: 'Namn', classification: 'ordinary' })
    ids.health = await create(ws, 'data-categories', body({ name: 'Journalanteckningar', classification: 'special', specialCategory: 'health' }, changes.health))
    ids.criminal = await create(ws, 'data-categories', { name: 'Misstänkta bedrägerier', classification: 'criminal' })
    ids.personnummer = await create(ws, 'data-categories', { name: 'Personnummer', classification: 'national-id' })
    ids.us = await create(ws, 'recipients', { name: 'Molnleverantör', country: 'US' })
    ids.de = await create(ws, 'recipients', { name: 'Laboratorium', country: 'DE' })
    ids.local = await create(ws, 'recipients', { name: 'Försäkringsbolag' })
    ids.tenYears = await create(ws, 'retention-rules', body({
      name: 'Patientjournal', period: 'P10Y', trigger: 'efter sista anteckningen', legalReference: 'Patientdatalagen (2008:355) 3 kap. 17 §',
    }, changes.retentionRule))
    ids.encryption = await create(ws, 'security-measures', { name: 'Kryptering', type: 'technical', category: 'encryption' })
    const activity = {
      name: 'Patientvård', role: 'controller', status: 'active', controllerId: ids.controller, jointControllerIds: [ids.joint],
      purposes: [
        { purposeId: ids.care, legalBasisIds: [basis('A6-1-b'), basis('A9-2-h')] },
        { purposeId: ids.fraud, legalBasisIds: [basis('A6-1-f'), basis('A10')], legitimateInterest: 'Skydda kliniken mot bedrägerier', liaReference: 'LIA-2025-02' },
        { purposeId: ids.newsletter, legalBasisIds: [basis('A6-1-a')], consentWithdrawal: 'Avregistreringslänken i varje nyhetsbrev' },
      ],
      dataSubjectCategoryIds: [ids.patients],
      dataCategoryIds: [ids.name, ids.health, ids.criminal, ids.personnummer],
      nationalIdJustification: 'Säker identifiering av patienter (dataskyddslagen 3 kap. 10 §)',
      recipientIds: [ids.us, ids.de, ids.local],
      processorIds: [ids.processor],
      transfers: [
        { country: 'US', recipientId: ids.us, mechanism: 'A45-3', safeguards: 'EU–US Data Privacy Framework' },
        { country: 'IN', processorId: ids.processor, mechanism: 'A49-1-second-subparagraph', safeguards: 'Kryptering i vila och under överföring', documentation: 'Bedömning DOC-49-1' },
      ],
      retention: [{ retentionRuleId: ids.tenYears }],
      securityMeasureIds: [ids.encryption],
      dpia: { required: true, status: 'completed', reference: 'DPIA-2025-01' },
      automatedDecisionMaking: true,
      automatedDecisionMakingDescription: 'Riskbedömning av bokningar',
      lastReviewedAt: '2025-06-01',
      nextReviewAt: '2999-12-31',
    }
    changes.activity?.(activity, ids)
    ids.activity = await create(ws, 'processing-activities', activity)
    return ids
  }

  /** Builds a register broken by `changes` and returns its findings. */
  async function broken(changes: Changes): Promise<any> {
    const ws = freshWorkspace()
    const ids = await build(ws, changes)
    return { ...(await findings(ws)), ids }
  }

  it('finds nothing at all in a register that satisfies every rule', async () => {
    const ws = freshWorkspace()
    await build(ws)
    expect(await findings(ws)).to.deep.equal({ items: [], total: 0, limit: 500, offset: 0, counts: { high: 0, medium: 0, low: 0 } })
  })

  it('1: a purpose without a legal basis (Art. 6(1))', async () => {
    const found = await broken({ activity: (a, ids) => a.purposes.push({ purposeId: ids.analytics, legalBasisIds: [] }) })
    expect(rulesOf(found)).to.deep.equal(['purpose-without-legal-basis'])
    expect(found.items).to.have.length(1)
    expect(found.items[0]).to.deep.include({
      severity: 'high', article: 'Art. 6(1); Art. 5(1)(a)', field: 'purposes[3].legalBases',
      record: { type: 'processing-activity', id: found.ids.activity, name: 'Patientvård' },
    })
    expect(found.items[0].message.en).to.contain('"Besöksstatistik"').and.contain('no legal basis')
    expect(found.items[0].message.sv).to.contain('”Besöksstatistik”').and.contain('saknar rättslig grund')
  })

  it('1: a purpose resting only on national law or an Art. 9 condition, without an Art. 6(1) basis', async () => {
    const found = await broken({ activity: (a, ids) => a.purposes.push({ purposeId: ids.analytics, legalBasisIds: [basis('SE-BFL-7-2')] }) })
    expect(rulesOf(found)).to.deep.equal(['purpose-without-article-6-basis'])
    expect(found.items[0].message.en).to.contain('SE-BFL-7-2')
  })

  it('2: special-category data without an Art. 9(2) condition on any purpose', async () => {
    const found = await broken({ activity: (a) => { a.purposes[0].legalBasisIds = [basis('A6-1-b')] } })
    expect(rulesOf(found)).to.deep.equal(['special-category-without-condition'])
    expect(found.items[0]).to.deep.include({ severity: 'high', article: 'Art. 9(2)', field: 'dataCategories[1]' })
    expect(found.items[0].message.en).to.contain('"Journalanteckningar" (health)')
    expect(found.items[0].message.sv).to.contain('”Journalanteckningar” (hälsa)')
  })

  it('2: a special category whose kind is not stated is its own finding, on the data category', async () => {
    const found = await broken({ health: (d) => { d.specialCategory = 'unspecified' } })
    expect(rulesOf(found)).to.deep.equal(['special-category-unspecified'])
    expect(found.items[0]).to.deep.include({
      severity: 'medium', field: 'specialCategory', record: { type: 'data-category', id: found.ids.health, name: 'Journalanteckningar' },
    })
    expect(found.items[0].message.en).to.contain('"Patientvård"')
  })

  it('3: criminal-offence data without an Art. 10 basis', async () => {
    const found = await broken({ activity: (a) => { a.purposes[1].legalBasisIds = [basis('A6-1-f')] } })
    expect(rulesOf(found)).to.deep.equal(['criminal-data-without-basis'])
    expect(found.items[0]).to.deep.include({ severity: 'high', article: 'Art. 10', field: 'dataCategories[2]' })
    expect(found.items[0].message.sv).to.contain('”Misstänkta bedrägerier”')
  })

  it('4: personnummer without a justification, and none when SE-DSL-3-10 is given instead', async () => {
    const found = await broken({ activity: (a) => { a.nationalIdJustification = null } })
    expect(rulesOf(found)).to.deep.equal(['national-id-without-justification'])
    expect(found.items[0]).to.deep.include({ severity: 'medium', field: 'nationalIdJustification' })
    expect(found.items[0].message.sv).to.contain('Personnummer').and.contain('3 kap. 10 §')

    const justifiedByLaw = await broken({
      activity: (a) => {
        a.nationalIdJustification = null
        a.purposes[0].legalBasisIds.push(basis('SE-DSL-3-10'))
      },
    })
    expect(justifiedByLaw.items).to.deep.equal([])
  })

  it('5: a transfer to a third country without a mechanism; EEA countries are not third countries', async () => {
    const found = await broken({ activity: (a) => { a.transfers[0].mechanism = null } })
    expect(rulesOf(found)).to.deep.equal(['transfer-without-mechanism'])
    expect(found.items[0]).to.deep.include({ severity: 'high', article: 'Art. 44–49; Art. 30(1)(e)', field: 'transfers[0].mechanism' })
    expect(found.items[0].message.en).to.contain('United States of America (US)').and.contain('"Molnleverantör"')
    expect(found.items[0].message.sv).to.contain('USA (US)')

    const inEea = await broken({ activity: (a, ids) => a.transfers.push({ country: 'NO', recipientId: ids.de, mechanism: null }, { country: 'DE', mechanism: null }) })
    expect(inEea.items).to.deep.equal([])
  })

  it('6: an Art. 49(1) second-subparagraph transfer without documented safeguards', async () => {
    const undocumented = await broken({ activity: (a) => { a.transfers[1].documentation = null } })
    expect(rulesOf(undocumented)).to.deep.equal(['exceptional-transfer-without-safeguards'])
    expect(undocumented.items[0]).to.deep.include({ severity: 'high', field: 'transfers[1].documentation' })
    expect(undocumented.items[0].message.en).to.contain('India (IN)').and.contain('not documented')

    const bare = await broken({ activity: (a) => { a.transfers[1].safeguards = null; a.transfers[1].documentation = null } })
    expect(bare.items.map((f: any) => [f.rule, f.field])).to.deep.equal([['exceptional-transfer-without-safeguards', 'transfers[1].safeguards']])
    expect(bare.items[0].message.sv).to.contain('varken beskrivna eller dokumenterade')
  })

  it('7: a processor without a data processing agreement, naming the activities that use it', async () => {
    const found = await broken({ processor: (p) => { p.dataProcessingAgreement = null } })
    expect(rulesOf(found)).to.deep.equal(['processor-without-agreement'])
    expect(found.items[0]).to.deep.include({
      severity: 'high', article: 'Art. 28(3)', field: 'dataProcessingAgreement',
      record: { type: 'processor', id: found.ids.processor, name: 'Journalsystem AB' },
    })
    expect(found.items[0].message.en).to.contain('"Patientvård"')
  })

  it('8: an activity without retention, a data category left uncovered, and a rule without a fixed limit', async () => {
    const none = await broken({ activity: (a) => { a.retention = [] } })
    expect(none.items.map((f: any) => [f.rule, f.severity, f.field])).to.deep.equal([['retention-missing', 'medium', 'retention']])

    const partly = await broken({ activity: (a, ids) => { a.retention = [{ retentionRuleId: ids.tenYears, dataCategoryIds: [ids.health, ids.personnummer] }] } })
    expect(partly.items.map((f: any) => [f.rule, f.field])).to.deep.equal([['retention-missing', 'dataCategories[0]'], ['retention-missing', 'dataCategories[2]']])
    expect(partly.items[0].message.sv).to.contain('”Namn”')

    const noLimit = await broken({ retentionRule: (r) => { r.period = null; r.trigger = null } })
    expect(noLimit.items.map((f: any) => [f.rule, f.severity, f.field])).to.deep.equal([['retention-without-limit', 'low', 'retention[0].retentionRule']])
    expect(noLimit.items[0].message.en).to.contain('"Patientjournal"')
  })

  it('9: legitimate interests without the interest stated, or without an LIA reference', async () => {
    const unstated = await broken({ activity: (a) => { a.purposes[1].legitimateInterest = null } })
    expect(unstated.items.map((f: any) => [f.rule, f.field])).to.deep.equal([['legitimate-interest-not-stated', 'purposes[1].legitimateInterest']])
    const noLia = await broken({ activity: (a) => { a.purposes[1].liaReference = null } })
    expect(noLia.items.map((f: any) => [f.rule, f.severity, f.field])).to.deep.equal([['legitimate-interest-without-assessment', 'low', 'purposes[1].liaReference']])
    expect(noLia.items[0].message.en).to.contain('"Förhindra bedrägeri"')
  })

  it('10: consent (Art. 6(1)(a) or 9(2)(a)) without a way to withdraw it', async () => {
    const found = await broken({ activity: (a) => { a.purposes[2].consentWithdrawal = null } })
    expect(found.items.map((f: any) => [f.rule, f.field])).to.deep.equal([['consent-without-withdrawal', 'purposes[2].consentWithdrawal']])
    expect(found.items[0].article).to.equal('Art. 7(3)')

    const explicit = await broken({ activity: (a) => { a.purposes[0].legalBasisIds = [basis('A6-1-a'), basis('A9-2-a')] } })
    expect(explicit.items.map((f: any) => f.rule)).to.deep.equal(['consent-without-withdrawal'])
    expect(explicit.items[0].message.en).to.contain('A6-1-a, A9-2-a')
  })

  it('11: a DPIA screening of "required" with no DPIA decided (high), or an undetermined one (low)', async () => {
    // the facts unanswered: health data alone is one criterion (WP248-4), so the screening cannot decide
    const silent = await broken({ activity: (a) => { a.dpia = null } })
    expect(silent.items.map((f: any) => [f.rule, f.severity, f.field])).to.deep.equal([['dpia-screening-undetermined', 'low', 'riskFactors.evaluationOrScoring']])
    expect(silent.items[0].message.en).to.contain('processing on a large scale').and.contain('whether the data subjects are vulnerable')

    // patients answered vulnerable: WP248-4 and WP248-7, two criteria (IMY's list)
    const required = await broken({ patients: (c) => { c.vulnerable = true }, activity: (a) => { a.dpia = null } })
    expect(required.items.map((f: any) => [f.rule, f.severity, f.field])).to.deep.equal([['dpia-screening-required', 'high', 'dpia']])
    expect(required.items[0].message.en).to.contain('vulnerable data subjects (WP248-7)').and.contain('(WP248-4)')
    expect(required.items[0].message.sv).to.contain('sårbara registrerade (WP248-7)')

    // undecided, with a DPIA only planned: the plan is a DPIA in progress
    const planned = await broken({ patients: (c) => { c.vulnerable = true }, activity: (a) => { a.dpia = { required: null, status: 'planned' } } })
    expect(planned.items).to.deep.equal([])
    const undecided = await broken({ patients: (c) => { c.vulnerable = true }, activity: (a) => { a.dpia = { required: null, reference: 'DPIA-2026-03' } } })
    expect(undecided.items.map((f: any) => [f.rule, f.field])).to.deep.equal([['dpia-screening-required', 'dpia.required']])
    // decided "not required" with its justification: the people's decision stands
    const justified = await broken({ patients: (c) => { c.vulnerable = true }, activity: (a) => { a.dpia = { required: false, justification: 'Bedömt med dataskyddsombudet 2026-11-02' } } })
    expect(justified.items).to.deep.equal([])
  })

  it('12: a controller or joint controller without contact details, or without a DPO (low)', async () => {
    const noContact = await broken({ controller: (c) => { c.email = null; c.address = null } })
    expect(noContact.items.map((f: any) => [f.rule, f.severity, f.record.type, f.record.name])).to.deep.equal([
      ['controller-without-contact', 'high', 'controller', 'Kliniken AB'],
    ])
    const noDpo = await broken({ jointController: (c) => { c.dataProtectionOfficer = null } })
    expect(noDpo.items.map((f: any) => [f.rule, f.severity, f.record.name, f.field])).to.deep.equal([
      ['controller-without-dpo', 'low', 'Hudateljén', 'dataProtectionOfficer'],
    ])
    expect(noDpo.items[0].article).to.equal('Art. 37; Art. 30(1)(a)')
  })

  it('13: an overdue review, and an activity never reviewed', async () => {
    const overdue = await broken({ activity: (a) => { a.nextReviewAt = '2001-01-31' } })
    expect(overdue.items.map((f: any) => [f.rule, f.severity, f.field])).to.deep.equal([['review-overdue', 'medium', 'nextReviewAt']])
    expect(overdue.items[0].message.en).to.contain('2001-01-31')
    const never = await broken({ activity: (a) => { a.lastReviewedAt = null } })
    expect(never.items.map((f: any) => [f.rule, f.severity, f.field])).to.deep.equal([['never-reviewed', 'low', 'lastReviewedAt']])
  })

  it('14: a recipient in a third country with no transfer to that country', async () => {
    const found = await broken({ activity: (a) => { a.transfers.shift() } })
    expect(found.items.map((f: any) => [f.rule, f.field])).to.deep.equal([['third-country-recipient-without-transfer', 'recipients[0]']])
    expect(found.items[0].message.sv).to.contain('”Molnleverantör”').and.contain('USA (US)')
  })

  it('15: an activity without security measures', async () => {
    const found = await broken({ activity: (a) => { a.securityMeasureIds = [] } })
    expect(found.items.map((f: any) => [f.rule, f.severity, f.article])).to.deep.equal([['activity-without-security-measures', 'medium', 'Art. 30(1)(g); Art. 32']])
  })

  it('does not check retired activities, nor the processors only they use', async () => {
    const found = await broken({
      processor: (p) => { p.dataProcessingAgreement = null },
      activity: (a, ids) => Object.assign(a, {
        status: 'retired', purposes: [{ purposeId: ids.analytics }], retention: [], securityMeasureIds: [], transfers: [], dpia: null, lastReviewedAt: null,
      }),
    })
    expect(found.items).to.deep.equal([])
  })

  it('holds an Art. 30(2) processor record only to what such a record contains', async () => {
    const ws = freshWorkspace()
    const ids = await build(ws)
    await create(ws, 'processing-activities', {
      name: 'Lönehantering åt kund', role: 'processor', status: 'draft', controllerId: ids.controller, onBehalfOfControllerIds: [ids.joint],
      dataCategoryIds: [ids.health, ids.personnummer], lastReviewedAt: '2025-06-01',
    })
    const found = await findings(ws)
    // no purposes, legal bases, retention or DPIA asked of it; security measures are (Art. 30(2)(d))
    expect(found.items.map((f: any) => [f.rule, f.record.name])).to.deep.equal([['activity-without-security-measures', 'Lönehantering åt kund']])
  })

  it('lists findings most severe first, counts them, and filters by severity, rule and controller', async () => {
    const ws = freshWorkspace()
    const ids = await build(ws, {
      activity: (a, i) => {
        a.purposes.push({ purposeId: i.analytics })
        a.lastReviewedAt = null
        a.securityMeasureIds = []
      },
    })
    const other = await create(ws, 'controllers', { name: 'Annan AB', email: 'info@annan.se', dataProtectionOfficer: { email: 'dso@annan.se' } })
    await create(ws, 'processing-activities', {
      name: 'Annans behandling', role: 'controller', status: 'draft', controllerId: other, purposes: [{ purposeId: ids.care }],
      retention: [{ retentionRuleId: ids.tenYears }], securityMeasureIds: [ids.encryption], lastReviewedAt: '2025-06-01',
    })

    const all = await findings(ws)
    expect(all.items.map((f: any) => [f.rule, f.record.name])).to.deep.equal([
      ['purpose-without-legal-basis', 'Annans behandling'],
      ['purpose-without-legal-basis', 'Patientvård'],
      ['activity-without-security-measures', 'Patientvård'],
      ['dpia-screening-undetermined', 'Annans behandling'],
      ['never-reviewed', 'Patientvård'],
    ])
    expect(all.total).to.equal(5)
    expect(all.counts).to.deep.equal({ high: 2, medium: 1, low: 2 })

    const high = await findings(ws, '?severity=high')
    expect(high.items.map((f: any) => f.severity)).to.deep.equal(['high', 'high'])
    expect(high.counts).to.deep.equal({ high: 2, medium: 0, low: 0 })

    const rule = await findings(ws, '?rule=never-reviewed')
    expect(rule.items.map((f: any) => f.rule)).to.deep.equal(['never-reviewed'])

    const annan = await findings(ws, `?controllerId=${other}`)
    expect(annan.items.map((f: any) => [f.rule, f.record.name])).to.deep.equal([['purpose-without-legal-basis', 'Annans behandling'], ['dpia-screening-undetermined', 'Annans behandling']])
    const klinik = await findings(ws, `?controllerId=${ids.controller}&severity=high`)
    expect(klinik.items.map((f: any) => f.record.name)).to.deep.equal(['Patientvård'])
    // a joint controller sees the activities it shares
    const joint = await findings(ws, `?controllerId=${ids.joint}`)
    expect(joint.total).to.equal(3)
  })

  it('answers 400 naming the parameter for a bad filter, and 401 without a token', async () => {
    const ws = freshWorkspace()
    const cases: [string, string][] = [
      ['?severity=critical', 'severity'],
      ['?rule=no-such-rule', 'rule'],
      ['?controllerId=not-a-uuid', 'controllerId'],
      [`?controllerId=${demoId('nobody')}`, 'controllerId'],
      ['?lang=sv', 'lang'],
    ]
    for (const [query, field] of cases) {
      const res = await t.http.get(`/api/v1/register/findings${query}`).set('authorization', await t.auth('reader', ws))
      expect(res.status, query).to.equal(400)
      expect(res.body.code).to.equal('validation_failed')
      expect(res.body.details.map((d: any) => d.field), query).to.include(field)
    }
    expect((await t.http.get('/api/v1/register/findings')).status).to.equal(401)
  })

  it('keeps workspaces apart', async () => {
    const mine = freshWorkspace()
    const theirs = freshWorkspace()
    const ids = await build(mine, { activity: (a) => { a.securityMeasureIds = [] } })
    await build(theirs)
    expect((await findings(mine)).total).to.equal(1)
    expect((await findings(theirs)).total).to.equal(0)
    const res = await t.http.get(`/api/v1/register/findings?controllerId=${ids.controller}`).set('authorization', await t.auth('reader', theirs))
    expect(res.status).to.equal(400)
  })

  it('reads a register larger than one page of activities, each activity once', async () => {
    const ws = freshWorkspace()
    const ids = await build(ws)
    const count = WALK_PAGE_SIZE + 3
    for (let i = 0; i < count; i++) {
      await create(ws, 'processing-activities', {
        name: `Behandling ${String(i).padStart(3, '0')}`, role: 'controller', status: 'active', controllerId: ids.controller,
        retention: [{ retentionRuleId: ids.tenYears }], lastReviewedAt: '2025-06-01', dpia: { required: true, status: 'planned' },
      })
    }
    const found = await findings(ws)
    expect(found.total).to.equal(count)
    expect(new Set(found.items.map((f: any) => f.record.id)).size).to.equal(count)
    expect(rulesOf(found)).to.deep.equal(['activity-without-security-measures'])
    expect(found.items[0].record.name).to.equal('Behandling 000')
  })

  it('gives every rule a kebab-case id, a severity, an article and a summary', () => {
    expect(new Set(RULES.map((r) => r.id)).size).to.equal(RULES.length)
    for (const r of RULES) {
      expect(r.id).to.match(/^[a-z0-9]+(-[a-z0-9]+)*$/)
      expect(['high', 'medium', 'low']).to.include(r.severity)
      expect(r.article).to.match(/Art\. \d+/)
      expect(r.summary).to.not.equal('')
    }
  })

  describe('on the demo register (the gaps docs/demo-register.md lists)', () => {
    const WS = 'findings-demo'
    let all: any[]
    const where = (rule: string, name?: string): any[] => all.filter((f) => f.rule === rule && (name === undefined || f.record.name === name))
    const activityName = (key: string): string => DEMO.processingActivities.find((a) => a.id === demoId(key))!.name

    before(async () => {
      await loadDemo(t.app.db, { sub: 'demo-loader', role: 'admin', ws: WS })
      all = (await findings(WS)).items
    })

    it('HALTEA: no legal basis for any of its 13 purposes', async () => {
      const haltea = (await findings(WS, `?controllerId=${demoId('haltea')}&rule=purpose-without-legal-basis`)).items
      expect(haltea).to.have.length(13)
      expect(haltea.map((f: any) => f.message.sv)).to.include('Ändamålet ”Återbetalning via Swish” saknar rättslig grund.')
    })

    it('HALTEA: the transfer to Google in the US has no mechanism', () => {
      const [transfer, ...rest] = where('transfer-without-mechanism')
      expect(rest).to.deep.equal([])
      expect(transfer.record.name).to.equal(activityName('haltea.activity.cookies'))
      expect(transfer.message.en).to.contain('United States of America (US) to "Google"')
    })

    it('HALTEA: "Känslig information" does not say which kind, and has no Art. 9(2) condition', () => {
      expect(where('special-category-unspecified').map((f) => f.record.name)).to.deep.equal(['Känslig information som du själv skickar till oss'])
      expect(where('special-category-without-condition', activityName('haltea.activity.orders'))).to.have.length(1)
    })

    it('the clinics: health data (photos and notes) without an Art. 9(2) condition, and a DPIA required by the screening but not decided', () => {
      for (const key of ['allavie', 'wellnesskliniken']) {
        const activity = activityName(`${key}.activity.customers`)
        const found = all.filter((f) => f.rule === 'special-category-without-condition' && f.record.id === demoId(`${key}.activity.customers`))
        expect(found, key).to.have.length(1)
        expect(found[0].message.en).to.contain('Bilder/foton och anteckningar du själv väljer att lämna').and.contain('(health)')
        // health data and patients: WP248-4 and WP248-7
        const dpia = all.filter((f) => f.rule === 'dpia-screening-required' && f.record.id === demoId(`${key}.activity.customers`))
        expect(dpia, activity).to.have.length(1)
        expect(dpia[0].message.en).to.contain('(WP248-4)').and.contain('(WP248-7)')
        // the legitimate interest is not described and no LIA is referenced
        expect(all.filter((f) => f.record.id === demoId(`${key}.activity.customers`) && f.rule.startsWith('legitimate-interest')).map((f) => f.rule))
          .to.have.members(['legitimate-interest-not-stated', 'legitimate-interest-without-assessment'])
      }
    })

    it('personnummer without a justification at HALTEA and Smultronsites', () => {
      expect(where('national-id-without-justification').map((f) => f.record.id)).to.have.members([
        demoId('haltea.activity.orders'), demoId('smultronsites.activity.customers'),
      ])
    })

    it('Smultronsites: retention with no fixed limit, on every activity; eight purposes without a legal basis', async () => {
      const smultron = (await findings(WS, `?controllerId=${demoId('smultronsites')}`)).items
      const noLimit = smultron.filter((f: any) => f.rule === 'retention-without-limit')
      expect(new Set(noLimit.map((f: any) => f.record.id)).size).to.equal(5)
      expect(noLimit[0].message.sv).to.contain('ingen fast tidsgräns')
      expect(smultron.filter((f: any) => f.rule === 'purpose-without-legal-basis')).to.have.length(8)
      // the two consents do not say how to withdraw them
      expect(smultron.filter((f: any) => f.rule === 'consent-without-withdrawal')).to.have.length(2)
    })

    it('no DPO anywhere: a low finding for each of the six controllers; contact details exist for all', () => {
      const dpo = where('controller-without-dpo')
      expect(dpo.map((f) => f.record.name)).to.have.members(DEMO.controllers.map((c) => c.name))
      expect(dpo.every((f) => f.severity === 'low')).to.equal(true)
      expect(where('controller-without-contact')).to.deep.equal([])
    })

    it('5D-portalen: no security measures on any activity; profiling, and the DPIA screening left undetermined', () => {
      const fiveD = DEMO.processingActivities.filter((a) => (a.controller as { id: string }).id === demoId('5d-portalen')).map((a) => a.id)
      expect(where('activity-without-security-measures').map((f) => f.record.id)).to.have.members(fiveD)
      const marketing = all.filter((f) => f.rule === 'dpia-screening-undetermined' && f.record.id === demoId('5d-portalen.activity.marketing'))
      expect(marketing).to.have.length(1)
      // profiling is stated (WP248-1); the rest is not
      expect(marketing[0].message.en).to.not.contain('evaluationOrScoring')
      expect(marketing[0].message.en).to.contain('processing on a large scale')
    })

    it('no data processing agreement with any processor; no activity reviewed; cookie activities without retention', () => {
      expect(where('processor-without-agreement')).to.have.length(DEMO.processors.length)
      expect(where('never-reviewed')).to.have.length(DEMO.processingActivities.length)
      expect(where('retention-missing').map((f) => f.record.id)).to.have.members([
        demoId('haltea.activity.cookies'), demoId('allavie.activity.cookies'), demoId('wellnesskliniken.activity.cookies'),
      ])
    })

    it('finds no gap the policies do not have', () => {
      for (const rule of ['controller-without-contact', 'third-country-recipient-without-transfer', 'review-overdue', 'criminal-data-without-basis', 'exceptional-transfer-without-safeguards']) {
        expect(where(rule), rule).to.deep.equal([])
      }
    })
  })
})
