import { expect } from 'chai'
import { existsSync } from 'node:fs'
import { chromium, Browser } from 'playwright-core'
import { buildTestApp, TestApp } from './helper'

const CHROMIUM = '/usr/bin/chromium'
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']

/**
 * A compliance officer's path through Swagger UI in a real browser (Debian's Chromium): open
 * /docs, authorise with a token, run "list processing activities", see a 200 with the data.
 */
// CI installs Debian's Chromium (.ci/run) and must run this; a machine without it leaves it out.
const available = existsSync(CHROMIUM) || Boolean(process.env.CI)
if (!available) console.log(`note: ${CHROMIUM} not found, the Swagger UI browser test is left out`)

;(available ? describe : () => undefined)('Swagger UI in a browser', function () {
  this.timeout(120000)
  let t: TestApp
  let browser: Browser
  let base: string

  before(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: .ci/run should have installed Debian's chromium`)
    t = await buildTestApp()
    base = await t.app.listen({ host: '127.0.0.1', port: 0 })
    const editor = t.auth('editor')
    const c = await t.http.post('/api/v1/controllers').set('authorization', editor).send({ name: 'Hudateljén Östersund' })
    await t.http.post('/api/v1/processing-activities').set('authorization', editor)
      .send({ name: 'Journalföring av hudbehandlingar', role: 'controller', controllerId: c.body.id })
    browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS })
  })

  after(async () => {
    await browser?.close()
    await t?.close()
  })

  it('authorises with a token and lists processing activities', async () => {
    const page = await browser.newPage()
    const problems: string[] = []
    page.on('pageerror', (e) => problems.push(e.message))
    await page.goto(`${base}/docs/`)
    await page.getByRole('button', { name: /authorize/i }).first().click()
    await page.locator('.modal-ux input[type=text], .modal-ux input').first().fill(t.auth('reader').slice('Bearer '.length))
    await page.locator('.modal-ux .auth-btn-wrapper button.authorize').click()
    await page.locator('.modal-ux .auth-btn-wrapper button.btn-done').click()

    const operation = page.locator('#operations-Processing_activities-listProcessingActivities')
    await operation.locator('.opblock-summary').click()
    // "Try it out" is on from the start (uiConfig.tryItOutEnabled)
    await operation.getByRole('button', { name: /execute/i }).click()

    const response = operation.locator('.responses-wrapper .live-responses-table .response').first()
    await response.waitFor({ timeout: 30000 })
    expect((await response.locator('.response-col_status').innerText()).trim()).to.equal('200')
    expect(await response.locator('.response-col_description').innerText()).to.contain('Journalföring av hudbehandlingar')
    expect(problems).to.deep.equal([])
  })
})
