import { expect } from 'chai'
import { readFileSync } from 'node:fs'
import { Browser } from 'playwright-core'
import { buildTestApp, TestApp } from './helper'
import { launchChromium } from './chromium'
import { CHROMIUM_TOOL, needTool } from './tools'


/**
 * A compliance officer's path through Swagger UI in a real browser (Debian's Chromium): open
 * /docs, authorise with a token, run "list processing activities", see a 200 with the data.
 */
describe('Swagger UI in a browser', function () {
  this.timeout(120000)
  let t: TestApp
  let browser: Browser
  let base: string

  before(function () { needTool(this, CHROMIUM_TOOL) })
  before(async () => {
    t = await buildTestApp()
    base = await t.app.listen({ host: '127.0.0.1', port: 0 })
    const editor = await t.auth('editor')
    const c = await t.http.post('/api/v1/controllers').set('authorization', editor).send({ name: 'Hudateljén Östersund' })
    await t.http.post('/api/v1/processing-activities').set('authorization', editor)
      .send({ name: 'Journalföring av hudbehandlingar', role: 'controller', controllerId: c.body.id })
    browser = await launchChromium()
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
    await page.locator('.modal-ux input[type=text], .modal-ux input').first().fill((await t.auth('reader')).slice('Bearer '.length))
    await page.locator('.modal-ux .auth-btn-wrapper button.authorize').click()
    await page.locator('.modal-ux .auth-btn-wrapper button.btn-done').click()

    // groups start collapsed: open "Processing activities", then the operation
    await page.locator('#operations-tag-Processing_activities').click()
    const operation = page.locator('#operations-Processing_activities-listProcessingActivities')
    await operation.locator('.opblock-summary').click()
    // "Try it out" is on from the start (uiConfig.tryItOutEnabled)
    await operation.getByRole('button', { name: /execute/i }).click()

    const response = operation.locator('.responses-wrapper .live-responses-table .response').first()
    await response.waitFor()
    expect((await response.locator('.response-col_status').innerText()).trim()).to.equal('200')
    expect(await response.locator('.response-col_description').innerText()).to.contain('Journalföring av hudbehandlingar')
    expect(problems).to.deep.equal([])
  })

  it('opens collapsed, groups in working order, with a filter, and keeps the authorisation across a reload', async () => {
    const page = await browser.newPage()
    await page.goto(`${base}/docs/`)
    const groups = page.locator('.opblock-tag-section .opblock-tag')
    await groups.first().waitFor()
    const names = (await groups.allInnerTexts()).map((n) => n.split('\n')[0].trim())
    expect(names.slice(0, 2)).to.deep.equal(['Controllers', 'Processing activities'])
    expect(names.indexOf('Register')).to.be.greaterThan(names.indexOf('Security measures'))
    expect(names[names.length - 1]).to.equal('Service')
    // no operation is expanded until asked for
    expect(await page.locator('.opblock').count()).to.equal(0)
    await page.locator('input.operation-filter-input').fill('Controllers')
    await page.waitForFunction((all) => document.querySelectorAll('.opblock-tag-section .opblock-tag').length < all, names.length)
    expect((await groups.allInnerTexts()).map((n) => n.split('\n')[0].trim())).to.include('Controllers')

    await page.getByRole('button', { name: /authorize/i }).first().click()
    await page.locator('.modal-ux input').first().fill((await t.auth('reader')).slice('Bearer '.length))
    await page.locator('.modal-ux .auth-btn-wrapper button.authorize').click()
    await page.locator('.modal-ux .auth-btn-wrapper button.btn-done').click()
    await page.reload()
    await page.locator('.opblock-tag-section .opblock-tag').first().waitFor()
    // the lock shows closed: the token is still there after the reload
    await page.locator('.auth-wrapper button.authorize.locked').waitFor()
    await page.close()
  })

  it('saves from "Download file" the very bytes the service sends, byte-order mark included', async () => {
    const context = await browser.newContext({ acceptDownloads: true })
    const page = await context.newPage()
    await page.goto(`${base}/docs/#/Register/exportRegister`)
    await page.getByRole('button', { name: /authorize/i }).first().click()
    await page.locator('.modal-ux input').first().fill((await t.auth('reader')).slice('Bearer '.length))
    await page.locator('.modal-ux .auth-btn-wrapper button.authorize').click()
    await page.locator('.modal-ux .auth-btn-wrapper button.btn-done').click()

    const operation = page.locator('#operations-Register-exportRegister')
    if (!(await operation.locator('.opblock-body').count())) await operation.locator('.opblock-summary').click()
    await operation.locator('tr[data-param-name="format"] select').selectOption('csv')
    await operation.locator('tr[data-param-name="lang"] select').selectOption('sv')
    await operation.getByRole('button', { name: /execute/i }).click()
    const link = operation.locator('.responses-wrapper a', { hasText: 'Download file' })
    await link.waitFor()
    const [download] = await Promise.all([page.waitForEvent('download'), link.click()])
    const saved = readFileSync((await download.path())!)

    const res = await t.http.get('/api/v1/register/export?format=csv&lang=sv').set('authorization', await t.auth('reader'))
      .buffer(true).parse((r, cb) => {
        const chunks: Buffer[] = []
        r.on('data', (c: Buffer) => chunks.push(c))
        r.on('end', () => cb(null, Buffer.concat(chunks)))
      })
    const sent = res.body as Buffer
    expect([...sent.subarray(0, 3)]).to.deep.equal([0xef, 0xbb, 0xbf])
    expect(saved.toString('hex')).to.equal(sent.toString('hex'))
    expect(saved.toString('utf8')).to.contain('Hudateljén Östersund')
    await context.close()
  })
})
