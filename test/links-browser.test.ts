import { expect } from 'chai'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Browser, BrowserContext, Page } from 'playwright-core'
import { buildTestApp, TestApp } from './helper'
import { launchChromium } from './chromium'
import { CHROMIUM_TOOL, needTool } from './tools'

/**
 * What a compliance officer does in a browser that sends no token: Swagger UI without a CSP error
 * and with each status's own example; a link made in Swagger UI opened in a new tab and printed to
 * PDF (read back with pdftotext); and every document's link saved under its own file name and
 * extension (Playwright's download.suggestedFilename, as Chromium names the file it saves).
 */
describe('links and documents in a browser', function () {
  this.timeout(180_000)
  before(function () { needTool(this, CHROMIUM_TOOL) })
  let t: TestApp
  let browser: Browser
  let base: string
  let controllerId: string
  let dir: string

  before(async () => {
    t = await buildTestApp({ LINK_SECRET: 'a-link-key-that-only-this-test-holds-0123456789' })
    base = await t.app.listen({ host: '127.0.0.1', port: 0 })
    const editor = await t.auth('editor')
    const c = await t.http.post('/api/v1/controllers').set('authorization', editor).send({ name: 'Hudateljén Östersund', email: 'info@hudateljen.se' })
    controllerId = c.body.id
    const purpose = await t.http.post('/api/v1/purposes').set('authorization', editor).send({ name: 'Journalföring enligt patientdatalagen' })
    const created = await t.http.post('/api/v1/processing-activities').set('authorization', editor).send({
      name: 'Journalföring av hudbehandlingar', role: 'controller', status: 'active', controllerId,
      purposes: [{ purposeId: purpose.body.id, legalBasisIds: ['A6-1-c'] }],
    })
    expect(created.status, JSON.stringify(created.body)).to.equal(201)
    browser = await launchChromium()
    dir = mkdtempSync(join(tmpdir(), 'ropa-links-'))
  })

  after(async () => {
    await browser?.close()
    await t?.close()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  /** A page that records console errors and warnings, page errors and CSP violations. */
  async function watched(context: BrowserContext): Promise<{ page: Page; problems: string[] }> {
    const page = await context.newPage()
    const problems: string[] = []
    page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`) })
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`))
    await page.addInitScript(() => document.addEventListener('securitypolicyviolation', (e) => console.error(`CSP violation: ${e.violatedDirective}`)))
    return { page, problems }
  }

  async function authorise(page: Page, role: 'reader' | 'admin' = 'reader'): Promise<void> {
    await page.getByRole('button', { name: /authorize/i }).first().click()
    await page.locator('.modal-ux input').first().fill((await t.auth(role)).slice('Bearer '.length))
    await page.locator('.modal-ux .auth-btn-wrapper button.authorize').first().click()
    await page.locator('.modal-ux .auth-btn-wrapper button.btn-done').first().click()
  }

  it('loads Swagger UI without a console error or CSP violation, and shows each status with its own example', async () => {
    const context = await browser.newContext()
    const { page, problems } = await watched(context)
    await page.goto(`${base}/docs/#/Controllers/createController`)
    const operation = page.locator('#operations-Controllers-createController')
    await operation.locator('.responses-table').waitFor()
    const example = async (status: number): Promise<Record<string, unknown>> =>
      JSON.parse(await operation.locator(`tr.response[data-code="${status}"] .example pre, tr.response[data-code="${status}"] .highlight-code pre`).first().innerText())
    for (const [status, code] of [[400, 'validation_failed'], [401, 'unauthorized'], [403, 'forbidden'], [409, 'still_referenced'], [413, 'body_too_large'], [415, 'unsupported_media_type'], [500, 'internal_error']] as const) {
      expect(await example(status), String(status)).to.include({ statusCode: status, code })
    }
    // the picture of the data flow's own errors too
    const second = await context.newPage()
    second.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`) })
    await second.goto(`${base}/docs/#/Register/getDataFlow`)
    const flow = second.locator('#operations-Register-getDataFlow')
    await flow.locator('.responses-table').waitFor()
    expect(await flow.locator('tr.response[data-code="422"] .highlight-code pre').first().innerText()).to.contain('flow_too_large')
    expect(problems).to.deep.equal([])
    await context.close()
  })

  it('makes a link to the report in Swagger UI, opens it in a new tab without a token, and prints it to a PDF that holds the register', async () => {
    const context = await browser.newContext()
    const { page, problems } = await watched(context)
    await page.goto(`${base}/docs/#/Register/createLink`)
    await authorise(page)
    const operation = page.locator('#operations-Register-createLink')
    if (!(await operation.locator('.opblock-body').count())) await operation.locator('.opblock-summary').click()
    // the first example is the report in Swedish
    expect(await operation.locator('.body-param textarea').inputValue()).to.contain('/api/v1/register/report?lang=sv')
    await operation.getByRole('button', { name: /execute/i }).click()
    const anchor = operation.locator('.responses-wrapper a.register-link')
    await anchor.waitFor()
    const [report] = await Promise.all([context.waitForEvent('page'), anchor.click()])
    await report.waitForLoadState('load')
    expect(report.url()).to.match(/\/api\/v1\/register\/report\?lang=sv&access=/)
    expect(await report.locator('h1').first().innerText()).to.match(/Registerförteckning/i)
    const pdf = join(dir, 'report.pdf')
    writeFileSync(pdf, await report.pdf({ format: 'A4', printBackground: true }))
    const text = execFileSync('pdftotext', ['-layout', pdf, '-'], { encoding: 'utf8' })
    for (const words of ['Hudateljén Östersund', 'Journalföring av hudbehandlingar', 'Journalföring enligt patientdatalagen']) {
      expect(text, words).to.contain(words)
    }
    expect(problems).to.deep.equal([])
    await context.close()
  })

  const make = async (path: string, role: 'reader' | 'admin' = 'reader'): Promise<string> => {
    const res = await t.http.post('/api/v1/register/links').set('authorization', await t.auth(role)).send({ path })
    expect(res.status, `${path}: ${JSON.stringify(res.body)}`).to.equal(201)
    return res.body.url
  }

  it('saves every document a link opens under its own file name and extension', async () => {
    const context = await browser.newContext({ acceptDownloads: true })
    const page = await context.newPage()
    const date = '\\d{4}-\\d{2}-\\d{2}'
    // attachments: opening the link saves the file
    const attachments: [string, RegExp, 'reader' | 'admin'][] = [
      ['/api/v1/register/export?format=csv&lang=sv', new RegExp(`^registerforteckning-${date}\\.csv$`), 'reader'],
      ['/api/v1/register/export?format=xlsx&lang=sv', new RegExp(`^registerforteckning-${date}\\.xlsx$`), 'reader'],
      ['/api/v1/register/export?format=json', new RegExp(`^register-of-processing-activities-${date}\\.json$`), 'reader'],
      ['/api/v1/register/export?format=csv&lang=en&record=processor', new RegExp(`^register-of-processing-activities-processor-${date}\\.csv$`), 'reader'],
      ['/api/v1/register/backup', new RegExp(`^register-backup-${date}\\.json$`), 'admin'],
    ]
    for (const [path, name, role] of attachments) {
      const url = await make(path, role)
      const [download] = await Promise.all([page.waitForEvent('download'), page.goto(url).catch(() => undefined)])
      expect(download.suggestedFilename(), path).to.match(name)
      const saved = readFileSync((await download.path())!)
      expect(saved.length, path).to.be.greaterThan(0)
      if (path.includes('xlsx')) expect(saved.subarray(0, 2).toString(), path).to.equal('PK')
      if (path.includes('csv') && !path.includes('processor')) expect(saved.toString('utf8'), path).to.contain('Hudateljén Östersund')
    }
    // documents a browser shows: opened, they display; saved ("Save link as…"), they keep their name
    const shown: [string, RegExp, string][] = [
      ['/api/v1/register/report?lang=sv', new RegExp(`^registerforteckning-rapport-${date}\\.html$`), 'Journalföring av hudbehandlingar'],
      ['/api/v1/register/report?lang=en', new RegExp(`^register-report-${date}\\.html$`), 'Journalföring av hudbehandlingar'],
      // the picture wraps long names over lines
      ['/api/v1/register/data-flow?format=svg&lang=sv', new RegExp(`^dataflode-${date}\\.svg$`), 'Journalföring'],
      ['/api/v1/register/data-flow?format=json', new RegExp(`^data-flow-${date}\\.json$`), 'Journalföring av hudbehandlingar'],
      [`/api/v1/controllers/${controllerId}/privacy-notice?lang=sv&format=html`, new RegExp(`^integritetsmeddelande-${date}\\.html$`), 'Hudateljén Östersund'],
    ]
    for (const [path, name, words] of shown) {
      const url = await make(path)
      const opened = await page.goto(url)
      expect(opened!.status(), path).to.equal(200)
      expect(await page.content(), path).to.contain(words)
      // a link to it on a page of the service, saved as a browser saves a link
      await page.goto(`${base}/health`)
      const [download] = await Promise.all([
        page.waitForEvent('download'),
        page.evaluate((href) => {
          const a = document.createElement('a')
          a.href = href
          a.download = ''
          document.body.appendChild(a)
          a.click()
        }, url),
      ])
      expect(download.suggestedFilename(), path).to.match(name)
      expect(readFileSync((await download.path())!).toString('utf8'), path).to.contain(words)
    }
    await context.close()
  })

  it('saves the report from Swagger UI\'s "Download file" under its file name, not response_….txt', async () => {
    const context = await browser.newContext({ acceptDownloads: true })
    const { page, problems } = await watched(context)
    await page.goto(`${base}/docs/#/Register/getRegisterReport`)
    await authorise(page)
    const operation = page.locator('#operations-Register-getRegisterReport')
    if (!(await operation.locator('.opblock-body').count())) await operation.locator('.opblock-summary').click()
    await operation.getByRole('button', { name: /execute/i }).click()
    const link = operation.locator('.responses-wrapper a', { hasText: 'Download file' })
    await link.waitFor()
    const [download] = await Promise.all([page.waitForEvent('download'), link.click()])
    expect(download.suggestedFilename()).to.match(/^register-report-\d{4}-\d{2}-\d{2}\.html$/)
    expect(readFileSync((await download.path())!).toString('utf8')).to.contain('Journalföring av hudbehandlingar')
    expect(problems).to.deep.equal([])
    await context.close()
  })
})
