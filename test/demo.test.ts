import { expect } from 'chai'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { buildTestApp, TestApp } from './helper'
import { DEMO, demoId, DemoDocument, DemoLoadResult, loadDemo } from '../src/register/demo/demo'
import { AppError } from '../src/errors'
import type { Principal } from '../src/auth/principal'

/**
 * The demo register holds what each of the five privacy policies in docs/seeds/ says, read back
 * through the API. Each group quotes the sentence of the policy it checks.
 */
describe('demo register (the five seed policies)', () => {
  const WS = 'demo'
  const loader: Principal = { sub: 'demo-loader', role: 'admin', ws: WS }
  let t: TestApp
  let first: DemoLoadResult

  before(async () => {
    t = await buildTestApp()
    first = await loadDemo(t.app.db, loader)
  })
  after(async () => t.close())

  const get = async (path: string): Promise<any> => {
    const res = await t.http.get(`/api/v1/${path}`).set('authorization', await t.auth('reader', WS))
    expect(res.status, `GET ${path}: ${JSON.stringify(res.body)}`).to.equal(200)
    return res.body
  }
  const controller = (key: string): Promise<any> => get(`controllers/${demoId(key)}`)
  const activitiesOf = async (key: string): Promise<any[]> => (await get(`processing-activities?controllerId=${demoId(key)}&limit=500`)).items

  /** Every item of a list field over a controller's activities, without repeats. */
  const all = (activities: any[], field: string): any[] => {
    const byId = new Map<string, any>()
    for (const a of activities) for (const x of a[field]) byId.set(x.id, x)
    return [...byId.values()]
  }
  const names = (items: any[]): string[] => items.map((i) => i.name)
  const purposesOf = (activities: any[]): any[] => activities.flatMap((a) => a.purposes)
  const purpose = (activities: any[], name: string): any => {
    const found = purposesOf(activities).find((p) => p.purpose.name === name)
    expect(found, `purpose ${name}`).to.exist
    return found
  }
  const codes = (p: any): string[] => p.legalBases.map((l: any) => l.code)
  const retentionRules = (activities: any[]): any[] => activities.flatMap((a) => a.retention.map((r: any) => ({ ...r.retentionRule, dataCategories: r.dataCategories })))

  it('creates every record of the demo under its stable id', () => {
    const created = Object.fromEntries(first.counts.map((c) => [c.type, c.created]))
    expect(created).to.deep.equal({
      controller: DEMO.controllers.length, processor: DEMO.processors.length, purpose: DEMO.purposes.length,
      'data-subject-category': DEMO.dataSubjectCategories.length, 'data-category': DEMO.dataCategories.length,
      recipient: DEMO.recipients.length, 'retention-rule': DEMO.retentionRules.length,
      'security-measure': DEMO.securityMeasures.length, 'processing-activity': DEMO.processingActivities.length,
    })
    expect(first.controllers.map((c) => c.name)).to.deep.equal([
      'HALTEA AB', 'Smultronsites AB', 'Allavie AB', 'Hudateljén', 'Wellnesskliniken i Östersund AB', 'Håkan Berggren – 5dportalen',
    ])
  })

  describe('000: HALTEA AB (Minupplevelse.se)', () => {
    let acts: any[]
    before(async () => { acts = await activitiesOf('haltea') })

    it('names the controller and its contact details as the policy gives them, gaps left empty', async () => {
      // "Integritetspolicy för HALTEA AB (webbplatsen Minupplevelse.se)"
      // "kontakta oss på kontakt@minupplevelese.se så återkommer vi så snart som möjligt."
      const c = await controller('haltea')
      expect(c).to.include({
        name: 'HALTEA AB', email: 'kontakt@minupplevelese.se', website: 'Minupplevelse.se',
        organisationNumber: null, address: null, phone: null, dataProtectionOfficer: null,
      })
      expect(c.notes).to.contain('000_75e096bb642843fb.txt').and.to.contain('minupplevelese')
    })

    it('holds card data and personnummer', () => {
      // "Vid kortköp behandlar vi även dina kortuppgifter och det finns även ett val att lämna personnummer och ett
      //  företags organisationsnummer."
      const data = all(acts, 'dataCategories')
      expect(data.find((d) => d.name === 'Kortuppgifter')).to.include({ classification: 'ordinary' })
      expect(data.find((d) => d.name === 'Personnummer')).to.include({ classification: 'national-id' })
      expect(names(data)).to.include('Företagets organisationsnummer')
    })

    it('has Klarna as processor, event organisers and advertisers as recipients', () => {
      // "Vi delar uppgifter om dig till våra betalpartner, Klarna."
      expect(names(all(acts, 'processors'))).to.deep.equal(['Klarna'])
      // "I dessa fall förmedlar vi dina uppgifter till arrangören av evenemanget."
      // "Vi kan, till övriga parter så som annonserare, dela uppgifter om antal besökare på vår webbsida."
      expect(names(all(acts, 'recipients'))).to.have.members(['Arrangörer av evenemang', 'Annonsörer', 'Google'])
    })

    it('has Google in the US with a transfer whose mechanism is not stated', async () => {
      // "Google är ett exempel på ett företag som tar del av denna typ av data."
      const transfers = acts.flatMap((a) => a.transfers)
      expect(transfers).to.have.length(1)
      expect(transfers[0]).to.deep.include({ country: 'US', mechanism: null, safeguards: null, documentation: null, processor: null })
      expect(transfers[0].recipient).to.include({ name: 'Google', country: 'US' })
      const inUs = await get('processing-activities?transferCountry=US')
      expect(inUs.items.map((a: any) => a.controller.name)).to.deep.equal(['HALTEA AB'])
    })

    it('keeps 18 months, "immediately after the case is closed" and the cancelled order', () => {
      // "De uppgifter som inte enligt lag kräver att vi sparar dem raderas som standard efter 18 månader då vi beräknat
      //  att samtliga avtal med garanti gått ut då."
      const rules = retentionRules(acts)
      expect(rules.find((r) => r.period === 'P18M')).to.include({ trigger: null })
      // "Känslig information raderas omgående efter slutfört ärende."
      const sensitive = rules.find((r) => r.trigger === 'efter slutfört ärende')
      expect(sensitive).to.include({ period: 'P0D' })
      expect(names(sensitive.dataCategories)).to.deep.equal(['Känslig information som du själv skickar till oss'])
      // which sensitive data is not said: special, with the Art. 9(1) category left unspecified
      expect(sensitive.dataCategories[0]).to.include({ classification: 'special', specialCategory: 'unspecified' })
      // "Vid tillfälle då kund inte vill slutföra beställningen så makuleras ordern ... Uppgifterna sparas då inte vidare."
      expect(rules.find((r) => r.name.startsWith('Makulerad beställning'))).to.include({ period: 'P0D' })
    })

    it('states no legal basis for any purpose', () => {
      // The policy never names a legal basis: the register keeps that gap.
      expect(purposesOf(acts)).to.have.length.greaterThan(5)
      for (const p of purposesOf(acts)) expect(codes(p), p.purpose.name).to.deep.equal([])
    })

    it('records automatically collected data as a source, and the security measures', () => {
      // "Vi samlar automatiskt upp information från andra källor, viss information om den enhet du använder, vilken
      //  IP-adress den har och vilken som är den överlämnande sidan"
      const device = acts.find((a) => a.dataCategories.some((d: any) => d.name === 'Enhetsinformation, IP-adress och överlämnande sida'))
      expect(device.dataSources.join(' ')).to.contain('automatiskt')
      // "Vi använder oss av brandväggar och system som upptäcker inkräktare" / "Endast personal med särskild behörighet"
      const measures = all(acts, 'securityMeasures')
      expect(measures.find((m) => m.name === 'Brandväggar')).to.include({ type: 'technical', category: 'network-security' })
      expect(names(measures)).to.include.members(['System som upptäcker inkräktare', 'Endast personal med särskild behörighet har tillgång'])
    })
  })

  describe('001: Smultronsites AB', () => {
    let acts: any[]
    before(async () => { acts = await activitiesOf('smultronsites') })

    it('names the controller with its address and e-mail', async () => {
      // "kontakta oss på hello@smultronsites.com." / "Smultronsites AB / Årevägen 35E / 837 52 Åre"
      expect(await controller('smultronsites')).to.include({
        name: 'Smultronsites AB', address: 'Årevägen 35E, 837 52 Åre', email: 'hello@smultronsites.com',
        phone: null, website: null, organisationNumber: null, dataProtectionOfficer: null,
      })
    })

    it('holds personnummer and payment data', () => {
      // "3. Betalningsuppgifter ... 5. Personnummer 6. Organisationsnummer och kontonummer"
      const data = all(acts, 'dataCategories')
      expect(data.find((d) => d.name === 'Personnummer')).to.include({ classification: 'national-id' })
      expect(names(data)).to.include.members(['Betalningsuppgifter', 'Kundnummer', 'Organisationsnummer och kontonummer'])
    })

    it('names the card and communication supplier and the invoicing partner as processors', () => {
      // "till Smultronsites leverantör av kort- och kommunikationstjänster ..."
      // "till Smultronsites samarbetspartner för fakturering i samband med utförda guidetjänster"
      expect(names(all(acts, 'processors'))).to.have.members(['Leverantör av kort- och kommunikationstjänster', 'Samarbetspartner för fakturering'])
      expect(names(all(acts, 'recipients'))).to.include.members(['Försäkringsbolag', 'Tredje parter som får statistisk information'])
    })

    it('keeps "no longer than necessary" as retention without a fixed limit', () => {
      // "Vi kommer inte spara personlig information som vi behandlar längre än vad som är nödvändigt för ändamålet."
      const rules = retentionRules(acts)
      expect(rules.find((r) => r.name === 'Inte längre än vad som är nödvändigt för ändamålet')).to.include({ period: null })
      expect(rules.every((r) => r.period === null)).to.equal(true)
    })

    it('has consent only where the policy asks for it, and no other legal basis', () => {
      // "Genom att samtycka till att vi använder kakor ..." / "i enlighet med det tillstånd du ger oss"
      expect(codes(purpose(acts, 'Cookies: spara inställningar och åtkomsträttigheter samt föra statistik'))).to.deep.equal(['A6-1-a'])
      expect(codes(purpose(acts, 'Publicering på vår hemsida'))).to.deep.equal(['A6-1-a'])
      // "att fullfölja våra förpliktelser gentemot dig som kund" / "att följa tillämplig lagstiftning": no basis named
      expect(codes(purpose(acts, 'Fullfölja våra förpliktelser gentemot dig som kund'))).to.deep.equal([])
      expect(codes(purpose(acts, 'Följa tillämplig lagstiftning, till exempel bokföringslagar'))).to.deep.equal([])
    })

    it('records the technical and organisational precautions', () => {
      // "Vi kommer att vidta rimliga tekniska och organisatoriska försiktighetsåtgärder"
      expect(all(acts, 'securityMeasures').map((m) => m.type)).to.have.members(['technical', 'organisational'])
    })
  })

  describe('002: Allavie AB / Hudateljén', () => {
    let acts: any[]
    before(async () => { acts = await activitiesOf('allavie') })

    it('names both companies, with the e-mails and phone of the policy', async () => {
      // "Företagsnamn Allavie AB / Hudateljén  E-post info@allavieclinic.com / hudateljén@allavieclinic.com
      //  Telefon 063-512545"
      expect(await controller('allavie')).to.include({ name: 'Allavie AB', email: 'info@allavieclinic.com', phone: '063-512545', organisationNumber: null, address: null })
      expect(await controller('hudateljen')).to.include({ name: 'Hudateljén', email: 'hudateljén@allavieclinic.com', phone: '063-512545', organisationNumber: null })
    })

    it('keeps the two as joint controllers of every activity', async () => {
      // "Vilket/Vilka företag är personuppgiftsansvariga hos oss? ... Allavie AB / Hudateljén"
      expect(acts).to.have.length(2)
      for (const a of acts) expect(names(a.jointControllers)).to.deep.equal(['Hudateljén'])
      const joint = await get(`processing-activities?jointControllerId=${demoId('hudateljen')}`)
      expect(joint.total).to.equal(2)
    })

    it('holds photos and notes as health data (special category)', () => {
      // "Ev. bilder/foton och anteckningar du själv väljer att lämna."
      expect(all(acts, 'dataCategories').find((d) => d.name === 'Bilder/foton och anteckningar du själv väljer att lämna'))
        .to.include({ classification: 'special', specialCategory: 'health' })
    })

    it('bases the purpose on contract and legitimate interest', () => {
      // "Rättslig grund: Fullgörande av tjänste-/köpeavtalet samt berättigat intresse."
      const p = purpose(acts, 'Inloggning på Internetbokning, tidbokning, köp, marknadsföring, kundservice, rättslig förpliktelse samt hantering av förmåner och erbjudanden')
      expect(codes(p)).to.deep.equal(['A6-1-b', 'A6-1-f'])
      expect(p.legitimateInterest).to.equal(null)
    })

    it('keeps 36 months after the last visit', () => {
      // "Lagringsperiod: 36 månader efter senaste besök i syfte att kunna hantera eventuella reklamations- och garantiärenden."
      expect(retentionRules(acts).find((r) => r.period === 'P36M')).to.include({ trigger: 'efter senaste besök' })
    })

    it('lists the processor categories the policy names', () => {
      // "delar vi dina personuppgifter med företag som är s.k. personuppgiftsbiträden för hjälp med: Transporter ...
      //  Betallösningar ... Marknadsföring ... IT-tjänster"
      expect(names(all(acts, 'processors'))).to.have.members([
        'Logistikföretag och speditörer', 'Kortinlösande företag, banker och andra betaltjänstleverantörer',
        'Print och distribution, sociala medier, mediebyråer eller reklambyråer',
        'Företag som hanterar nödvändig drift, teknisk support och underhåll av våra IT-lösningar',
      ])
      expect(acts.flatMap((a) => a.transfers)).to.deep.equal([])
    })
  })

  describe('003: Wellnesskliniken i Östersund AB', () => {
    let acts: any[]
    before(async () => { acts = await activitiesOf('wellnesskliniken') })

    it('names the controller with the address, e-mail and phone of the policy', async () => {
      // "INTEGRITET-/PERSONUPPGIFTSHANTERING PÅ: Prästg. 31 ... Wellnesskliniken i Östersund AB ... info@wellnesskliniken.se
      //  ... 063102000"
      expect(await controller('wellnesskliniken')).to.include({
        name: 'Wellnesskliniken i Östersund AB', address: 'Prästg. 31', email: 'info@wellnesskliniken.se', phone: '063102000', organisationNumber: null,
      })
      for (const a of acts) expect(a.jointControllers).to.deep.equal([])
    })

    it('has the same basis, retention and health data as the template it shares with Allavie', () => {
      // "Rättslig grund: Fullgörande av tjänste-/köpeavtalet samt berättigat intresse."
      expect(codes(purposesOf(acts)[0])).to.deep.equal(['A6-1-b', 'A6-1-f'])
      // "Lagringsperiod: 36 månader efter senaste besök"
      expect(retentionRules(acts).find((r) => r.period === 'P36M')).to.include({ trigger: 'efter senaste besök' })
      // "Ev. bilder/foton och anteckningar du själv väljer att lämna."
      expect(all(acts, 'dataCategories').filter((d) => d.classification === 'special').map((d) => d.specialCategory)).to.deep.equal(['health'])
    })
  })

  describe('004: 5D-portalen (Håkan Berggren)', () => {
    let acts: any[]
    before(async () => { acts = await activitiesOf('5d-portalen') })

    it('names the controller and keeps the contradicting e-mail and names in the notes', async () => {
      // "Håkan Berggren, Hallbergavägen 20, 864 92 Matfors är personuppgiftsansvarig ... info@5dportalen.se"
      // "Denna integritetspolicy gäller för: 5dportalen.se" / "E-post: info@5d-portalen.se"
      const c = await controller('5d-portalen')
      expect(c).to.include({ address: 'Hallbergavägen 20, 864 92 Matfors', email: 'info@5dportalen.se', website: '5dportalen.se', phone: null, dataProtectionOfficer: null })
      expect(c.name).to.contain('Håkan Berggren')
      expect(c.notes).to.contain('info@5d-portalen.se').and.to.contain('Helene Telin').and.to.contain('Beggren')
    })

    it('gives each purpose the legal basis the policy names', () => {
      // "Den rättsliga grunden för att behandla personuppgifter för detta ändamål är att behandlingen är nödvändig för
      //  att uppfylla ett avtal med dig."
      expect(codes(purpose(acts, 'Hantering av kundrelationer'))).to.deep.equal(['A6-1-b'])
      // "Den rättsliga grunden för att behandla personuppgifter för detta ändamål är vårt berättigade intresse."
      expect(codes(purpose(acts, 'Försäljning och marknadsföring'))).to.deep.equal(['A6-1-f'])
      expect(codes(purpose(acts, 'Systemövervakning, felsökning m.m.'))).to.deep.equal(['A6-1-f'])
      // "Utöver detta kan vi också be dig om samtycke att använda dina personuppgifter för så kallad profilering"
      expect(codes(purpose(acts, 'Profilering för mer relevant marknadsföring'))).to.deep.equal(['A6-1-a'])
    })

    it('flags the profiling', () => {
      // "så kallad profilering, där vi drar slutsatser om dina intressen och behov utifrån dina personuppgifter"
      const profiling = acts.filter((a) => a.automatedDecisionMaking)
      expect(names(profiling)).to.deep.equal(['Försäljning och marknadsföring'])
      expect(profiling[0].automatedDecisionMakingDescription).to.contain('profilering')
    })

    it('has the accounting system as processor', () => {
      // "Vi överför nödvändiga personuppgifter för behandling till andra företag vars tjänster vi nyttjar, så som bokföringssystem."
      expect(names(all(acts, 'processors'))).to.deep.equal(['Bokföringssystem'])
    })

    it('keeps "no longer than necessary" without a fixed limit, and no security measures', () => {
      // "lagring av personuppgifter inte sker under en längre tid än vad som är nödvändigt med hänsyn till ändamålet"
      expect(retentionRules(acts).find((r) => r.name === 'Inte längre än vad som är nödvändigt med hänsyn till ändamålet')).to.include({ period: null })
      // The policy describes no security measure: the gap stays visible.
      expect(all(acts, 'securityMeasures')).to.deep.equal([])
    })
  })

  describe('loading again', () => {
    const TYPES = [
      'controllers', 'processors', 'purposes', 'legal-bases', 'data-subject-categories', 'data-categories', 'recipients',
      'retention-rules', 'security-measures', 'processing-activities',
    ]
    const totals = async (): Promise<Record<string, number>> =>
      Object.fromEntries(await Promise.all(TYPES.map(async (type) => [type, (await get(`${type}?limit=1`)).total])))

    it('changes nothing: same counts, same versions', async () => {
      const before = await totals()
      const again = await loadDemo(t.app.db, loader)
      expect(again.counts.every((c) => c.created === 0 && c.updated === 0)).to.equal(true)
      expect(await totals()).to.deep.equal(before)
      expect((await controller('haltea')).version).to.equal(1)
    })

    it('puts back a demo record that was changed, under the same id', async () => {
      const res = await t.http.patch(`/api/v1/controllers/${demoId('smultronsites')}`).set('authorization', await t.auth('editor', WS)).send({ email: 'changed@example.se' })
      expect(res.status).to.equal(200)
      const before = await totals()
      const again = await loadDemo(t.app.db, loader)
      expect(again.counts.find((c) => c.type === 'controller')).to.include({ created: 0, updated: 1 })
      expect(await totals()).to.deep.equal(before)
      expect(await controller('smultronsites')).to.include({ email: 'hello@smultronsites.com', version: 3 })
    })
  })

  describe('the document', () => {
    const documentIds = (): Set<string> => new Set(Object.values(DEMO).filter(Array.isArray).flat().map((r: any) => r.id as string))

    it('keeps the ids the demo records have always had', async () => {
      // ids published in links, the API examples and earlier databases: a name-based UUID v5 of the record's key
      expect(demoId('haltea')).to.equal('104ac1b5-0b3a-5259-847f-6460ed6ac564')
      expect(demoId('allavie.data.photos-notes')).to.equal('8a84aa8a-71fc-590e-9a13-bc8ddcb49bd6')
      expect(DEMO.controllers[0]).to.include({ id: demoId('haltea'), name: 'HALTEA AB' })
      expect((await controller('haltea')).id).to.equal('104ac1b5-0b3a-5259-847f-6460ed6ac564')
    })

    it('holds every record docs/demo-register.md names by its key', () => {
      const doc = readFileSync(join(__dirname, '..', '..', 'docs', 'demo-register.md'), 'utf8')
      const keys = [...new Set([...doc.matchAll(/`([^`]+)`/g)].map((m) => m[1])
        .filter((k) => /^(haltea|smultronsites|allavie|hudateljen|wellnesskliniken|5d-portalen)(\.[a-z0-9-]+)*$/.test(k)))]
      expect(keys.length).to.be.greaterThan(20)
      const ids = documentIds()
      expect(keys.filter((k) => !ids.has(demoId(k))), 'keys in the doc without a record').to.deep.equal([])
    })

    it('leaves the catalogue alone: activities refer to built-in legal bases, the document lists none', async () => {
      expect(DEMO.legalBases).to.deep.equal([])
      const builtIn = await get('legal-bases?limit=500')
      const used = new Set(DEMO.processingActivities.flatMap((a: any) => a.purposes.flatMap((p: any) => p.legalBases.map((l: any) => l.id))))
      expect(used.size).to.equal(3)
      for (const id of used) expect(builtIn.items.find((l: any) => l.id === id), id).to.include({ builtIn: true })
    })

    it('is what the export gives: the demo workspace exported imports into another one unchanged', async () => {
      const exported = await t.http.get('/api/v1/register/export?format=json').set('authorization', await t.auth('reader', WS))
      expect(exported.status).to.equal(200)
      const imported = await t.http.post('/api/v1/register/import').set('authorization', await t.auth('admin', 'demo-copy')).send(exported.body)
      expect(imported.status, JSON.stringify(imported.body)).to.equal(200)
      expect(imported.body.created).to.deep.include({ controllers: DEMO.controllers.length, processingActivities: DEMO.processingActivities.length })
      const copy = await t.http.get(`/api/v1/controllers/${demoId('5d-portalen')}`).set('authorization', await t.auth('reader', 'demo-copy'))
      // a website as the policy gives it, a host name without a scheme, passes the import as it passes a write
      expect(copy.body).to.include({ website: '5dportalen.se', name: 'Håkan Berggren – 5dportalen' })
    })

    it('loads all or nothing: one bad record and no record is written', async () => {
      const broken = structuredClone(DEMO) as DemoDocument
      const last = broken.processingActivities[broken.processingActivities.length - 1] as any
      last.controller = { ...last.controller, id: demoId('nobody') }
      const ws = 'demo-broken'
      const error = await loadDemo(t.app.db, { ...loader, ws }, broken).then(() => null, (e) => e)
      expect(error).to.be.instanceOf(AppError)
      expect(error.details.map((d: any) => d.field)).to.deep.equal([`processingActivities[${broken.processingActivities.length - 1}].controller.id`])
      const res = await t.http.get('/api/v1/controllers?limit=1').set('authorization', await t.auth('reader', ws))
      expect(res.body.total).to.equal(0)
    })
  })
})
