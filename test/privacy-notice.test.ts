import { expect } from 'chai'
import { buildTestApp, TestApp } from './helper'
import { catalogueId } from '../src/register/records/catalogue'
import { demoId, loadDemo } from '../src/register/demo/demo'
import { legalBasisWords } from '../src/register/review/privacy-notice'
import { durationWords } from '../src/register/wording/wording'

/**
 * The privacy notice (Art. 13/14) written from the register. For each seed policy of the demo,
 * the Swedish notice gives back the policy's key facts: contact details, purposes and legal bases,
 * recipients and processors, retention.
 */
describe('privacy notice', () => {
  const WS = 'notice-demo'
  let t: TestApp

  before(async () => {
    t = await buildTestApp()
    await loadDemo(t.app.db, { sub: 'demo-loader', role: 'admin', ws: WS })
  })
  after(async () => t.close())

  async function notice(controllerKey: string, query = '', ws = WS): Promise<{ text: string; type: string }> {
    const res = await t.http.get(`/api/v1/controllers/${demoId(controllerKey)}/privacy-notice${query}`).set('authorization', await t.auth('reader', ws))
    expect(res.status, res.text).to.equal(200)
    return { text: res.text, type: res.headers['content-type'] }
  }

  const expectAll = (text: string, facts: string[]): void => {
    for (const fact of facts) expect(text, fact).to.contain(fact)
  }

  const RIGHTS_SV = [
    '## Dina rättigheter', 'registerutdrag', 'rättade', 'raderade', 'begränsas', 'invända',
    'Integritetsskyddsmyndigheten (IMY)', 'https://www.imy.se/',
  ]

  describe('in Swedish, as Markdown (the default)', () => {
    it('HALTEA AB: e-mail and website, purposes without a stated basis, Klarna, organisers, Google in the US, 18 months', async () => {
      const { text, type } = await notice('haltea')
      expect(type).to.equal('text/markdown; charset=utf-8')
      expectAll(text, [
        '# Information om behandling av personuppgifter – HALTEA AB',
        '## Personuppgiftsansvarig', '**E-post:** kontakt@minupplevelese.se', '**Webbplats:** Minupplevelse.se',
        'Uppgift om dataskyddsombud anges inte i registret.',
        '**Återbetalning via Swish** – rättslig grund anges inte.',
        '**Faktura- och delbetalning samt komplettering eller uppgradering av beställning**',
        'Personnummer', 'Kortuppgifter', 'Känslig information som du själv skickar till oss (känsliga personuppgifter: sort ej angiven)',
        '**Mottagare:** Arrangörer av evenemang', 'Google (USA (US))', 'Klarna (Betalpartner)',
        '## Överföring till tredjeland', '**USA (US) till Google (i behandlingen ”Kakor och besöksstatistik”)** – skyddsåtgärd anges inte.',
        '18 månader (Raderas som standard efter 18 månader)', 'omedelbart efter slutfört ärende',
        '**Varifrån uppgifterna kommer:** Samlas in automatiskt',
        ...RIGHTS_SV,
      ])
      // no consent is recorded, so no right to withdraw one is promised; no purpose rests on consent
      // or contract, so no portability (Art. 20(1)(a)) either
      expect(text).to.not.contain('återkalla')
      expect(text).to.not.contain('dataportabilitet')
      // the register is silent about a DPO: the notice must not claim that none was appointed
      expect(text).to.not.match(/inte utsett|har inget dataskyddsombud/)
    })

    it('Smultronsites AB: address, consents with the right to withdraw, insurers and suppliers, no fixed retention', async () => {
      const { text } = await notice('smultronsites')
      expectAll(text, [
        '**Adress:** Årevägen 35E, 837 52 Åre', '**E-post:** hello@smultronsites.com',
        '**Publicering på vår hemsida** – rättslig grund: samtycke (art. 6.1 a). Du kan när som helst återkalla ditt samtycke.',
        '**Fullfölja våra förpliktelser gentemot dig som kund** – rättslig grund anges inte.',
        'Följa tillämplig lagstiftning, till exempel bokföringslagar',
        'Försäkringsbolag', 'Professionella rådgivare och ombud', 'Samarbetspartner för fakturering',
        'Leverantör av kort- och kommunikationstjänster',
        'ingen fast tidsgräns, kriterier: Inte längre än vad som är nödvändigt för ändamålet – Policyn: "Vi kommer inte spara',
        '(dataportabilitet), art. 20; det gäller behandling som grundas på samtycke eller avtal: ',
        'när som helst återkalla ett samtycke', 'Registret anger ingen överföring av personuppgifter till länder utanför EU/EES.',
        ...RIGHTS_SV,
      ])
    })

    it('Allavie AB: joint controller Hudateljén, contract and legitimate interest, health data, processors, 36 months', async () => {
      const { text } = await notice('allavie')
      expectAll(text, [
        '**E-post:** info@allavieclinic.com', '**Telefon:** 063-512545',
        '### Gemensamt personuppgiftsansvariga', 'Hudateljén, e-post hudateljén@allavieclinic.com, telefon 063-512545',
        'rättslig grund: avtal (art. 6.1 b) och berättigat intresse (art. 6.1 f). Vårt berättigade intresse: anges inte.',
        'Bilder/foton och anteckningar du själv väljer att lämna (känsliga personuppgifter: hälsa)',
        'Logistikföretag och speditörer (Transporter)', 'Kortinlösande företag, banker och andra betaltjänstleverantörer (Betallösningar)',
        '36 månader efter senaste besök', 'reklamations- och garantiärenden',
        '**Personuppgiftsansvariga för behandlingen:** Allavie AB och Hudateljén',
        ...RIGHTS_SV,
      ])
    })

    it('Hudateljén: the same activities, with Allavie AB as the joint controller', async () => {
      const { text } = await notice('hudateljen')
      expectAll(text, [
        '# Information om behandling av personuppgifter – Hudateljén', '**E-post:** hudateljén@allavieclinic.com',
        'Allavie AB, e-post info@allavieclinic.com, telefon 063-512545', '36 månader efter senaste besök',
        'Internetbokning, tidbokning, köp, marknadsföring och kundservice',
      ])
    })

    it('Wellnesskliniken i Östersund AB: address, phone, no joint controller, 36 months', async () => {
      const { text } = await notice('wellnesskliniken')
      expectAll(text, [
        '**Adress:** Prästg. 31', '**E-post:** info@wellnesskliniken.se', '**Telefon:** 063102000',
        'avtal (art. 6.1 b) och berättigat intresse (art. 6.1 f)', '36 månader efter senaste besök',
        'Företag som hanterar nödvändig drift, teknisk support och underhåll av våra IT-lösningar (IT-tjänster)',
        ...RIGHTS_SV,
      ])
      expect(text).to.not.contain('Gemensamt personuppgiftsansvariga')
    })

    it('5D-portalen: contract, legitimate interest and consent per purpose, profiling, the accounting system, no fixed limit', async () => {
      const { text } = await notice('5d-portalen')
      expectAll(text, [
        '**Namn:** Håkan Berggren – 5dportalen', '**Adress:** Hallbergavägen 20, 864 92 Matfors', '**E-post:** info@5dportalen.se',
        '**Webbplats:** 5dportalen.se',
        '**Hantering av kundrelationer** – rättslig grund: avtal (art. 6.1 b).',
        '**Försäljning och marknadsföring** – rättslig grund: berättigat intresse (art. 6.1 f).',
        '**Profilering för mer relevant marknadsföring** – rättslig grund: samtycke (art. 6.1 a).',
        '**Automatiserat beslutsfattande och profilering:** Profilering:',
        'Bokföringssystem', 'Företag som placerar tredjepartscookies (annonser)',
        'ingen fast tidsgräns, kriterier: Inte längre än vad som är nödvändigt med hänsyn till ändamålet',
        'när som helst återkalla ett samtycke',
        ...RIGHTS_SV,
      ])
    })
  })

  it('in English: the same facts, with the bases named in English', async () => {
    const { text } = await notice('5d-portalen', '?lang=en')
    expectAll(text, [
      '# Privacy notice – Håkan Berggren – 5dportalen', '**E-mail:** info@5dportalen.se',
      'legal basis: contract (Art. 6(1)(b))', 'legal basis: legitimate interests (Art. 6(1)(f))', 'legal basis: consent (Art. 6(1)(a))',
      'no fixed time limit', '## Your rights', 'withdraw consent at any time', 'Integritetsskyddsmyndigheten, IMY', 'https://www.imy.se/',
      'No data protection officer is recorded in the register.',
    ])
    const haltea = await notice('haltea', '?lang=en&format=markdown')
    expectAll(haltea.text, ['United States of America (US) to Google', 'safeguard not stated', '18 months', 'immediately efter slutfört ärende'])
  })

  it('as a standalone HTML page in the notice\'s language', async () => {
    const sv = await notice('allavie', '?format=html')
    expect(sv.type).to.equal('text/html; charset=utf-8')
    expect(sv.text).to.match(/^<!DOCTYPE html>\n<html lang="sv">/)
    expectAll(sv.text, ['<meta charset="utf-8">', '<title>Information om behandling av personuppgifter – Allavie AB</title>', '<h2>Dina rättigheter</h2>', '<a href="https://www.imy.se/">', '</html>'])
    const en = await notice('allavie', '?format=html&lang=en')
    expect(en.text).to.contain('<html lang="en">')
  })

  describe('on a register of its own', () => {
    const OWN = 'notice-own'
    const editor = (): Promise<string> => t.auth('editor', OWN)
    const create = async (path: string, body: object): Promise<string> => {
      const res = await t.http.post(`/api/v1/${path}`).set('authorization', await editor()).send(body)
      expect(res.status, JSON.stringify(res.body)).to.equal(201)
      return res.body.id
    }
    const get = async (id: string, query = '', ws = OWN) => t.http.get(`/api/v1/controllers/${id}/privacy-notice${query}`).set('authorization', await t.auth('reader', ws))
    let evil: string
    let clinic: string

    before(async () => {
      evil = await create('controllers', { name: '<script>alert(1)</script>', email: 'a@example.se', organisationNumber: '556000-0000' })
      clinic = await create('controllers', {
        name: 'Kliniken AB', organisationNumber: '556677-8899', email: 'info@kliniken.se', website: 'https://kliniken.se',
        dataProtectionOfficer: { name: 'Dataskyddsombudet', email: 'dso@kliniken.se' },
        representative: null,
      })
      const purpose = await create('purposes', { name: 'Nyhetsbrev <img src=x onerror=alert(1)>' })
      const care = await create('purposes', { name: 'Vård och behandling' })
      const data = await create('data-categories', { name: 'Journal', classification: 'special', specialCategory: 'health' })
      const us = await create('recipients', { name: 'Molntjänst', country: 'US' })
      const rule = await create('retention-rules', { name: 'Patientjournal', period: 'P10Y', trigger: 'efter sista anteckningen', legalReference: 'Patientdatalagen (2008:355) 3 kap. 17 §' })
      await create('processing-activities', {
        name: 'Utskick **fet** [länk](javascript:alert(1))', role: 'controller', status: 'active', controllerId: evil,
        purposes: [{ purposeId: purpose, legalBasisIds: [catalogueId('A6-1-a')], consentWithdrawal: 'Svara "STOPP" </li><script>x</script>' }],
      })
      await create('processing-activities', {
        name: 'Patientvård', role: 'controller', status: 'active', controllerId: clinic,
        purposes: [{ purposeId: care, legalBasisIds: [catalogueId('A6-1-b'), catalogueId('A9-2-h')] }],
        dataCategoryIds: [data], recipientIds: [us],
        transfers: [{ country: 'US', recipientId: us, mechanism: 'A46-2-c', safeguards: 'Standardavtalsklausuler med kryptering', documentation: 'Avtalsbilaga 3, finns hos dataskyddsombudet' }],
        retention: [{ retentionRuleId: rule }], dataSources: ['Remisser från vårdcentralen'],
      })
      await create('processing-activities', { name: 'Gammal behandling', role: 'controller', status: 'retired', controllerId: clinic, purposes: [{ purposeId: purpose }] })
      await create('processing-activities', { name: 'Planerad behandling', role: 'controller', status: 'draft', controllerId: clinic, purposes: [{ purposeId: care, legalBasisIds: [catalogueId('A6-1-b')] }] })
    })

    it('escapes register text in HTML: nothing from the register becomes markup', async () => {
      const res = await get(evil, '?format=html')
      expect(res.status).to.equal(200)
      expect(res.text).to.contain('<title>Information om behandling av personuppgifter – &lt;script&gt;alert(1)&lt;/script&gt;</title>')
      expect(res.text).to.contain('&lt;img src=x onerror=alert(1)&gt;')
      expect(res.text).to.contain('Svara &quot;STOPP&quot; &lt;/li&gt;&lt;script&gt;x&lt;/script&gt;')
      expect(res.text).to.not.match(/<script|<img|<\/li><script/i)
      expect(res.text.match(/<a /g)).to.have.length(1) // only the link to IMY
    })

    it('escapes register text in Markdown', async () => {
      const res = await get(evil)
      expect(res.text).to.contain('# Information om behandling av personuppgifter – \\<script\\>alert(1)\\</script\\>')
      expect(res.text).to.contain('Utskick \\*\\*fet\\*\\* \\[länk\\](javascript:alert(1))')
      expect(res.text).to.not.match(/(^|[^\\])<(script|img)/)
    })

    it('gives the organisation number, DPO, sources, Art. 9(2) condition, and the transfer with its safeguards and where they are documented', async () => {
      const { text } = await get(clinic).then((r) => ({ text: r.text }))
      expectAll(text, [
        '**Organisationsnummer:** 556677-8899', '**Webbplats:** https://kliniken.se', 'Dataskyddsombudet, e-post dso@kliniken.se',
        'rättslig grund: avtal (art. 6.1 b) och förebyggande hälso- och sjukvård, diagnos, vård och behandling (art. 9.2 h)',
        '**Varifrån uppgifterna kommer:** Remisser från vårdcentralen',
        '**USA (US) till Molntjänst (i behandlingen ”Patientvård”)** – skyddsåtgärd: Standardavtalsklausuler (kommissionen). Skyddsåtgärder: Standardavtalsklausuler med kryptering. Skyddsåtgärderna finns dokumenterade här: Avtalsbilaga 3, finns hos dataskyddsombudet.',
        '10 år efter sista anteckningen (Patientjournal) – Patientdatalagen (2008:355) 3 kap. 17 §',
      ])
      // a draft is not in force: not told to data subjects
      expect(text).to.not.contain('Planerad behandling')
      // retired activities are not described; another controller's activities neither
      expect(text).to.not.contain('Gammal behandling')
      expect(text).to.not.contain('Utskick')
    })

    it('answers 404 for an unknown controller or another workspace\'s, and 400 for a bad id or query', async () => {
      expect((await get(demoId('nobody'))).status).to.equal(404)
      const other = await get(clinic, '', 'someone-else')
      expect(other.status).to.equal(404)
      expect(other.body.code).to.equal('not_found')
      const badId = await get('not-a-uuid')
      expect(badId.status).to.equal(400)
      expect(badId.body.details.map((d: any) => d.field)).to.include('id')
      for (const [query, field] of [['?lang=de', 'lang'], ['?format=pdf', 'format'], ['?foo=1', 'foo']]) {
        const res = await get(clinic, query)
        expect(res.status, query).to.equal(400)
        expect(res.body.details.map((d: any) => d.field), query).to.include(field)
      }
      expect((await t.http.get(`/api/v1/controllers/${clinic}/privacy-notice`)).status).to.equal(401)
    })
  })

  it('names periods and legal bases in words', () => {
    expect(durationWords('P36M', 'sv')).to.equal('36 månader')
    expect(durationWords('P1Y6M', 'sv')).to.equal('1 år och 6 månader')
    expect(durationWords('P1Y2M3D', 'en')).to.equal('1 year, 2 months and 3 days')
    expect(durationWords('P0D', 'sv')).to.equal('omedelbart')
    expect(durationWords('PT12H', 'en')).to.equal('12 hours')
    expect(legalBasisWords({ code: 'A6-1-b', kind: 'article-6', name: 'Contract', nameSv: 'Avtal' }, 'sv')).to.equal('avtal (art. 6.1 b)')
    expect(legalBasisWords({ code: 'A10', kind: 'article-10', name: 'Criminal convictions', nameSv: 'Lagöverträdelser' }, 'en')).to.equal('criminal convictions (Art. 10)')
    expect(legalBasisWords({ code: 'SE-BFL-7-2', kind: 'national-law', name: 'Accounting Act', nameSv: 'Bokföringslagen', articleReference: 'Bokföringslagen (1999:1078) 7 kap. 2 §' }, 'sv'))
      .to.equal('Bokföringslagen (Bokföringslagen (1999:1078) 7 kap. 2 §)')
  })
})
