import { expect } from 'chai'
import { parse } from 'csv-parse/sync'
import { buildTestApp, TestApp } from './helper'
import { buildRegister, Fixture } from './export-fixture'
import { asFlatOds, printedPages, sheetsAsCsv } from './libreoffice'
import { needTool, SOFFICE_TOOL } from './tools'
import { loadDemo } from '../src/register/demo/demo'
import { SHEET_NAMES, XLSX_CONTENT_TYPE } from '../src/register/exchange/xlsx'
import { registerDate } from '../src/register/wording/dates'

type Row = Record<string, any>

/**
 * The XLSX workbook read back by LibreOffice (the spreadsheet our users open it in), against the
 * CSV export of the same register, cell for cell, in both languages and with filters.
 */
describe('register export as an XLSX workbook', function () {
  this.timeout(180_000)
  let t: TestApp
  let f: Fixture

  // CI installs Debian's libreoffice-calc-nogui (.ci/run) and must run this; elsewhere it is pending without it
  before(function () { needTool(this, SOFFICE_TOOL) })
  before(async () => {
    t = await buildTestApp()
    f = await buildRegister(t)
    await loadDemo(t.app.db, { sub: 'demo-loader', role: 'admin', ws: 'demo' })
  })
  after(async () => t?.close())

  async function download(query: string, ws = 'test'): Promise<{ res: any; bytes: Buffer }> {
    const res = await t.http.get(`/api/v1/register/export?${query}`).set('authorization', await t.auth('reader', ws))
      .buffer(true).parse((r, cb) => {
        const chunks: Buffer[] = []
        r.on('data', (c: Buffer) => chunks.push(c))
        r.on('end', () => cb(null, Buffer.concat(chunks)))
      })
    return { res, bytes: res.body as Buffer }
  }

  async function csv(query: string, ws = 'test'): Promise<string[][]> {
    // comma whatever the language (lang=sv defaults to semicolons), to compare with what Calc made of the sheets
    const { res, bytes } = await download(`format=csv&delimiter=comma&${query}`, ws)
    expect(res.status, bytes.toString()).to.equal(200)
    return parse(bytes, { bom: true }) as string[][]
  }

  /** The CSV's guard against formulas (a leading ' before = + - @ tab or CR) is the one difference: no workbook cell is a formula. */
  const withoutFormulaGuard = (rows: string[][]): string[][] => rows.map((r) => r.map((cell) => cell.replace(/^'(?=[=+\-@\t\r])/, '')))

  async function workbook(query: string, ws = 'test'): Promise<{ bytes: Buffer; sheets: Map<string, string[][]>; res: any }> {
    const { res, bytes } = await download(`format=xlsx&${query}`, ws)
    expect(res.status, bytes.toString()).to.equal(200)
    return { res, bytes, sheets: await sheetsAsCsv(bytes) }
  }

  for (const lang of ['en', 'sv'] as const) {
    it(`holds the CSV's Art. 30(1) and 30(2) records cell for cell, sheets named in ${lang}`, async () => {
      for (const ws of ['test', 'demo']) {
        const { res, sheets } = await workbook(`lang=${lang}`, ws)
        expect(res.headers['content-type']).to.equal(XLSX_CONTENT_TYPE)
        const base = lang === 'sv' ? 'registerforteckning' : 'register-of-processing-activities'
        expect(res.headers['content-disposition']).to.match(new RegExp(`^attachment; filename="${base}-\\d{4}-\\d{2}-\\d{2}\\.xlsx"$`))
        expect([...sheets.keys()]).to.deep.equal(Object.values(SHEET_NAMES).map((n) => n[lang]))
        const controllerRecord = withoutFormulaGuard(await csv(`lang=${lang}`, ws))
        const processorRecord = withoutFormulaGuard(await csv(`lang=${lang}&record=processor`, ws))
        expect(sheets.get(SHEET_NAMES.controllerRecord[lang]), `${ws} Art. 30(1)`).to.deep.equal(controllerRecord)
        expect(sheets.get(SHEET_NAMES.processorRecord[lang]), `${ws} Art. 30(2)`).to.deep.equal(processorRecord)
        expect(controllerRecord.length, ws).to.be.greaterThan(2)
        if (ws === 'test') expect(processorRecord).to.have.length(3) // one row per client controller
      }
    })
  }

  it('applies the CSV\'s filters (controllerId, status) to the records and scopes the other sheets with them', async () => {
    const query = `lang=sv&controllerId=${f.controllers.clinic.id}&status=active`
    const { sheets } = await workbook(query)
    const controllerRecord = withoutFormulaGuard(await csv(query))
    expect(controllerRecord.map((r) => r[5])).to.deep.equal(['Behandling', 'Patientjournal'])
    expect(sheets.get(SHEET_NAMES.controllerRecord.sv)).to.deep.equal(controllerRecord)
    expect(sheets.get(SHEET_NAMES.processorRecord.sv)).to.deep.equal(withoutFormulaGuard(await csv(`${query}&record=processor`)))
    const controllers = sheets.get(SHEET_NAMES.controllers.sv)!
    expect(controllers.slice(1).map((r) => r[0])).to.deep.equal(['Klinik Östersund AB'])
    const findings = sheets.get(SHEET_NAMES.findings.sv)!.slice(1)
    expect(findings.length).to.be.greaterThan(0)
    expect(findings.map((r) => r[3])).to.not.include('Nyhetsbrev') // a draft: left out by status=active
  })

  it('lists every controller with contact details, representative and DPO, in the chosen language', async () => {
    const { sheets } = await workbook('lang=sv')
    const [header, ...rows] = sheets.get(SHEET_NAMES.controllers.sv)!
    expect(header).to.deep.equal(['Personuppgiftsansvarig', 'Organisationsnummer', 'Adress', 'E-post', 'Telefon', 'Webbplats', 'Land', 'Företrädare', 'Dataskyddsombud', 'Senast ändrad'])
    const listed = (await t.http.get('/api/v1/controllers?limit=500').set('authorization', await t.auth('reader'))).body.items as Row[]
    expect(rows.map((r) => r[0]).sort()).to.deep.equal(listed.map((c) => c.name).sort())
    const clinic = rows.find((r) => r[0] === 'Klinik Östersund AB')!
    expect(clinic.slice(0, 9)).to.deep.equal([
      'Klinik Östersund AB', '556000-0001', 'Storgatan 1, 831 30 Östersund', 'info@klinik.se', '+46 63 12 34 56', 'https://klinik.se',
      'Sverige (SE)', 'Rep Ltd, rep@example.eu', 'Åsa Öberg, dso@klinik.se',
    ])
    expect(clinic[9]).to.equal(registerDate(new Date(f.controllers.clinic.updatedAt), t.app.config.registerTimeZone)) // the register's calendar day
  })

  it('lists the open findings as GET /register/findings finds them, messages in the chosen language', async () => {
    for (const lang of ['en', 'sv'] as const) {
      const { sheets } = await workbook(`lang=${lang}`, 'demo')
      const [, ...rows] = sheets.get(SHEET_NAMES.findings[lang])!
      const api = (await t.http.get('/api/v1/register/findings').set('authorization', await t.auth('reader', 'demo'))).body
      expect(api.total).to.be.greaterThan(10)
      const key = (rule: string, record: string, field: string, message: string): string => JSON.stringify([rule, record, field, message])
      expect(rows.map((r) => key(r[6], r[3], r[4], r[5])).sort())
        .to.deep.equal(api.items.map((i: Row) => key(i.rule, i.record.name, i.field ?? '', i.message[lang])).sort())
      expect(new Set(rows.map((r) => r[0]))).to.deep.equal(new Set(lang === 'sv' ? ['Hög', 'Medel', 'Låg'] : ['High', 'Medium', 'Low']))
    }
  })

  it('writes no formula: a name such as =HYPERLINK(…) stays text; dates are dates; every sheet has an autofilter', async () => {
    const { bytes } = await download('format=xlsx&lang=en')
    const ods = await asFlatOds(bytes)
    expect(ods).to.not.match(/table:formula=/)
    expect(ods).to.contain('=HYPERLINK(&quot;http://example.com&quot;,&quot;klicka&quot;)').and.to.contain('@SUM(1+1)')
    // Patientjournal's last and next review, as dates (not text) in LibreOffice
    expect(ods).to.match(/office:value-type="date" office:date-value="2026-01-15"/)
    expect(ods).to.match(/office:value-type="date" office:date-value="2027-01-15"/)
    const filters = [...ods.matchAll(/<table:database-range [^>]*table:target-range-address="([^"]+)"[^>]*table:display-filter-buttons="true"/g)].map((m) => m[1])
    expect(filters).to.have.length(4)
    expect(filters[0]).to.match(/\.A1:.*\.AD3$/) // the 30 columns: the header and the two controller activities
  })

  it('prints from LibreOffice one page wide: every page has its sheet\'s whole header row, no wrapped text is cut off', async () => {
    const { bytes, sheets } = await workbook('lang=en', 'demo')
    const pages = await printedPages(bytes)
    // 33 landscape pages of one to three columns each before the print setup; the demo now prints on 8
    expect(pages.length).to.be.within(4, 16)
    const flat = (text: string): string => text.replace(/\s+/g, ' ')
    const sheetOf = (page: string): string => {
      // the footer names the sheet, then the page number of all
      const named = Object.values(SHEET_NAMES).map((n) => n.en).filter((name) => new RegExp(`(^|\\n)${name.replace(/[()]/g, '\\$&')}\\n`).test(page))
      expect(named, page.slice(0, 300)).to.have.length(1)
      return named[0]
    }
    // the words of texts, counted (a word broken at its hyphen by the line is joined again by pdftotext)
    const words = (texts: string[]): Map<string, number> => {
      const counts = new Map<string, number>()
      for (const word of texts.join(' ').replace(/-/g, '').split(/\s+/).filter(Boolean)) counts.set(word, (counts.get(word) ?? 0) + 1)
      return counts
    }
    const lacking = (paper: string[], cells: string[]): [string, number][] => {
      const onPaper = words(paper)
      return [...words(cells)].filter(([word, n]) => (onPaper.get(word) ?? 0) < n)
    }
    const printed = new Map<string, string[]>()
    for (const [i, page] of pages.entries()) {
      const sheet = sheetOf(page)
      expect(flat(page), `page ${i + 1}`).to.match(new RegExp(`\\b${i + 1} ?/ ?${pages.length}\\b`))
      // one page wide, the header repeated: every column's header is on every page of its sheet
      // (word by word: pdftotext interleaves the lines of narrow wrapped headers side by side)
      expect(lacking([page], sheets.get(sheet)![0]), `page ${i + 1} (${sheet})`).to.deep.equal([])
      printed.set(sheet, [...(printed.get(sheet) ?? []), page])
    }
    expect([...printed.keys()]).to.deep.equal(Object.values(SHEET_NAMES).map((n) => n.en))
    // 12 pages for 60 findings before rows were sized and the print set up; now a page holds at least 7
    const findingRows = sheets.get(SHEET_NAMES.findings.en)!.length - 1
    expect(printed.get(SHEET_NAMES.findings.en)!.length).to.be.at.most(Math.ceil(findingRows / 7))
    // Rows as high as their wrapped text: a row left one line high prints only its first line of each
    // cell, so every word of the findings and the controllers is on their pages.
    for (const sheet of [SHEET_NAMES.findings.en, SHEET_NAMES.controllers.en]) {
      expect(lacking(printed.get(sheet)!, sheets.get(sheet)!.flat()), sheet).to.deep.equal([])
    }
  })

  it('shows the register as it stood at a moment (asOf), as the CSV does', async () => {
    const moment = new Date(Date.parse(f.activities.hosting.createdAt) - 1).toISOString() // before the last activity was added
    const { sheets } = await workbook(`lang=en&asOf=${moment}`)
    expect(sheets.get(SHEET_NAMES.controllerRecord.en)).to.deep.equal(withoutFormulaGuard(await csv(`lang=en&asOf=${moment}`)))
    expect(sheets.get(SHEET_NAMES.processorRecord.en)).to.have.length(1) // the header: the processing activity did not exist yet
  })

  it('answers a bad filter with 400 naming it, before anything is written', async () => {
    const { res, bytes } = await download('format=xlsx&controllerId=00000000-0000-4000-8000-000000000000')
    expect(res.status).to.equal(400)
    const body = JSON.parse(bytes.toString())
    expect(body.details).to.deep.equal([{ field: 'controllerId', message: 'no controller with id 00000000-0000-4000-8000-000000000000 in this workspace' }])
  })
})
