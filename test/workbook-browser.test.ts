import { expect } from 'chai'
import { Browser } from 'playwright-core'
import { buildTestApp, TestApp } from './helper'
import { launchChromium } from './chromium'
import { CHROMIUM_TOOL, needTool } from './tools'

/**
 * The editable workbook brought back from Swagger UI's "Try it out" in a real browser (Debian's
 * Chromium): the operation offers a file to choose, sends it as the binary body, and shows the dry
 * run's report.
 */
describe('the workbook upload from Swagger UI', function () {
  this.timeout(120000)
  let t: TestApp
  let browser: Browser
  let base: string

  before(function () { needTool(this, CHROMIUM_TOOL) })
  before(async () => {
    t = await buildTestApp()
    base = await t.app.listen({ host: '127.0.0.1', port: 0 })
    const c = await t.http.post('/api/v1/controllers').set('authorization', await t.auth('editor')).send({ name: 'Hudateljén Östersund' })
    expect(c.status).to.equal(201)
    browser = await launchChromium()
  })

  after(async () => {
    await browser?.close()
    await t?.close()
  })

  it('chooses the .xlsx file, sends it, and shows the dry run\'s report', async () => {
    const download = await t.http.get('/api/v1/register/workbook?lang=sv').set('authorization', await t.auth('reader'))
      .buffer(true).parse((r, cb) => {
        const chunks: Buffer[] = []
        r.on('data', (c: Buffer) => chunks.push(c))
        r.on('end', () => cb(null, Buffer.concat(chunks)))
      })
    expect(download.status).to.equal(200)

    const page = await browser.newPage()
    const problems: string[] = []
    page.on('pageerror', (e) => problems.push(e.message))
    await page.goto(`${base}/docs/#/Register/importRegisterWorkbook`)
    await page.getByRole('button', { name: /authorize/i }).first().click()
    await page.locator('.modal-ux input').first().fill((await t.auth('editor')).slice('Bearer '.length))
    await page.locator('.modal-ux .auth-btn-wrapper button.authorize').click()
    await page.locator('.modal-ux .auth-btn-wrapper button.btn-done').click()

    const operation = page.locator('#operations-Register-importRegisterWorkbook')
    if (!(await operation.locator('.opblock-body').count())) await operation.locator('.opblock-summary').click()
    await operation.locator('input[type=file]').setInputFiles({
      name: 'registerforteckning.xlsx', mimeType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', buffer: download.body as Buffer,
    })
    await operation.getByRole('button', { name: /execute/i }).click()
    const response = operation.locator('.responses-wrapper .live-responses-table .response').first()
    await response.waitFor()
    expect((await response.locator('.response-col_status').innerText()).trim()).to.equal('200')
    const shown = await response.locator('.response-col_description').innerText()
    expect(shown).to.contain('"dryRun": true').and.contain('"changes": []').and.contain('"conflicts": []')
    expect(problems).to.deep.equal([])
  })
})
