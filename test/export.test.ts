import { expect } from 'chai'
import { compareNames } from '../src/register/wording/collation'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'csv-parse/sync'
import { buildTestApp, TestApp } from './helper'
import { buildRegister, exportValidator, Fixture } from './export-fixture'
import { publishedExportSchemaText } from '../src/register/exchange/export-document'
import { addActivityReferences } from '../src/register/exchange/export'
import type { ProcessingActivity } from '../src/generated/view-types'
import { processingActivities } from '../src/register/records/model'
import type { RecordType } from '../src/dto/shape'

type Row = Record<string, any>

/** The headers of docs/export-columns.md, in order. */
const CONTROLLER_HEADERS_EN = [
  'Controller', 'Controller contact details', 'Joint controllers', 'Representative', 'Data protection officer', 'Processing activity',
  'Description', 'Purposes', 'Categories of data subjects', 'Categories of personal data', 'Special categories and criminal-offence data',
  'Categories of recipients', 'Transfers to third countries or international organisations', 'Transfer safeguards and documentation',
  'Time limits for erasure', 'Technical and organisational security measures', 'Legal basis per purpose',
  'Conditions for special categories / criminal data', 'Legitimate interests and assessment', 'Processors and data processing agreements',
  'Sources of the data', 'Systems', 'Data protection impact assessment', 'DPIA screening', 'Automated decision-making and profiling', 'Status', 'Owner',
  'Last reviewed', 'Next review', 'Last changed',
]
const CONTROLLER_HEADERS_SV = [
  'Personuppgiftsansvarig', 'Kontaktuppgifter till personuppgiftsansvarig', 'Gemensamt personuppgiftsansvariga', 'Företrädare', 'Dataskyddsombud',
  'Behandling', 'Beskrivning', 'Ändamål', 'Kategorier av registrerade', 'Kategorier av personuppgifter',
  'Känsliga personuppgifter och uppgifter om lagöverträdelser', 'Kategorier av mottagare', 'Överföring till tredjeland eller internationell organisation',
  'Skyddsåtgärder och dokumentation vid överföring', 'Tidsfrister för radering (gallring)', 'Tekniska och organisatoriska säkerhetsåtgärder',
  'Rättslig grund per ändamål', 'Undantag för känsliga personuppgifter / lagöverträdelser', 'Berättigade intressen och intresseavvägning',
  'Personuppgiftsbiträden och biträdesavtal', 'Varifrån uppgifterna kommer', 'System', 'Konsekvensbedömning (DPIA)', 'Förhandsbedömning (DPIA)',
  'Automatiserat beslutsfattande och profilering', 'Status', 'Ansvarig verksamhet', 'Senast granskad', 'Nästa granskning', 'Senast ändrad',
]
const PROCESSOR_HEADERS_EN = [
  'Processor', 'Processor contact details', 'Representative', 'Data protection officer', 'Controller (on whose behalf)', 'Controller contact details',
  'Categories of processing', 'Sub-processors', 'Transfers to third countries or international organisations', 'Transfer safeguards and documentation',
  'Technical and organisational security measures', 'Last changed',
]

/** A date in the register's time zone (REGISTER_TIMEZONE, default Europe/Stockholm); sv-SE writes YYYY-MM-DD. */
const stockholmDate = (at: Date | string = new Date()): string => new Date(at).toLocaleDateString('sv-SE', { timeZone: 'Europe/Stockholm' })
const today = (): string => stockholmDate()


describe('register export', () => {
  let t: TestApp
  let f: Fixture
  const validate = exportValidator()

  before(async () => {
    t = await buildTestApp()
    f = await buildRegister(t)
    await t.http.post('/api/v1/controllers').set('authorization', await t.auth('editor', 'other')).send({ name: 'Hemlig AB' })
  })
  after(async () => t.close())

  /** The response body as bytes, whatever its type. */
  async function raw(query: string, role: 'reader' | 'editor' | 'admin' = 'reader', ws = 'test') {
    const res = await t.http.get(`/api/v1/register/export?${query}`).set('authorization', await t.auth(role, ws))
      .buffer(true).parse((r, cb) => {
        const chunks: Buffer[] = []
        r.on('data', (c: Buffer) => chunks.push(c))
        r.on('end', () => cb(null, Buffer.concat(chunks)))
      })
    return { res, bytes: res.body as Buffer }
  }

  async function csv(query: string, delimiter = ','): Promise<{ header: string[]; rows: Row[]; text: string; res: any }> {
    const { res, bytes } = await raw(`format=csv&${query}`)
    expect(res.status, bytes.toString()).to.equal(200)
    const records = parse(bytes, { bom: true, delimiter, relax_column_count: false }) as string[][]
    const [header, ...body] = records
    return { header, rows: body.map((r) => Object.fromEntries(header.map((h, i) => [h, r[i]]))), text: bytes.toString('utf8'), res }
  }

  async function json(query = ''): Promise<Row> {
    const res = await t.http.get(`/api/v1/register/export?format=json&${query}`).set('authorization', await t.auth('reader'))
    expect(res.status, JSON.stringify(res.body)).to.equal(200)
    expect(validate(res.body), JSON.stringify(validate.errors)).to.equal(true)
    return res.body
  }

  async function activityViews(role: 'controller' | 'processor'): Promise<Row[]> {
    // in the order of the register's lists by name: the export's order
    const res = await t.http.get(`/api/v1/processing-activities?limit=500&role=${role}&sort=name`).set('authorization', await t.auth('reader'))
    return res.body.items as Row[]
  }

  describe('CSV, controller record (Art. 30(1))', () => {
    it('has the 30 columns of Art. 30(1)(a)–(g) in order and one row per activity, matching the register row for row', async () => {
      const { header, rows, res } = await csv('record=controller')
      expect(res.headers['content-type']).to.equal('text/csv; charset=utf-8')
      expect(res.headers['content-disposition']).to.equal(`attachment; filename="register-of-processing-activities-${today()}.csv"`)
      expect(header).to.deep.equal(CONTROLLER_HEADERS_EN)
      const activities = await activityViews('controller')
      expect(rows).to.have.length(activities.length)
      rows.forEach((row, i) => {
        const a = activities[i]
        expect(row['Processing activity']).to.equal(a.name)
        expect(row.Controller).to.equal(`${a.controller.name} (${a.controller.organisationNumber})`)
        expect(row.Purposes).to.equal(a.purposes.map((p: Row) => p.purpose.name).join('; '))
        expect(row['Categories of data subjects']).to.equal(a.dataSubjectCategories.map((c: Row) => c.name).join('; '))
        expect(row['Categories of personal data']).to.equal(a.dataCategories.map((c: Row) => c.name).join('; '))
        expect(row['Technical and organisational security measures'].replace(/^'/, '')).to.equal(a.securityMeasures.map((c: Row) => c.name).join('; '))
        expect(row['Last changed']).to.equal(stockholmDate(a.updatedAt))
      })
    })

    it('writes each Art. 30(1) value as an authority reads it', async () => {
      const { rows } = await csv('')
      const row = rows.find((r) => r['Processing activity'] === 'Patientjournal')!
      expect(row).to.include({
        'Controller contact details': 'Storgatan 1, 831 30 Östersund; info@klinik.se; +46 63 12 34 56; https://klinik.se',
        'Joint controllers': 'Hudateljén AB (556000-0002): hej@hudateljen.se',
        Representative: 'Rep Ltd, rep@example.eu',
        'Data protection officer': 'Åsa Öberg, dso@klinik.se',
        'Special categories and criminal-offence data': 'Hälsouppgifter (Art. 9: health); Personnummer (personal identity number)',
        'Categories of recipients': 'Arrangörer; Google Analytics (United States of America (US))',
        'Transfers to third countries or international organisations': 'United States of America (US): Google LLC',
        'Transfer safeguards and documentation': 'US: A46-2-c Standard contractual clauses (Commission), Kryptering, documentation: SCC 2021',
        'Time limits for erasure': 'Hälsouppgifter: 10 years efter senaste anteckning (P10Y), Patientdatalagen (2008:355) 3 kap. 17 §; '
          + 'Bokföringsunderlag: 7 years efter räkenskapsårets utgång (P7Y), Bokföringslagen 7 kap. 2 §; 36 months efter senaste besök (P36M)',
        'Legal basis per purpose': 'Vård och behandling: A6-1-c Legal obligation, SE-PDL-3-17 Swedish Patient Data Act: retention of patient records; '
          + 'Fakturering: A6-1-b Contract, SE-BFL-7-2 Swedish Accounting Act: retention of accounting records',
        'Conditions for special categories / criminal data': 'Vård och behandling: A9-2-h Preventive or occupational medicine, diagnosis, health or social care',
        'Processors and data processing agreements': 'Klarna Bank AB (Betalning): data processing agreement 2025-03-01 DPA-7; Bokföringssystem AB: no data processing agreement recorded',
        'Sources of the data': 'Patienten själv',
        'Data protection impact assessment': 'Required; completed; DPIA-2025-01',
        'Automated decision-making and profiling': 'No',
        Status: 'Active', Owner: 'Vården', 'Last reviewed': '2026-01-15', 'Next review': '2027-01-15',
      })
      const news = rows.find((r) => r['Processing activity'] === 'Nyhetsbrev')!
      // Art. 13(2)(a): without a fixed period, the criteria that decide it (here the rule's name)
      expect(news['Time limits for erasure']).to.equal('No fixed limit, criteria: Så länge det behövs')
      expect(news['Legitimate interests and assessment']).to.equal('Marknadsföring: Att nå befintliga kunder, assessment: LIA-2026-02')
      expect(news['Automated decision-making and profiling']).to.equal('Yes: Segmentering efter köp')
    })

    it('speaks Swedish with lang=sv: headers, labels and å, ä, ö intact behind a byte-order mark', async () => {
      const { bytes, res } = await raw('format=csv&lang=sv')
      expect([...bytes.subarray(0, 3)]).to.deep.equal([0xef, 0xbb, 0xbf])
      expect(res.headers['content-disposition']).to.equal(`attachment; filename="registerforteckning-${today()}.csv"`)
      const { header, rows } = await csv('lang=sv', ';')
      expect(header).to.deep.equal(CONTROLLER_HEADERS_SV)
      const row = rows.find((r) => r.Behandling === 'Patientjournal')!
      expect(row.Personuppgiftsansvarig).to.equal('Klinik Östersund AB (556000-0001)')
      expect(row['Rättslig grund per ändamål']).to.contain('Fakturering: A6-1-b Avtal, SE-BFL-7-2 Bokföringslagen: arkivering av räkenskapsinformation')
      expect(row['Tidsfrister för radering (gallring)']).to.contain('Bokföringsunderlag: 7 år efter räkenskapsårets utgång (P7Y), Bokföringslagen 7 kap. 2 §')
      expect(row['Tidsfrister för radering (gallring)']).to.contain('36 månader efter senaste besök (P36M)')
      expect(row['Överföring till tredjeland eller internationell organisation']).to.equal('USA (US): Google LLC')
      expect(row['Skyddsåtgärder och dokumentation vid överföring']).to.contain('A46-2-c Standardavtalsklausuler (kommissionen)')
      expect(row['Känsliga personuppgifter och uppgifter om lagöverträdelser']).to.equal('Hälsouppgifter (art. 9: hälsa); Personnummer (personnummer)')
      expect(row.Status).to.equal('Aktiv')
      const news = rows.find((r) => r.Behandling === 'Nyhetsbrev')!
      expect(news['Tidsfrister för radering (gallring)']).to.equal('Ingen fast tidsgräns, kriterier: Så länge det behövs')
    })

    it('separates fields with semicolons for lang=sv, as Excel with Swedish settings expects', async () => {
      const { text, rows } = await csv('lang=sv', ';')
      const firstLine = text.slice(1, text.indexOf('\r\n'))
      expect(firstLine.split(';')).to.deep.equal(CONTROLLER_HEADERS_SV)
      expect(rows).to.have.length(2)
      expect(rows.find((r) => r.Behandling === 'Patientjournal')!['Ändamål']).to.equal('Vård och behandling; Fakturering')
      expect((await csv('lang=sv&delimiter=semicolon', ';')).text).to.equal(text)
    })

    it('separates fields with commas for lang=en, and takes the delimiter asked for in either language', async () => {
      const firstLine = (text: string) => text.slice(1, text.indexOf('\r\n'))
      const en = await csv('lang=en', ',')
      expect(en.header).to.deep.equal(CONTROLLER_HEADERS_EN)
      expect(en.rows).to.have.length(2)
      expect((await csv('', ',')).text, 'lang=en is the default').to.equal(en.text)
      const svComma = await csv('lang=sv&delimiter=comma', ',')
      expect(svComma.header).to.deep.equal(CONTROLLER_HEADERS_SV)
      expect(svComma.rows.find((r) => r.Behandling === 'Patientjournal')!['Ändamål']).to.equal('Vård och behandling; Fakturering')
      const enSemicolon = await csv('lang=en&delimiter=semicolon', ';')
      expect(firstLine(enSemicolon.text).split(';')).to.deep.equal(CONTROLLER_HEADERS_EN)
    })

    it('neutralises cells a spreadsheet would run as formulas with a leading apostrophe', async () => {
      const { rows } = await csv('')
      const news = rows.find((r) => r['Processing activity'] === 'Nyhetsbrev')!
      expect(news.Description).to.equal('\'=HYPERLINK("http://example.com","klicka")')
      expect(news.Owner).to.equal('\'+46 63 99 99 99')
      expect(news.Systems).to.equal('\'\tTab-system')
      const journal = rows.find((r) => r['Processing activity'] === 'Patientjournal')!
      expect(journal.Owner).to.equal('Vården')
    })

    it('exports one controller\'s record, or only activities with a status', async () => {
      const one = await csv(`controllerId=${f.controllers.clinic.id}&status=active`)
      expect(one.rows.map((r) => r['Processing activity'])).to.deep.equal(['Patientjournal'])
      const none = await csv(`controllerId=${f.controllers.itDrift.id}`)
      expect(none.rows).to.have.length(0)
      expect(none.header).to.have.length(30)
    })

    it('holds, for a joint controller, the activities it controls jointly (Art. 26, Art. 30(1)(a)), as findings and the notice do', async () => {
      const joint = await csv(`controllerId=${f.controllers.joint.id}`)
      expect(joint.rows.map((r) => r['Processing activity'])).to.deep.equal(['Patientjournal'])
      expect(joint.rows[0].Controller).to.contain('Klinik Östersund AB')
      const doc = await t.http.get(`/api/v1/register/export?format=json&controllerId=${f.controllers.joint.id}`).set('authorization', await t.auth('reader'))
      expect(doc.body.processingActivities.map((a: Row) => a.name)).to.deep.equal(['Patientjournal'])
      expect(doc.body.controllers.map((c: Row) => c.name)).to.include.members(['Klinik Östersund AB', 'Hudateljén AB'])
    })

    it('lists, for a joint controller, the reviews due of the activities it controls jointly', async () => {
      const editor = await t.auth('editor', 'joint-reviews')
      const lead = (await t.http.post('/api/v1/controllers').set('authorization', editor).send({ name: 'Region Jämtland Härjedalen' })).body
      const joint = (await t.http.post('/api/v1/controllers').set('authorization', editor).send({ name: 'Östersunds kommun' })).body
      const other = (await t.http.post('/api/v1/controllers').set('authorization', editor).send({ name: 'Åre kommun' })).body
      for (const [name, jointControllerIds] of [['Ärendehantering', [joint.id]], ['Bygglov', [joint.id]], ['Skolskjuts', [other.id]]] as [string, string[]][]) {
        const res = await t.http.post('/api/v1/processing-activities').set('authorization', editor).send({ name, role: 'controller', controllerId: lead.id, jointControllerIds })
        expect(res.status, JSON.stringify(res.body)).to.equal(201)
      }
      const due = await t.http.get(`/api/v1/register/reviews-due?controllerId=${joint.id}`).set('authorization', await t.auth('reader', 'joint-reviews'))
      expect(due.status).to.equal(200)
      // never reviewed, in the register's collation by name
      expect(due.body.items.map((i: Row) => i.activity.name)).to.deep.equal(['Bygglov', 'Ärendehantering'])
      const all = await t.http.get(`/api/v1/register/reviews-due?controllerId=${lead.id}`).set('authorization', await t.auth('reader', 'joint-reviews'))
      expect(all.body.items.map((i: Row) => i.activity.name)).to.deep.equal(['Bygglov', 'Skolskjuts', 'Ärendehantering'])
    })
  })

  describe('CSV, processor record (Art. 30(2))', () => {
    it('has one row per category of processing and client controller, with the 12 Art. 30(2) columns', async () => {
      const { header, rows, res } = await csv('record=processor')
      expect(header).to.deep.equal(PROCESSOR_HEADERS_EN)
      expect(res.headers['content-disposition']).to.equal(`attachment; filename="register-of-processing-activities-processor-${today()}.csv"`)
      expect(rows.map((r) => r['Controller (on whose behalf)'])).to.deep.equal(['Kund Ett AB', 'Kund Två AB'])
      for (const row of rows) {
        expect(row).to.include({
          Processor: 'IT-Drift i Åre AB (556000-0003)',
          'Processor contact details': 'Fjällvägen 2, Åre',
          'Data protection officer': 'Dan Dahl',
          'Categories of processing': 'Drift av kundsystem: Drift och support',
          'Sub-processors': 'Google LLC (United States of America (US))',
          'Transfers to third countries or international organisations': 'United States of America (US): Google LLC',
          'Transfer safeguards and documentation': 'US: A45-3 Adequacy decision',
          'Technical and organisational security measures': 'Behörighetsstyrning',
          'Last changed': stockholmDate(f.activities.hosting.updatedAt),
        })
      }
      expect(rows[0]['Controller contact details']).to.equal('ett@kund.se; Data protection officer: Ulla Ek, dpo@kund.se')
      const sv = await csv('record=processor&lang=sv', ';')
      expect(sv.header.slice(0, 2)).to.deep.equal(['Personuppgiftsbiträde', 'Kontaktuppgifter till personuppgiftsbiträdet'])
      expect(sv.res.headers['content-disposition']).to.contain('registerforteckning-personuppgiftsbitrade-')
    })
  })

  describe('JSON', () => {
    it('is the versioned, self-describing document, valid against the published schema', async () => {
      const doc = await json()
      expect(doc).to.include({ format: 'gdpr-art30-register', formatVersion: 1, workspace: 'test', record: 'controller' })
      expect(doc.filters).to.deep.equal({ controllerId: null, status: null, asOf: null })
      expect(Date.parse(doc.generatedAt)).to.be.closeTo(Date.now(), 60_000)
      expect(doc.processingActivities).to.deep.equal(await activityViews('controller'))
      // unfiltered: every controller and catalogue entry, custom legal bases even when unused
      expect(doc.controllers.map((c: Row) => c.name).sort()).to.deep.equal(['Hudateljén AB', 'IT-Drift i Åre AB', 'Klinik Östersund AB', 'Kund Ett AB', 'Kund Två AB'])
      expect(doc.purposes.map((p: Row) => p.name)).to.include('Oanvänt ändamål')
      const codes = doc.legalBases.map((l: Row) => l.code).sort()
      expect(codes).to.deep.equal(['A6-1-b', 'A6-1-c', 'A6-1-f', 'A9-2-h', 'SE-BFL-7-2', 'SE-LSO-5-1', 'SE-PDL-3-17'])
      const clinic = (await t.http.get(`/api/v1/controllers/${f.controllers.clinic.id}`).set('authorization', await t.auth('reader'))).body
      expect(doc.controllers.find((c: Row) => c.id === clinic.id)).to.deep.equal(clinic)
      expect(doc.processors.find((p: Row) => p.id === f.processors.books.id).subProcessors.map((s: Row) => s.name)).to.deep.equal(['Google LLC'])
    })

    it('when filtered, lists only the records the exported activities refer to, sub-processors included', async () => {
      const doc = await json(`status=active&controllerId=${f.controllers.clinic.id}`)
      expect(doc.filters).to.deep.equal({ controllerId: f.controllers.clinic.id, status: 'active', asOf: null })
      expect(doc.processingActivities.map((a: Row) => a.name)).to.deep.equal(['Patientjournal'])
      expect(doc.controllers.map((c: Row) => c.name).sort()).to.deep.equal(['Hudateljén AB', 'Klinik Östersund AB'])
      expect(doc.processors.map((p: Row) => p.name).sort()).to.deep.equal(['Bokföringssystem AB', 'Google LLC', 'Klarna Bank AB'])
      expect(doc.purposes.map((p: Row) => p.name).sort()).to.deep.equal(['Fakturering', 'Vård och behandling'])
      expect(doc.legalBases.map((l: Row) => l.code).sort()).to.deep.equal(['A6-1-b', 'A6-1-c', 'A9-2-h', 'SE-BFL-7-2', 'SE-PDL-3-17'])
      expect(doc.retentionRules.map((r: Row) => r.name).sort()).to.deep.equal(['Bokföring', 'Journal', 'Kunddata'])
    })

    it('collects from each activity\'s view exactly the references its write body makes (what the import resolves)', async () => {
      const views = [...await activityViews('controller'), ...await activityViews('processor')]
      const types = new Set<string>()
      for (const view of views) {
        const expected = new Map<string, Set<string>>()
        for (const use of processingActivities.refUses(processingActivities.toWrite(view))) {
          if (!expected.has(use.type)) expected.set(use.type, new Set())
          expected.get(use.type)!.add(use.id)
          types.add(use.type)
        }
        const found = new Map<RecordType, Set<string>>()
        addActivityReferences(found, view as ProcessingActivity)
        expect(found, view.name).to.deep.equal(expected)
      }
      // the register refers to every kind of record an activity can name
      expect([...types].sort()).to.deep.equal(['controller', 'data-category', 'data-subject-category', 'legal-basis', 'processor', 'purpose', 'recipient', 'retention-rule', 'security-measure'])
    })

    it('exports the processor record (Art. 30(2)) with the controllers it acts for', async () => {
      const doc = await json('record=processor&status=active')
      expect(doc.record).to.equal('processor')
      expect(doc.processingActivities.map((a: Row) => a.name)).to.deep.equal(['Drift av kundsystem'])
      expect(doc.controllers.map((c: Row) => c.name).sort()).to.deep.equal(['IT-Drift i Åre AB', 'Kund Ett AB', 'Kund Två AB'])
    })

    it('publishes its JSON Schema, generated from the shared schemas (npm run openapi writes it)', () => {
      const committed = readFileSync(join(__dirname, '..', '..', 'openapi', 'register-export.schema.json'), 'utf8')
      expect(committed, 'openapi/register-export.schema.json is out of date: run npm run openapi').to.equal(publishedExportSchemaText())
    })
  })

  describe('pages', () => {
    it('walks a register larger than one page, each activity once, in the register\'s collation by name, ties by id', async () => {
      const editor = await t.auth('editor', 'paged')
      const c = await t.http.post('/api/v1/controllers').set('authorization', editor).send({ name: 'Stor AB' })
      const p = await t.http.post('/api/v1/purposes').set('authorization', editor).send({ name: 'Ändamål' })
      for (let i = 0; i < 205; i++) {
        const res = await t.http.post('/api/v1/processing-activities').set('authorization', editor)
          .send({ name: [`Behandling ${i % 60}`, `Ärende ${i % 7}`, `öppen vård ${i % 3}`, `Zon ${i}`][i % 4], role: 'controller', controllerId: c.body.id, purposes: [{ purposeId: p.body.id }] })
        expect(res.status).to.equal(201)
      }
      const doc = await t.http.get('/api/v1/register/export').set('authorization', await t.auth('reader', 'paged'))
      expect(validate(doc.body)).to.equal(true)
      const ids = doc.body.processingActivities.map((a: Row) => a.id)
      expect(ids).to.have.length(205)
      expect(new Set(ids).size).to.equal(205)
      const expected = [...doc.body.processingActivities].sort(compareNames).map((a: Row) => a.id)
      expect(ids).to.deep.equal(expected)
      const list = await t.http.get('/api/v1/processing-activities?sort=name&limit=500').set('authorization', await t.auth('reader', 'paged'))
      expect(list.body.items.map((a: Row) => a.id)).to.deep.equal(expected)
      const { bytes } = await raw('format=csv', 'reader', 'paged')
      const rows = parse(bytes, { bom: true })
      expect(rows).to.have.length(206)
      expect(rows.slice(1).map((r: string[]) => r[5])).to.deep.equal(expected.map((id: string) => doc.body.processingActivities.find((a: Row) => a.id === id).name))
    })
  })

  describe('access', () => {
    it('lets a reader export, asks for a token, and never shows another workspace\'s data', async () => {
      const anonymous = await t.http.get('/api/v1/register/export')
      expect(anonymous.status).to.equal(401)
      const { text } = await csv('')
      const doc = await json()
      for (const body of [text, JSON.stringify(doc)]) expect(body).not.to.contain('Hemlig')
      const other = await t.http.get('/api/v1/register/export').set('authorization', await t.auth('reader', 'other'))
      expect(other.body.controllers.map((c: Row) => c.name)).to.deep.equal(['Hemlig AB'])
      expect(JSON.stringify(other.body)).not.to.contain('Klinik')
    })

    it('answers 400 naming the field for a bad parameter or a controller not in the workspace', async () => {
      const other = (await t.http.get('/api/v1/controllers').set('authorization', await t.auth('reader', 'other'))).body.items[0]
      for (const [query, field] of [['format=xls', 'format'], ['lang=de', 'lang'], ['delimiter=tab', 'delimiter'], ['controllerId=nope', 'controllerId'],
        [`controllerId=${other.id}`, 'controllerId'], ['status=gone', 'status'], ['colour=red', 'colour']]) {
        const res = await t.http.get(`/api/v1/register/export?${query}`).set('authorization', await t.auth('reader'))
        expect(res.status, query).to.equal(400)
        expect(res.body.code).to.equal('validation_failed')
        expect(res.body.details.map((d: Row) => d.field), query).to.include(field)
      }
    })
  })
})
