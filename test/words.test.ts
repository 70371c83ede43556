import { readFileSync } from 'node:fs'
import { expect } from 'chai'
import { execFile } from 'node:child_process'
import { createServer, Server } from 'node:net'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { parse } from 'csv-parse/sync'
import { jwtVerify } from 'jose'
import { buildTestApp, migratedDatabase, SECRET, TestApp, TestDatabase } from './helper'
import { buildRegister, Fixture } from './export-fixture'
import { SERVER_JS } from './server-process'
import { registerReport } from '../src/register/reading/report'

type Row = Record<string, any>
const run = promisify(execFile)

/**
 * What the compliance officer reads and what a person is told when a request is wrong (issue 25):
 * the Art. 30(2) record in its own items, a notice that promises only what applies, a transfer to an
 * international organisation, dates in the register's time zone, tokens whose lifetime is what was
 * asked, and messages that say what to send instead.
 */
describe('words that are true', function () {
  this.timeout(180_000)
  let t: TestApp
  let f: Fixture
  let ids: Record<string, string>

  const as = (role: 'reader' | 'editor' | 'admin'): Promise<string> => t.auth(role)
  async function post(path: string, body: Row): Promise<Row> {
    const res = await t.http.post(`/api/v1/${path}`).set('authorization', await as('admin')).send(body)
    expect(res.status, `${path}: ${JSON.stringify(res.body)}`).to.equal(201)
    return res.body
  }

  before(async () => {
    t = await buildTestApp()
    f = await buildRegister(t)
    const shop = await post('controllers', { name: 'Butik Åre AB', email: 'hej@butik.se' })
    const [sale, news, support, logging] = await Promise.all(['Försäljning', 'Nyhetsbrev till kunder', 'Kundtjänst', 'Loggning'].map((name) => post('purposes', { name })))
    const customers = await post('data-subject-categories', { name: 'Kunder i butiken' })
    const openEnded = await post('retention-rules', { name: 'Så länge kundrelationen består', period: null, trigger: 'tills kunden avslutar sitt konto', description: 'Kontot raderas när kunden ber om det.' })
    await post('processing-activities', {
      name: 'Webbshop', role: 'controller', status: 'active', controllerId: shop.id, dataSubjectCategoryIds: [customers.id],
      purposes: [
        { purposeId: sale.id, legalBasisIds: ['A6-1-b'], provisionRequirement: 'required-to-enter-contract', provisionConsequences: 'Utan adress kan vi inte leverera din beställning.' },
        { purposeId: support.id, legalBasisIds: ['A6-1-f'], legitimateInterest: 'Att svara på frågor' },
      ],
      retention: [{ retentionRuleId: openEnded.id }],
      transfers: [{ internationalOrganisation: 'Världshälsoorganisationen (WHO)' }],
    })
    await post('processing-activities', {
      name: 'Nyhetsbrev (utkast)', role: 'controller', status: 'draft', controllerId: shop.id,
      purposes: [{ purposeId: news.id, legalBasisIds: ['A6-1-a'] }],
    })
    // an Art. 30(2) record with a purpose whose legal basis is the client's to record
    const hosting = await post('processing-activities', {
      name: 'Drift av loggar', role: 'processor', status: 'active', controllerId: f.controllers.itDrift.id,
      onBehalfOfControllerIds: [f.controllers.clientOne.id], purposes: [{ purposeId: logging.id }],
    })
    ids = { shop: shop.id, hosting: hosting.id }
  })
  after(async () => t?.close())

  describe('the report', () => {
    it('itemises an Art. 30(2) record as Art. 30(2)(a)-(d), with each client controller\'s contact details, representative and DPO', async () => {
      const html = await registerReport(t.app.db, 'test', { lang: 'en' }, new Date(), 'Europe/Stockholm')
      const section = html.slice(html.indexOf(`id="activity-${f.activities.hosting.id}"`), html.indexOf('</section>', html.indexOf(`id="activity-${f.activities.hosting.id}"`)))
      for (const point of ['a', 'b', 'c', 'd']) expect(section, point).to.contain(`Art. 30(2)(${point})`)
      expect(section).to.not.contain('Art. 30(1)')
      // Kund Ett AB: e-mail and DPO; Kund Två AB: phone, and no DPO recorded said so
      expect(section).to.contain('<strong>Kund Ett AB</strong>: ett@kund.se').and.to.contain('Ulla Ek, dpo@kund.se')
      expect(section).to.contain('<strong>Kund Två AB</strong>: +46 8 123 45')
      expect(section).to.match(/Data protection officer \(Art\. 37–39\): <span class="none">not recorded<\/span>/)
      // the processor itself, with its address and DPO
      expect(section).to.contain('<strong>IT-Drift i Åre AB</strong>: 556000-0003, Fjällvägen 2, Åre').and.to.contain('Dan Dahl')
      expect(section).to.contain('Categories of processing carried out for each controller').and.to.contain('Drift och support')
    })

    it('does not call a processor record\'s purpose without legal basis missing (the client controller records it)', async () => {
      const html = await registerReport(t.app.db, 'test', { lang: 'sv' }, new Date(), 'Europe/Stockholm')
      const start = html.indexOf(`id="activity-${ids.hosting}"`)
      const section = html.slice(start, html.indexOf('</section>', start))
      expect(section).to.contain('Loggning').and.to.contain('art. 30.2 b')
      expect(section).to.not.contain('class="missing"')
    })

    it('prints every date in the register\'s time zone: generated on, and the findings\' today (a review due the day before there)', async () => {
      // 23:30 UTC on 15 January 2027 is already the 16th in Tokyo
      const at = new Date('2027-01-15T23:30:00Z')
      const due = await post('processing-activities', { name: 'Granskas i dag', role: 'controller', status: 'active', controllerId: ids.shop, nextReviewAt: '2027-01-15' })
      try {
        const tokyo = await registerReport(t.app.db, 'test', { lang: 'en' }, at, 'Asia/Tokyo')
        expect(tokyo).to.contain('Generated: 2027-01-16')
        expect(tokyo).to.contain('The review was due on 2027-01-15 and is overdue.')
        const utc = await registerReport(t.app.db, 'test', { lang: 'en' }, at, 'UTC')
        expect(utc).to.contain('Generated: 2027-01-15')
        expect(utc).to.not.contain('The review was due on 2027-01-15 and is overdue.')
      } finally {
        await t.http.delete(`/api/v1/processing-activities/${due.id}`).set('authorization', await as('admin'))
      }
    })
  })

  describe('the privacy notice', () => {
    const notice = async (lang = 'sv'): Promise<string> => {
      const res = await t.http.get(`/api/v1/controllers/${ids.shop}/privacy-notice?lang=${lang}`).set('authorization', await as('reader'))
      expect(res.status, res.text).to.equal(200)
      return res.text
    }

    it('promises portability (Art. 20) for the purposes resting on contract or consent only, and leaves drafts out', async () => {
      const sv = await notice()
      expect(sv).to.contain('(dataportabilitet), art. 20; det gäller behandling som grundas på samtycke eller avtal: Försäljning')
      expect(sv).to.not.match(/avtal: [^\n]*Kundtjänst/) // legitimate interest: no portability
      // the draft (consent for a newsletter) is not told, nor its right to withdraw consent
      expect(sv).to.not.contain('Nyhetsbrev till kunder').and.to.not.contain('återkalla')
    })

    it('gives the retention criteria where there is no fixed period (Art. 13(2)(a))', async () => {
      expect(await notice()).to.contain('ingen fast tidsgräns, kriterier: Så länge kundrelationen består – tills kunden avslutar sitt konto – Kontot raderas när kunden ber om det.')
      expect(await notice('en')).to.contain('no fixed time limit, criteria: Så länge kundrelationen består')
    })

    it('says whether the data must be provided and what follows if not (Art. 13(2)(e)), and says so where the register is silent', async () => {
      const sv = await notice()
      expect(sv).to.contain('**Försäljning** – rättslig grund: avtal (art. 6.1 b). Uppgifterna krävs för att vi ska kunna ingå avtal med dig. Om du inte lämnar uppgifterna: Utan adress kan vi inte leverera din beställning.')
      expect(sv).to.contain('**Kundtjänst** – rättslig grund: berättigat intresse (art. 6.1 f). Vårt berättigade intresse: Att svara på frågor. Om du måste lämna uppgifterna anges inte.')
      expect(await notice('en')).to.contain('We need the data to enter into a contract with you. If you do not provide the data: Utan adress')
    })

    it('tells a transfer to an international organisation', async () => {
      const sv = await notice()
      expect(sv).to.contain('## Överföring till tredjeland och internationella organisationer')
      expect(sv).to.contain('**Världshälsoorganisationen (WHO) (internationell organisation) (i behandlingen ”Webbshop”)** – skyddsåtgärd anges inte.')
    })
  })

  describe('a transfer\'s destination', () => {
    const activity = (transfers: Row[]) => ({ name: 'Överföring', role: 'controller', controllerId: ids.shop, transfers })
    const write = async (transfers: Row[]) => t.http.post('/api/v1/processing-activities').set('authorization', await as('editor')).send(activity(transfers))

    it('is a country or an international organisation, exactly one: 400 naming the field otherwise', async () => {
      const neither = await write([{ mechanism: 'A46-2-c' }])
      expect(neither.status).to.equal(400)
      expect(neither.body.details).to.deep.include({ field: 'transfers[0].country', message: 'a transfer names its destination: a country such as US, or an internationalOrganisation such as "World Health Organization (WHO)"' })
      const both = await write([{ country: 'US', internationalOrganisation: 'UNHCR' }])
      expect(both.status).to.equal(400)
      expect(both.body.details.map((d: Row) => d.field)).to.deep.equal(['transfers[0].internationalOrganisation'])
      const organisation = await write([{ internationalOrganisation: 'UNHCR', mechanism: 'A46-2-c' }])
      expect(organisation.status, JSON.stringify(organisation.body)).to.equal(201)
      expect(organisation.body.transfers[0]).to.include({ country: null, internationalOrganisation: 'UNHCR' })
      await t.http.delete(`/api/v1/processing-activities/${organisation.body.id}`).set('authorization', await as('admin'))
    })

    it('is named in the CSV and found without a mechanism like a third country', async () => {
      const csv = await t.http.get(`/api/v1/register/export?format=csv&controllerId=${ids.shop}`).set('authorization', await as('reader'))
      const rows = parse(csv.text, { bom: true, columns: true }) as Row[]
      const shop = rows.find((r) => r['Processing activity'] === 'Webbshop')!
      expect(shop['Transfers to third countries or international organisations']).to.equal('Världshälsoorganisationen (WHO) (international organisation)')
      expect(shop['Time limits for erasure']).to.equal('No fixed limit, criteria: Så länge kundrelationen består – tills kunden avslutar sitt konto – Kontot raderas när kunden ber om det.')
      const findings = (await t.http.get(`/api/v1/register/findings?rule=transfer-without-mechanism&controllerId=${ids.shop}`).set('authorization', await as('reader'))).body
      expect(findings.items.map((i: Row) => i.message.en)).to.include('The transfer to Världshälsoorganisationen (WHO) (international organisation) has no transfer mechanism (adequacy decision, appropriate safeguards or derogation).')
    })
  })

  it('imports a document exported before the new fields existed, as it did', async () => {
    const doc = (await t.http.get('/api/v1/register/export?format=json').set('authorization', await as('reader'))).body
    // as an older file has them: without the fields (none of them set then)
    const older = (o: Row, fields: string[]): void => { for (const k of fields) if (o[k] === null) delete o[k] }
    for (const a of doc.processingActivities) {
      for (const p of a.purposes) older(p, ['provisionRequirement', 'provisionConsequences'])
      for (const tr of a.transfers) older(tr, ['internationalOrganisation'])
      for (const r of a.retention) older(r.retentionRule, ['description'])
    }
    expect(doc.processingActivities.some((a: Row) => a.purposes.some((p: Row) => !('provisionRequirement' in p)))).to.equal(true)
    const res = await t.http.post('/api/v1/register/import').set('authorization', await t.auth('admin', 'older-file')).send(doc)
    expect(res.status, JSON.stringify(res.body)).to.equal(200)
    expect(res.body.created.processingActivities).to.equal(doc.processingActivities.length)
  })

  it('imports the demo register as the release before the DPIA screening and Art. 13(2)(e) fields exported it', async () => {
    // the file as that release wrote it (test/fixtures), none of this release's fields in it
    const doc = JSON.parse(readFileSync(join(__dirname, '..', '..', 'test', 'fixtures', 'demo-register-2026-12-05.json'), 'utf8'))
    expect(doc.dataSubjectCategories.some((c: Row) => 'vulnerable' in c)).to.equal(false)
    const res = await t.http.post('/api/v1/register/import').set('authorization', await t.auth('editor', 'previous-release')).send(doc)
    expect(res.status, JSON.stringify(res.body).slice(0, 500)).to.equal(200)
    expect(res.body.created.processingActivities).to.equal(doc.processingActivities.length)
    // the screening is computed from the facts the file had: none answered, so nothing is "not-required"
    const list = (await t.http.get('/api/v1/processing-activities?dpiaScreening=not-required').set('authorization', await t.auth('reader', 'previous-release'))).body
    expect(list.total).to.equal(0)
  })

  describe('small things', () => {
    it('pages the findings like every list: limit, offset, total', async () => {
      const all = (await t.http.get('/api/v1/register/findings').set('authorization', await as('reader'))).body
      expect(all.total).to.be.greaterThan(4)
      const page = await t.http.get('/api/v1/register/findings?limit=2&offset=1').set('authorization', await as('reader'))
      expect(page.status, page.text).to.equal(200)
      expect(page.body).to.include({ total: all.total, limit: 2, offset: 1 })
      expect(page.body.items).to.deep.equal(all.items.slice(1, 3))
      expect(page.body.counts).to.deep.equal(all.counts)
      const bad = await t.http.get('/api/v1/register/findings?limit=0').set('authorization', await as('reader'))
      expect(bad.status).to.equal(400)
    })

    it('answers a malformed If-Match with 400 showing the form, a stale one with 412 naming the current version', async () => {
      const created = await post('purposes', { name: 'Versionsprov' })
      const path = `/api/v1/purposes/${created.id}`
      const bare = await t.http.patch(path).set('authorization', await as('editor')).set('if-match', '1').send({ description: 'x' })
      expect(bare.status).to.equal(400)
      expect(bare.body.details).to.deep.equal([{ field: 'If-Match', message: 'must be the ETag of the version you read, in double quotes as the ETag header gives it: "1"; got 1' }])
      const garbage = await t.http.patch(path).set('authorization', await as('editor')).set('if-match', 'version one').send({ description: 'x' })
      expect(garbage.status).to.equal(400)
      expect(garbage.body.details[0].message).to.contain('"3" (or *)')
      const ok = await t.http.patch(path).set('authorization', await as('editor')).set('if-match', `"${created.version}"`).send({ description: 'y' })
      expect(ok.status).to.equal(200)
      const stale = await t.http.patch(path).set('authorization', await as('editor')).set('if-match', `"${created.version}"`).send({ description: 'z' })
      expect(stale.status).to.equal(412)
      expect(stale.body.message).to.contain(`it is at version ${ok.body.version}`)
    })

    it('words validation messages so a person can act on them: an example, the pattern in words, the limit, the content type', async () => {
      const asOf = await t.http.get('/api/v1/register/export?asOf=yesterday').set('authorization', await as('reader'))
      expect(asOf.status).to.equal(400)
      expect(asOf.body.details.map((d: Row) => d.field)).to.deep.equal(['asOf'])
      expect(asOf.body.details[0].message).to.match(/^asOf must be .*such as 2026-06-30T12:00:00Z/) // an example to copy
      const version = await t.http.get('/api/v1/register/export?version=latest').set('authorization', await as('reader'))
      expect(version.body.details).to.deep.equal([{ field: 'version', message: 'version must be a version number such as 3, or approved' }])
      const id = await t.http.get('/api/v1/register/findings?controllerId=42').set('authorization', await as('reader'))
      expect(id.body.details[0].message).to.match(/^controllerId must be a UUID.* [0-9a-f]{8}-[0-9a-f]{4}-/)
      const large = await t.http.post('/api/v1/purposes').set('authorization', await as('editor')).set('content-type', 'application/json')
        .send(JSON.stringify({ name: 'x', description: 'x'.repeat(t.app.config.bodyLimit) }))
      expect(large.status).to.equal(413)
      expect(large.body.message).to.equal(`The request body is larger than this endpoint accepts: at most ${t.app.config.bodyLimit} bytes (${Number((t.app.config.bodyLimit / 1048576).toFixed(1))} MB)`)
      const text = await t.http.post('/api/v1/purposes').set('authorization', await as('editor')).set('content-type', 'application/xml').send('<purpose/>')
      expect(text.status).to.equal(415)
      expect(text.body.message).to.equal('The body must be JSON: send it with Content-Type: application/json (the content type sent was application/xml)')
    })

    it('takes legal-basis codes in any case, and names the codes there are when one is unknown', async () => {
      const purpose = await post('purposes', { name: 'Kodprov' })
      const lower = await t.http.post('/api/v1/processing-activities').set('authorization', await as('editor'))
        .send({ name: 'Små bokstäver', role: 'controller', controllerId: ids.shop, purposes: [{ purposeId: purpose.id, legalBasisIds: ['a6-1-b', 'se-bfl-7-2'] }] })
      expect(lower.status, JSON.stringify(lower.body)).to.equal(201)
      expect(lower.body.purposes[0].legalBases.map((b: Row) => b.code)).to.deep.equal(['A6-1-b', 'SE-BFL-7-2'])
      const unknown = await t.http.post('/api/v1/processing-activities').set('authorization', await as('editor'))
        .send({ name: 'Okänd kod', role: 'controller', controllerId: ids.shop, purposes: [{ purposeId: purpose.id, legalBasisIds: ['A6-1-g'] }] })
      expect(unknown.status).to.equal(400)
      const [detail] = unknown.body.details
      expect(detail.field).to.equal('purposes[0].legalBasisIds[0]')
      expect(detail.message).to.match(/^no legal basis with code A6-1-g in this workspace; codes there are: A6-1-a, A6-1-b, A6-1-c, A6-1-d, A6-1-e, A6-1-f; all \d+ codes: GET \/api\/v1\/legal-bases$/)
    })

    it('mints a token for as long as --expires-in says: a bare number is seconds, or 30m, 8h, 7d', async () => {
      const token = join(__dirname, '..', 'src', 'cli', 'token.js')
      const env = { PATH: process.env.PATH ?? '', JWT_SECRET: SECRET, NODE_ENV: 'test' }
      const lifetime = async (value: string): Promise<number> => {
        const { stdout } = await run(process.execPath, [token, '--role', 'reader', '--ws', 'test', '--expires-in', value], { env })
        const { payload: claims } = await jwtVerify(stdout.trim(), new TextEncoder().encode(SECRET))
        return claims.exp! - claims.iat!
      }
      expect(await lifetime('3600')).to.equal(3600)
      expect(await lifetime('30m')).to.equal(1800)
      expect(await lifetime('8h')).to.equal(8 * 3600)
      expect(await lifetime('7d')).to.equal(7 * 86400)
      const bad = await run(process.execPath, [token, '--expires-in', 'soon'], { env }).then(() => null, (err) => err)
      expect(bad.code).to.equal(2)
      expect(bad.stderr.trim()).to.equal('--expires-in must be a lifetime such as 3600 (seconds), 30m, 8h or 7d; got "soon"')
    })
  })
})

describe('a port in use', function () {
  // a server process loads and starts in 2-3 s alone; 30 s was seen in CI with three suites on two cores
  this.timeout(180_000)
  let db: TestDatabase
  let holder: Server
  before(async () => {
    db = await migratedDatabase() // migrated already: the server's start is about the port, not the schema
    holder = createServer()
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve))
  })
  after(async () => {
    await new Promise((resolve) => holder.close(resolve))
    await db.drop()
  })

  it('is one clear line naming the port and how to use another, not a stack trace', async () => {
    const port = (holder.address() as { port: number }).port
    const failed = await run(process.execPath, [SERVER_JS], {
      env: { PATH: process.env.PATH ?? '', NODE_ENV: 'test', HOST: '127.0.0.1', PORT: String(port), DATABASE_URL: db.url, JWT_SECRET: SECRET, LOG_LEVEL: 'warn' },
    }).then(() => null, (err) => err)
    expect(failed, 'the server should not start').to.not.equal(null)
    expect(failed.code).to.equal(1)
    const lines = failed.stderr.trim().split('\n')
    expect(lines).to.deep.equal([`Port ${port} on 127.0.0.1 is in use by another process: stop it, or start on another port, e.g. PORT=${port + 1} npm start`])
  })
})
