import { expect } from 'chai'
import { Browser, Page } from 'playwright-core'
import { buildTestApp, TestApp } from './helper'
import { launchChromium } from './chromium'
import { CHROMIUM_TOOL, needTool } from './tools'
import { buildRegister, Fixture } from './export-fixture'
import { DemoLoadResult, loadDemo } from '../src/register/demo/demo'

type Row = Record<string, any>


/**
 * The printable report in a real browser (Debian's Chromium), served by the app with its own
 * Content-Security-Policy: it renders without a console error or a blocked resource, shows what
 * an authority reads (names, legal bases, retention, transfers, the data-flow picture) and prints
 * to an A4 PDF, each activity on a page of its own.
 */
describe('register report in a browser', function () {
  this.timeout(180_000)
  let t: TestApp
  let browser: Browser
  let base: string
  let demo: DemoLoadResult
  let f: Fixture

  before(function () { needTool(this, CHROMIUM_TOOL) })
  before(async () => {
    t = await buildTestApp()
    demo = await loadDemo(t.app.db, { sub: 'demo-loader', role: 'admin', ws: 'demo' })
    f = await buildRegister(t)
    base = await t.app.listen({ host: '127.0.0.1', port: 0 })
    browser = await launchChromium()
  })
  after(async () => {
    await browser?.close()
    await t?.close()
  })

  /** Opens a page of the API with a reader token, recording console errors, page errors, CSP violations and failed requests. */
  async function open(path: string, ws: string): Promise<{ page: Page; problems: string[] }> {
    const page = await browser.newPage()
    const problems: string[] = []
    page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`) })
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`))
    page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()}`))
    const requests: string[] = []
    page.on('request', (r) => requests.push(r.url()))
    await page.setExtraHTTPHeaders({ authorization: await t.auth('reader', ws) })
    // the browser's own request for a site icon is not the document's (the API has none)
    await page.route('**/favicon.ico', (r) => r.fulfill({ status: 204 }))
    const res = await page.goto(`${base}${path}`)
    expect(res!.status()).to.equal(200)
    await page.waitForLoadState('load')
    // the document itself and nothing else: no script, stylesheet, font or image is fetched
    expect(requests, 'requests').to.deep.equal([`${base}${path}`])
    return { page, problems }
  }

  it('renders the demo register (Swedish) under its strict CSP without console errors, and prints it on A4', async () => {
    const { page, problems } = await open('/api/v1/register/report?lang=sv', 'demo')
    const csp = (await t.http.get('/api/v1/register/report').set('authorization', await t.auth('reader', 'demo'))).headers['content-security-policy']
    expect(csp).to.match(/^default-src 'none'; style-src 'sha256-[A-Za-z0-9+/]+=*'; /).and.to.not.contain('unsafe')
    const text = await page.locator('body').innerText()
    for (const c of demo.controllers) expect(text, c.name).to.contain(c.name)
    const activities = (await t.http.get('/api/v1/processing-activities?limit=500').set('authorization', await t.auth('reader', 'demo'))).body.items as Row[]
    const sections = page.locator('section.activity')
    expect(await sections.count()).to.equal(activities.length)
    for (const a of activities) expect(await page.locator(`section.activity[id="activity-${a.id}"] h2`).innerText()).to.equal(a.name)
    // 5dportalen: contract for customer relations, consent for profiling
    expect(text).to.contain('avtal (art. 6.1 b)').and.to.contain('samtycke (art. 6.1 a)')
    expect(text).to.contain('Ändamål och rättslig grund').and.to.contain('Tidsfrister för radering (gallring)')
    // HALTEA: "18 månader", and Google in the US without a transfer mechanism
    expect(text).to.contain('18 månader')
    expect(text).to.contain('USA (US): Google — ingen överföringsmekanism angiven')
    // the stylesheet applies (the CSP allows it by hash): a missing mechanism is shown in red
    expect(await page.locator('.missing').first().evaluate((e) => getComputedStyle(e).color)).to.equal('rgb(179, 38, 30)')
    // the data-flow picture, inline, with the register's names in it
    const svg = page.locator('section.flow svg')
    expect(await svg.count()).to.equal(1)
    const box = await svg.boundingBox()
    expect(box!.width).to.be.greaterThan(500)
    expect(await svg.locator('text').allTextContents()).to.include.members(['Google Mottagare, US', 'USA (US)', 'ingen överföringsmekanism'])
    const pdf = await page.pdf({ format: 'A4', printBackground: true })
    expect(pdf.subarray(0, 5).toString()).to.equal('%PDF-')
    const pages = (pdf.toString('latin1').match(/\/Type\s*\/Page\b(?!s)/g) ?? []).length
    // cover, contents, picture, one page or more per activity, findings
    expect(pages).to.be.at.least(3 + activities.length + 1)
    const size = /\/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]/.exec(pdf.toString('latin1'))!
    // A4 (210 × 297 mm) in points
    expect(Number(size[1])).to.be.closeTo(595.3, 1.5)
    expect(Number(size[2])).to.be.closeTo(841.9, 1.5)
    expect(problems).to.deep.equal([])
  })

  it('writes every Art. 30(1) item in words for one controller (English): legal bases with their article, retention, transfers with mechanism', async () => {
    const { page, problems } = await open(`/api/v1/register/report?lang=en&controllerId=${f.controllers.clinic.id}`, 'test')
    const text = await page.locator('body').innerText()
    expect(await page.locator('h1').innerText()).to.equal('Register of processing activities: Klinik Östersund AB')
    // the cover: contact details, representative and DPO
    const cover = await page.locator('header.cover').innerText()
    expect(cover).to.contain('556000-0001').and.to.contain('info@klinik.se').and.to.contain('Rep Ltd, rep@example.eu').and.to.contain('Åsa Öberg, dso@klinik.se')
    const records = await page.locator(`section[id="activity-${f.activities.records.id}"]`).innerText()
    expect(records).to.contain('legal obligation (Art. 6(1)(c))').and.to.contain('Art. 30(1)(b)')
    expect(records).to.contain('10 years efter senaste anteckning').and.to.contain('Patientdatalagen (2008:355) 3 kap. 17 §')
    expect(records).to.contain('United States of America (US): Google LLC — A46-2-c').and.to.contain('Kryptering').and.to.contain('SCC 2021')
    expect(records).to.contain('Hudateljén AB') // joint controller
    const newsletter = await page.locator(`section[id="activity-${f.activities.marketing.id}"]`).innerText()
    expect(newsletter).to.contain('=HYPERLINK("http://example.com","klicka")') // shown as the text it is
    expect(text).to.not.contain('Drift av kundsystem') // another controller's activity
    expect(await page.locator('#findings tbody tr').count()).to.be.greaterThan(0)
    expect(problems).to.deep.equal([])
  })

  it('serves the data-flow SVG as a standalone image the browser parses', async () => {
    const { page, problems } = await open('/api/v1/register/data-flow?format=svg&lang=en', 'test')
    expect(await page.evaluate(() => document.documentElement.namespaceURI + ' ' + document.documentElement.tagName)).to.equal('http://www.w3.org/2000/svg svg')
    expect(await page.locator('text').allTextContents()).to.include.members(['A46-2-c', 'United States of America (US)', 'Google LLC Processor, US'])
    expect(problems).to.deep.equal([])
  })

  it('renders the HTML privacy notice under its own strict CSP without console errors, its stylesheet applied', async () => {
    const haltea = demo.controllers.find((c) => c.name === 'HALTEA AB')!
    const path = `/api/v1/controllers/${haltea.id}/privacy-notice?lang=sv&format=html`
    const res = await t.http.get(path).set('authorization', await t.auth('reader', 'demo'))
    expect(res.headers['content-security-policy']).to.match(/^default-src 'none'; style-src 'sha256-[A-Za-z0-9+/]+=*'; /).and.to.not.contain('unsafe')
    const { page, problems } = await open(path, 'demo')
    expect(await page.locator('h1').innerText()).to.contain('HALTEA AB')
    expect(await page.locator('body').innerText()).to.contain('18 månader')
    // the stylesheet applies (the CSP allows it by hash): a column of 46rem, the system font
    const body = await page.locator('body').evaluate((e) => ({ maxWidth: getComputedStyle(e).maxWidth, lineHeight: getComputedStyle(e).lineHeight, fontSize: getComputedStyle(e).fontSize }))
    expect(body.maxWidth).to.equal('736px')
    expect(parseFloat(body.lineHeight) / parseFloat(body.fontSize)).to.be.closeTo(1.5, 0.01)
    expect(problems).to.deep.equal([])
    // Markdown is not a page: it keeps the API's policy
    const md = await t.http.get(path.replace('format=html', 'format=markdown')).set('authorization', await t.auth('reader', 'demo'))
    expect(md.headers['content-security-policy']).to.equal((await t.http.get('/health')).headers['content-security-policy'])
  })

  it('answers 400 naming an unknown controller, and 401 without a token', async () => {
    const bad = await t.http.get('/api/v1/register/report?controllerId=00000000-0000-4000-8000-000000000000').set('authorization', await t.auth('reader'))
    expect(bad.status).to.equal(400)
    expect(bad.body.details[0].field).to.equal('controllerId')
    expect((await t.http.get('/api/v1/register/report')).status).to.equal(401)
    expect((await t.http.get('/api/v1/register/report?format=pdf').set('authorization', await t.auth('reader'))).status).to.equal(400)
  })
})
