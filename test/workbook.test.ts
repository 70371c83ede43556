import { expect } from 'chai'
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import ExcelJS from 'exceljs'
import JSZip from 'jszip'
import { buildTestApp, TestApp } from './helper'
import { buildRegister, Fixture } from './export-fixture'
import { convert } from './libreoffice'
import { needTool, SOFFICE_TOOL } from './tools'
import { loadDemo } from '../src/register/demo/demo'
import { XLSX_CONTENT_TYPE } from '../src/register/exchange/xlsx'

type Row = Record<string, any>
const run = promisify(execFile)

/** The workbook opened and saved by LibreOffice Calc, as a person saving it would (Excel 2007–365 format). */
async function savedByCalc(bytes: Buffer): Promise<Buffer> {
  const { dir, cleanup } = await convert(bytes, 'book.xlsx', 'xlsx')
  try {
    return readFileSync(join(dir, 'book.xlsx'))
  } finally {
    cleanup()
  }
}

/** The zip with an entry's unpacked size rewritten in its local header and its central directory record. */
function lieAboutSize(zip: Buffer, name: string, size: number): Buffer {
  const out = Buffer.from(zip)
  for (let at = 0; at < out.length - 46; at++) {
    const signature = out.readUInt32LE(at)
    if (signature === 0x04034b50 && out.toString('utf8', at + 30, at + 30 + out.readUInt16LE(at + 26)) === name) out.writeUInt32LE(size, at + 22)
    if (signature === 0x02014b50 && out.toString('utf8', at + 46, at + 46 + out.readUInt16LE(at + 28)) === name) out.writeUInt32LE(size, at + 24)
  }
  return out
}

/** A sheet's part of the zip, as the file holds it. */
async function sheetXml(bytes: Buffer, index: number): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'ropa-wbx-'))
  try {
    writeFileSync(join(dir, 'book.xlsx'), bytes)
    return (await run('unzip', ['-p', join(dir, 'book.xlsx'), `xl/worksheets/sheet${index}.xml`], { maxBuffer: 64 * 1024 * 1024 })).stdout
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

async function load(bytes: Buffer): Promise<ExcelJS.Workbook> {
  const book = new ExcelJS.Workbook()
  await book.xlsx.load(bytes as unknown as ArrayBuffer)
  return book
}

const save = async (book: ExcelJS.Workbook): Promise<Buffer> => Buffer.from(await book.xlsx.writeBuffer())

/** The column of a header on a sheet's first row. */
function columnOf(sheet: ExcelJS.Worksheet, header: string): number {
  let found = 0
  sheet.getRow(1).eachCell((cell, col) => { if (cell.value === header) found = col })
  expect(found, `column ${header} on ${sheet.name}`).to.be.greaterThan(0)
  return found
}

/** The row of a record by its id. */
function rowOf(sheet: ExcelJS.Worksheet, id: string): number {
  let found = 0
  sheet.eachRow((row, n) => { if (row.getCell(1).value === id) found = found || n })
  expect(found, `row of ${id} on ${sheet.name}`).to.be.greaterThan(0)
  return found
}

describe('the register as an editable workbook, and back', function () {
  this.timeout(300_000)
  let t: TestApp
  let f: Fixture

  before(function () { needTool(this, SOFFICE_TOOL) })
  before(async () => {
    t = await buildTestApp()
    f = await buildRegister(t)
    await loadDemo(t.app.db, { sub: 'demo-loader', role: 'admin', ws: 'demo' })
  })
  after(async () => t?.close())

  async function download(lang: 'sv' | 'en', ws = 'test'): Promise<Buffer> {
    const res = await t.http.get(`/api/v1/register/workbook?lang=${lang}`).set('authorization', await t.auth('reader', ws))
      .buffer(true).parse((r, cb) => {
        const chunks: Buffer[] = []
        r.on('data', (c: Buffer) => chunks.push(c))
        r.on('end', () => cb(null, Buffer.concat(chunks)))
      })
    expect(res.status, String(res.body)).to.equal(200)
    expect(res.headers['content-type']).to.equal(XLSX_CONTENT_TYPE)
    return res.body as Buffer
  }

  async function upload(bytes: Buffer, dryRun: boolean, ws = 'test', sub = 'anna.editor'): Promise<{ status: number; body: Row }> {
    const res = await t.http.post(`/api/v1/register/workbook?dryRun=${dryRun}`).set('authorization', await t.auth('editor', ws, sub))
      .set('content-type', XLSX_CONTENT_TYPE).send(bytes)
    return { status: res.status, body: res.body }
  }

  const count = async (path: string, ws = 'test'): Promise<number> =>
    (await t.http.get(`/api/v1/${path}?limit=1`).set('authorization', await t.auth('reader', ws))).body.total

  it('has a sheet per kind of record and per list of an activity, headers in the language, id and version first', async () => {
    const sv = await load(await download('sv'))
    expect(sv.worksheets.map((s) => s.name)).to.include.members([
      'Så fungerar det', 'Behandlingar', 'Personuppgiftsansvariga', 'Personuppgiftsbiträden', 'Ändamål', 'Rättsliga grunder',
      'Kategorier av registrerade', 'Kategorier av personuppgifter', 'Mottagare', 'Gallringsregler', 'Säkerhetsåtgärder',
      'Behandlingarnas ändamål', 'Behandlingarnas överföringar', 'Behandlingarnas gallring',
    ])
    expect(sv.worksheets[0].name).to.equal('Så fungerar det')
    const activities = sv.getWorksheet('Behandlingar')!
    const header = (activities.getRow(1).values as unknown[]).slice(1)
    expect(header.slice(0, 5)).to.deep.equal(['id', 'version', 'Namn', 'Beskrivning', 'Roll'])
    expect(header).to.include.members(['Personuppgiftsansvarig', 'Status', 'Ta bort'])
    for (const s of sv.worksheets.filter((x) => x.state !== 'hidden' && x.name !== 'Så fungerar det')) {
      expect((s.getRow(1).values as unknown[]).slice(1, 3), s.name).to.deep.equal(['id', 'version'])
    }
    const r = rowOf(activities, f.activities.records.id)
    expect(activities.getCell(r, columnOf(activities, 'Personuppgiftsansvarig')).value).to.equal('Klinik Östersund AB')
    expect(activities.getCell(r, columnOf(activities, 'Status')).value).to.equal('Aktiv')
    expect(activities.getCell(r, columnOf(activities, 'Automatiserat beslutsfattande')).value).to.equal('Nej')
    expect(activities.getCell(r, columnOf(activities, 'Gemensamt personuppgiftsansvariga')).value).to.equal('Hudateljén AB')
    expect(activities.getCell(r, columnOf(activities, 'Nästa granskning')).value).to.deep.equal(new Date(Date.UTC(2027, 0, 15)))
    const purposes = sv.getWorksheet('Behandlingarnas ändamål')!
    const p = rowOf(purposes, f.activities.records.id)
    expect(purposes.getCell(p, columnOf(purposes, 'Rättsliga grunder')).value).to.equal('A6-1-c; A9-2-h; SE-PDL-3-17')

    const en = await load(await download('en'))
    expect(en.worksheets.map((s) => s.name)).to.include.members(['How it works', 'Processing activities', 'Controllers', 'Legal bases', 'Activity purposes'])
    expect((en.getWorksheet('Processing activities')!.getRow(1).values as unknown[]).slice(1, 6)).to.deep.equal(['id', 'version', 'Name', 'Description', 'Role'])
  })

  it('puts drop-downs over the rows in use and a margin, never over whole columns', async () => {
    const bytes = await download('sv')
    const book = await load(bytes)
    const index = book.worksheets.findIndex((s) => s.name === 'Behandlingar') + 1
    const xml = await sheetXml(bytes, index)
    const ranges = [...xml.matchAll(/sqref="([^"]+)"/g)].map((m) => m[1])
    expect(ranges.length).to.be.greaterThan(3)
    for (const range of ranges) expect(range, range).to.match(/^[A-Z]+2:[A-Z]+(\d+)$/)
    for (const range of ranges) expect(Number(/(\d+)$/.exec(range)![1])).to.be.below(1000)
  })

  for (const lang of ['sv', 'en'] as const) {
    it(`an unchanged workbook (${lang}), saved by LibreOffice Calc, changes nothing`, async () => {
      for (const ws of ['test', 'demo']) {
        const saved = await savedByCalc(await download(lang, ws))
        const { status, body } = await upload(saved, false, ws)
        expect(body.errors, ws).to.deep.equal([])
        expect(body.conflicts, ws).to.deep.equal([])
        expect(body.changes, ws).to.deep.equal([])
        expect(status, ws).to.equal(200)
      }
    })
  }

  it('a changed description, a new row and a deletion mark are exactly those changes, with before and after, written under the importer\'s name', async () => {
    const book = await load(await download('sv'))
    const activities = book.getWorksheet('Behandlingar')!
    const r = rowOf(activities, f.activities.marketing.id)
    activities.getCell(r, columnOf(activities, 'Beskrivning')).value = 'Månatligt nyhetsbrev till kunder'
    const purposes = book.getWorksheet('Ändamål')!
    const added = purposes.rowCount + 1
    purposes.getCell(added, columnOf(purposes, 'Namn')).value = 'Kundundersökningar'
    const unused = (await t.http.get('/api/v1/purposes?q=Oanvänt').set('authorization', await t.auth('reader'))).body.items[0]
    const d = rowOf(purposes, unused.id)
    purposes.getCell(d, columnOf(purposes, 'Ta bort')).value = 'Ja'
    const saved = await savedByCalc(await save(book))

    const dry = await upload(saved, true)
    expect(dry.status, JSON.stringify(dry.body)).to.equal(200)
    expect(dry.body.dryRun).to.equal(true)
    const changes = dry.body.changes as Row[]
    expect(changes).to.have.length(3)
    const update = changes.find((c) => c.operation === 'update')!
    expect(update).to.deep.include({ sheet: 'Behandlingar', row: r, recordType: 'processing-activity', id: f.activities.marketing.id })
    expect(update.fields).to.deep.equal([{ field: 'Beskrivning', before: '=HYPERLINK("http://example.com","klicka")', after: 'Månatligt nyhetsbrev till kunder' }])
    const create = changes.find((c) => c.operation === 'create')!
    expect(create).to.deep.include({ sheet: 'Ändamål', row: added, recordType: 'purpose' })
    expect(create.fields).to.deep.equal([{ field: 'Namn', before: null, after: 'Kundundersökningar' }])
    expect(changes.find((c) => c.operation === 'delete')).to.deep.include({ sheet: 'Ändamål', row: d, recordType: 'purpose', id: unused.id })
    expect(await count('purposes')).to.equal(4) // the dry run wrote nothing

    const applied = await upload(saved, false)
    expect(applied.status, JSON.stringify(applied.body)).to.equal(200)
    // a new record's id is made when it is written
    const withoutNewIds = (cs: Row[]): Row[] => cs.map((c) => (c.operation === 'create' ? { ...c, id: undefined } : c))
    expect(withoutNewIds(applied.body.changes)).to.deep.equal(withoutNewIds(changes))
    const now = (await t.http.get(`/api/v1/processing-activities/${f.activities.marketing.id}`).set('authorization', await t.auth('reader'))).body
    expect(now.description).to.equal('Månatligt nyhetsbrev till kunder')
    expect(now.version).to.equal(f.activities.marketing.version + 1)
    const names = ((await t.http.get('/api/v1/purposes?limit=100').set('authorization', await t.auth('reader'))).body.items as Row[]).map((p) => p.name)
    expect(names).to.include('Kundundersökningar').and.not.include('Oanvänt ändamål')
    const history = (await t.http.get(`/api/v1/processing-activities/${f.activities.marketing.id}/history`).set('authorization', await t.auth('reader'))).body
    const entries = (history.items ?? history) as Row[]
    expect(entries.map((e) => e.actor)).to.include('anna.editor')
  })

  it('an unknown reference is an error naming sheet, row, column and value, in the workbook\'s language; nothing is written', async () => {
    const book = await load(await download('sv'))
    const activities = book.getWorksheet('Behandlingar')!
    const r = rowOf(activities, f.activities.hosting.id)
    activities.getCell(r, columnOf(activities, 'Personuppgiftsansvarig')).value = 'Okänt Bolag AB'
    activities.getCell(r, columnOf(activities, 'Beskrivning')).value = 'Ändrad'
    const { status, body } = await upload(await savedByCalc(await save(book)), false)
    expect(status).to.equal(400)
    expect(body.errors).to.deep.equal([{
      sheet: 'Behandlingar', row: r, column: 'Personuppgiftsansvarig', value: 'Okänt Bolag AB',
      message: `Behandlingar rad ${r}, Personuppgiftsansvarig: "Okänt Bolag AB" finns inte`,
    }])
    const now = (await t.http.get(`/api/v1/processing-activities/${f.activities.hosting.id}`).set('authorization', await t.auth('reader'))).body
    expect(now.description).to.equal('Drift och support')

    const en = await load(await download('en'))
    const sheet = en.getWorksheet('Processing activities')!
    const e = rowOf(sheet, f.activities.hosting.id)
    sheet.getCell(e, columnOf(sheet, 'Status')).value = 'Sleeping'
    const answer = await upload(await savedByCalc(await save(en)), true)
    expect(answer.status).to.equal(400)
    expect(answer.body.errors[0]).to.deep.include({ sheet: 'Processing activities', row: e, column: 'Status', value: 'Sleeping' })
    expect(answer.body.errors[0].message).to.equal(`Processing activities row ${e}, Status: "Sleeping" is not one of: Draft, Active, Retired`)
  })

  it('a record changed in the service after the download is a conflict, and nothing is written', async () => {
    const book = await load(await download('sv'))
    const patch = await t.http.patch(`/api/v1/processing-activities/${f.activities.hosting.id}`).set('authorization', await t.auth('editor'))
      .send({ owner: 'Driftteamet' })
    expect(patch.status, JSON.stringify(patch.body)).to.equal(200)
    const activities = book.getWorksheet('Behandlingar')!
    const r = rowOf(activities, f.activities.hosting.id)
    activities.getCell(r, columnOf(activities, 'Beskrivning')).value = 'Ändrad i kalkylbladet'
    const other = rowOf(activities, f.activities.records.id)
    activities.getCell(other, columnOf(activities, 'Ansvarig funktion')).value = 'Vårdadministrationen'
    const { status, body } = await upload(await savedByCalc(await save(book)), false)
    expect(status).to.equal(409)
    expect(body.conflicts).to.deep.equal([{
      sheet: 'Behandlingar', row: r, recordType: 'processing-activity', id: f.activities.hosting.id,
      versionInWorkbook: patch.body.version - 1, versionNow: patch.body.version,
    }])
    const hosting = (await t.http.get(`/api/v1/processing-activities/${f.activities.hosting.id}`).set('authorization', await t.auth('reader'))).body
    expect(hosting.owner).to.equal('Driftteamet')
    expect(hosting.description).to.equal('Drift och support')
    const records = (await t.http.get(`/api/v1/processing-activities/${f.activities.records.id}`).set('authorization', await t.auth('reader'))).body
    expect(records.owner).to.equal('Vården')
  })

  it('a new activity with its purposes on the list sheet, and a legal basis added to a purpose, by name and code', async () => {
    const book = await load(await download('sv'))
    const activities = book.getWorksheet('Behandlingar')!
    const n = activities.rowCount + 1
    const cell = (h: string, v: ExcelJS.CellValue): void => { activities.getCell(n, columnOf(activities, h)).value = v }
    cell('Namn', 'Kundtjänst')
    cell('Roll', 'Personuppgiftsansvarig')
    cell('Personuppgiftsansvarig', 'Klinik Östersund AB')
    cell('Kategorier av personuppgifter', 'Namn och kontaktuppgifter; Personnummer')
    cell('Nästa granskning', new Date(Date.UTC(2027, 5, 1)))
    const purposes = book.getWorksheet('Behandlingarnas ändamål')!
    const p = purposes.rowCount + 1
    purposes.getCell(p, columnOf(purposes, 'Behandling')).value = 'Kundtjänst'
    purposes.getCell(p, columnOf(purposes, 'Ändamål')).value = 'Fakturering'
    purposes.getCell(p, columnOf(purposes, 'Rättsliga grunder')).value = 'A6-1-b'
    const existing = rowOf(purposes, f.activities.marketing.id)
    purposes.getCell(existing, columnOf(purposes, 'Rättsliga grunder')).value = 'A6-1-f; A6-1-a'
    const { status, body } = await upload(await savedByCalc(await save(book)), false)
    expect(status, JSON.stringify(body)).to.equal(200)
    expect(body.changes.map((c: Row) => [c.operation, c.recordType])).to.deep.equal([['update', 'processing-activity'], ['create', 'processing-activity']])
    const created = (await t.http.get(`/api/v1/processing-activities/${body.changes[1].id}`).set('authorization', await t.auth('reader'))).body
    expect(created).to.deep.include({ name: 'Kundtjänst', role: 'controller', nextReviewAt: '2027-06-01', status: 'draft' })
    expect(created.controller.name).to.equal('Klinik Östersund AB')
    expect(created.dataCategories.map((c: Row) => c.name)).to.deep.equal(['Namn och kontaktuppgifter', 'Personnummer'])
    expect(created.purposes.map((x: Row) => [x.purpose.name, x.legalBases.map((b: Row) => b.code)])).to.deep.equal([['Fakturering', ['A6-1-b']]])
    const marketing = (await t.http.get(`/api/v1/processing-activities/${f.activities.marketing.id}`).set('authorization', await t.auth('reader'))).body
    expect(marketing.purposes[0].legalBases.map((b: Row) => b.code)).to.deep.equal(['A6-1-f', 'A6-1-a'])
    expect(marketing.purposes[0].legitimateInterest).to.equal('Att nå befintliga kunder')
  })

  it('takes a country by its name, says which names are ambiguous and what a field must be', async () => {
    for (let i = 0; i < 2; i++) {
      const res = await t.http.post('/api/v1/data-subject-categories').set('authorization', await t.auth('editor')).send({ name: 'Besökare' })
      expect(res.status).to.equal(201)
    }
    const book = await load(await download('sv'))
    const controllers = book.getWorksheet('Personuppgiftsansvariga')!
    const joint = rowOf(controllers, f.controllers.joint.id)
    controllers.getCell(joint, columnOf(controllers, 'Land')).value = 'Sverige'
    let dry = await upload(await savedByCalc(await save(book)), true)
    expect(dry.status, JSON.stringify(dry.body)).to.equal(200)
    expect(dry.body.changes).to.deep.equal([{
      sheet: 'Personuppgiftsansvariga', row: joint, recordType: 'controller', id: f.controllers.joint.id, operation: 'update',
      fields: [{ field: 'Land', before: null, after: 'Sverige' }],
    }])

    const clientOne = rowOf(controllers, f.controllers.clientOne.id)
    controllers.getCell(clientOne, columnOf(controllers, 'Land')).value = 'Atlantis'
    const activities = book.getWorksheet('Behandlingar')!
    const r = rowOf(activities, f.activities.hosting.id)
    activities.getCell(r, columnOf(activities, 'Kategorier av registrerade')).value = 'Besökare'
    dry = await upload(await savedByCalc(await save(book)), true)
    expect(dry.status).to.equal(400)
    expect(dry.body.errors).to.deep.equal([
      {
        sheet: 'Behandlingar', row: r, column: 'Kategorier av registrerade', value: 'Besökare',
        message: `Behandlingar rad ${r}, Kategorier av registrerade: "Besökare" är tvetydigt: flera poster på Kategorier av registrerade har det namnet`,
      },
      {
        sheet: 'Personuppgiftsansvariga', row: clientOne, column: 'Land', value: 'Atlantis',
        message: `Personuppgiftsansvariga rad ${clientOne}, Land: must be an ISO 3166-1 alpha-2 country code such as SE or US`,
      },
    ])
  })

  it('refuses a zip bomb (a part that unpacks to 150 MB, its sizes in the zip lying) with 413 before reading it, and writes nothing', async () => {
    const zip = await JSZip.loadAsync(await download('sv'))
    zip.file('xl/media/bomb.bin', Buffer.alloc(150 * 1024 * 1024))
    const bomb = lieAboutSize(await zip.generateAsync({ type: 'nodebuffer', compression: 'DEFLATE', compressionOptions: { level: 9 } }), 'xl/media/bomb.bin', 1000)
    expect(bomb.length, 'small enough to pass the body limit').to.be.below(1024 * 1024)
    const before = await count('processing-activities')
    const answer = await upload(bomb, false)
    expect(answer.status).to.equal(413)
    expect(answer.body.code).to.equal('body_too_large')
    expect(answer.body.message).to.match(/unpacks to more than .*\(100 MB\)/)
    expect(await count('processing-activities')).to.equal(before)
    // the workbook without the bomb is taken
    expect((await upload(await download('sv'), true)).status).to.equal(200)
  })

  it('takes only an .xlsx workbook, and only from an editor', async () => {
    const notBook = await upload(Buffer.from('not a zip'), true)
    expect(notBook.status).to.equal(400)
    expect(notBook.body.errors[0].message).to.match(/not an \.xlsx workbook/)
    const reader = await t.http.post('/api/v1/register/workbook?dryRun=true').set('authorization', await t.auth('reader'))
      .set('content-type', XLSX_CONTENT_TYPE).send(await download('sv'))
    expect(reader.status).to.equal(403)
  })
})
