import ExcelJS from 'exceljs'
import type { EntityManager } from 'typeorm'
import type { Database } from '../../db/database'
import { compareNames } from '../wording/collation'
import type { Lang } from '../wording/wording'
import { storedViewPage } from '../records/stored-views'
import { legalBases, type ResourceDef, type Row } from '../records/model'
import type { RecordType } from '../../dto/shape'
import {
  DELETE, GUIDE_SHEET, ID, LISTS_SHEET, NO, OWNER, RECORD_ORDER, VERSION, YES, dateCell, shownText, valueAt, workbookSheets,
  type NamesById, type WorkbookColumn, type WorkbookSheet,
} from './workbook-columns'

/**
 * The editable workbook (GET /api/v1/register/workbook): a sheet per kind of record and per list
 * of an activity, every row with the record's id and version, values as a person types them. It
 * comes back through workbook-import.ts. Built in memory: a register's workbook is a few MB (1,000
 * activities: about 1 MB), and the drop-down lists need every name before the first row is written.
 */

/** Rows below the last record that still get the drop-down lists: room for new records. */
export const VALIDATION_MARGIN = 200

/** Every record of the workspace by kind, as its stored view, read in id order a page at a time. */
export async function registerViews(m: EntityManager, ws: string): Promise<Map<RecordType, Row[]>> {
  const out = new Map<RecordType, Row[]>()
  for (const def of RECORD_ORDER) {
    const views: Row[] = []
    for (let after = ''; ;) {
      const page = await storedViewPage(m, ws, def, after, 1000)
      for (const p of page) views.push(JSON.parse(p.json) as Row)
      if (page.length < 1000) break
      after = page[page.length - 1].id
    }
    out.set(def.type, views)
  }
  return out
}

/** How each record is named in a cell: by its name, a legal basis by its code. */
export const nameOf = (def: ResourceDef, view: Row): string => String((def === legalBases ? view.code : view.name) ?? '')

export function namesById(views: Map<RecordType, Row[]>): NamesById {
  const out: NamesById = new Map()
  for (const def of RECORD_ORDER) out.set(def.type, new Map((views.get(def.type) ?? []).map((v) => [v.id as string, nameOf(def, v)])))
  return out
}

const GUIDE: Record<Lang, string[]> = {
  sv: [
    'Registret i en arbetsbok: ändra, lägg till och ta bort poster och läs sedan in den igen.',
    '',
    'Varje blad är en sorts post. Kolumnerna id och version kommer från tjänsten: ändra dem inte.',
    'En rad utan id blir en ny post. Rader du tar bort ur bladet lämnas orörda i registret.',
    'Skriv något (t.ex. Ja) i kolumnen Ta bort för att ta bort posten.',
    'Hänvisningar till andra poster skrivs med postens namn (rättsliga grunder med sin kod), flera åtskilda med "; ".',
    'Ja/Nej-fält tar Ja, Nej eller tomt (inte besvarat). Datum skrivs som datum. Listvärden väljs i rullgardinen.',
    'Bladen "Behandlingarnas ändamål", "Behandlingarnas överföringar" och "Behandlingarnas gallring" håller en rad per',
    'ändamål, överföring och gallringsregel. För en behandling som finns på bladet Behandlingar är raderna hela listan:',
    'en rad som tas bort tar bort den posten i listan. För en ny behandling: lämna id tomt och skriv behandlingens namn.',
    '',
    'Läs in: POST /api/v1/register/workbook?dryRun=true visar varje ändring utan att spara; dryRun=false sparar allt på en gång.',
    'Har en post ändrats i tjänsten efter att du laddade ned arbetsboken blir raden en konflikt och ingenting sparas:',
    'ladda ned arbetsboken igen och gör om ändringen där.',
  ],
  en: [
    'The register in a workbook: change, add and delete records, then bring it back.',
    '',
    'Each sheet is one kind of record. The id and version columns come from the service: do not change them.',
    'A row without an id becomes a new record. Rows you remove from a sheet are left alone in the register.',
    'Write anything (e.g. Yes) in the Delete column to delete the record.',
    'References to other records are written by the record\'s name (legal bases by their code), several separated by "; ".',
    'Yes/No fields take Yes, No or empty (not answered). Dates are dates. Listed values are chosen from the drop-down.',
    'The sheets "Activity purposes", "Activity transfers" and "Activity retention" hold one row per purpose, transfer and',
    'retention rule. For an activity on the Processing activities sheet, its rows are the whole list: removing a row removes',
    'that item. For a new activity: leave id empty and write the activity\'s name.',
    '',
    'Bring it back: POST /api/v1/register/workbook?dryRun=true shows every change without saving; dryRun=false saves it all at once.',
    'If a record was changed in the service after you downloaded the workbook, its row is a conflict and nothing is saved:',
    'download the workbook again and make the change there.',
  ],
}

/** `'Sheet'!$A$2:$A$9` */
const rangeOf = (sheet: string, column: number, rows: number): string => `'${sheet.replace(/'/g, "''")}'!$${letters(column)}$2:$${letters(column)}$${Math.max(2, rows + 1)}`

function letters(n: number): string {
  let s = ''
  for (let k = n; k > 0; k = Math.floor((k - 1) / 26)) s = String.fromCharCode(65 + ((k - 1) % 26)) + s
  return s
}

/** A cell's value: dates as dates, counts as numbers, the rest as the text shown. */
function cellValue(c: WorkbookColumn, value: unknown, lang: Lang, names: NamesById): ExcelJS.CellValue {
  if (value === null || value === undefined) return null
  if (c.kind === 'date') return dateCell(String(value))
  if (c.kind === 'number') return Number(value)
  const text = shownText(c, value, lang, names)
  return text === '' ? null : text
}

interface Table {
  header: string[]
  rows: ExcelJS.CellValue[][]
}

/** Write bodies by view: an activity's is read by its sheet and by each of its lists' sheets. */
type Bodies = WeakMap<Row, Row>
const bodyOf = (bodies: Bodies, def: ResourceDef, view: Row): Row => {
  let body = bodies.get(view)
  if (!body) bodies.set(view, (body = def.toWrite(view)))
  return body
}

function recordTable(sheet: WorkbookSheet, views: Row[], lang: Lang, names: NamesById, bodies: Bodies): Table {
  const header = [ID, VERSION, ...sheet.columns.map((c) => c.header[lang]), DELETE[lang]]
  const rows = views.map((v) => {
    const body = bodyOf(bodies, sheet.def, v)
    return [v.id, v.version, ...sheet.columns.map((c) => cellValue(c, valueAt(body, c.key), lang, names)), null]
  })
  return { header, rows }
}

function listTable(sheet: WorkbookSheet, activities: Row[], lang: Lang, names: NamesById, bodies: Bodies): Table {
  const header = [ID, VERSION, OWNER[lang], ...sheet.columns.map((c) => c.header[lang])]
  const rows: ExcelJS.CellValue[][] = []
  for (const v of activities) {
    const items = (bodyOf(bodies, sheet.def, v)[sheet.list!] ?? []) as Row[]
    for (const item of items) rows.push([v.id, v.version, v.name, ...sheet.columns.map((c) => cellValue(c, valueAt(item, c.key), lang, names))])
  }
  return { header, rows }
}

/** The editable workbook of a workspace's register, as the bytes of an .xlsx file. */
export async function buildWorkbook(db: Database, ws: string, lang: Lang): Promise<Buffer> {
  const views = await db.read((m) => registerViews(m, ws))
  for (const def of RECORD_ORDER) views.get(def.type)!.sort((a, b) => compareNames({ name: nameOf(def, a), id: a.id }, { name: nameOf(def, b), id: b.id }))
  const names = namesById(views)
  const book = new ExcelJS.Workbook()
  book.creator = 'ropa-register'
  const guide = book.addWorksheet(GUIDE_SHEET[lang])
  guide.getColumn(1).width = 120
  GUIDE[lang].forEach((line, i) => { guide.getCell(i + 1, 1).value = line })
  guide.getCell(1, 1).font = { bold: true }

  // the drop-downs' values, on a hidden sheet (a list written into the rule itself may not pass 255 characters)
  const lists = book.addWorksheet(LISTS_SHEET[lang], { state: 'hidden' })
  const listRanges = new Map<string, string>()
  const addList = (key: string, title: string, values: string[]): void => {
    if (listRanges.has(key) || !values.length) return
    const col = listRanges.size + 1
    lists.getCell(1, col).value = title
    values.forEach((v, i) => { lists.getCell(i + 2, col).value = v })
    listRanges.set(key, rangeOf(LISTS_SHEET[lang], col, values.length))
  }
  addList('flag', `${YES[lang]}/${NO[lang]}`, [YES[lang], NO[lang]])

  const activities = views.get('processing-activity')!
  const bodies: Bodies = new WeakMap()
  for (const sheet of workbookSheets()) {
    const table = sheet.list ? listTable(sheet, activities, lang, names, bodies) : recordTable(sheet, views.get(sheet.def.type)!, lang, names, bodies)
    const ws_ = book.addWorksheet(sheet.name[lang], { views: [{ state: 'frozen', xSplit: 0, ySplit: 1 }] })
    ws_.addRow(table.header).font = { bold: true }
    for (const row of table.rows) ws_.addRow(row)
    const first = sheet.list ? 4 : 3
    ws_.getColumn(1).width = 38
    ws_.getColumn(2).width = 9
    if (sheet.list) ws_.getColumn(3).width = 30
    sheet.columns.forEach((c, i) => {
      const col = ws_.getColumn(first + i)
      col.width = c.kind === 'date' ? 12 : Math.min(40, Math.max(12, c.header[lang].length + 2))
      if (c.kind === 'date') col.numFmt = 'yyyy-mm-dd'
      if (c.kind === 'text' || c.kind === 'refs' || c.kind === 'strings') col.alignment = { wrapText: true, vertical: 'top' }
    })
    if (!sheet.list) ws_.getColumn(first + sheet.columns.length).width = 10
    // drop-downs over the rows in use and a margin, never whole columns (which make the file slow for every reader)
    const last = table.rows.length + 1 + VALIDATION_MARGIN
    sheet.columns.forEach((c, i) => {
      let key: string | null = null
      if (c.kind === 'enum') {
        key = `enum:${c.key}`
        addList(key, c.header[lang], c.values!.map((code) => c.label!(code, lang)))
      } else if (c.kind === 'ref') {
        key = `ref:${c.to}`
        const def = RECORD_ORDER.find((d) => d.type === c.to)!
        addList(key, c.header[lang], [...new Set(views.get(c.to!)!.map((v) => nameOf(def, v)))])
      } else if (c.kind === 'flag') key = 'flag'
      const range = key ? listRanges.get(key) : undefined
      if (!range) return
      const address = `${letters(first + i)}2:${letters(first + i)}${last}`
      // a reference may name a record added further down the workbook: the list suggests, it does not refuse
      // exceljs keeps a range's rule once (its typings lack the sheet's dataValidations)
      const rules = (ws_ as unknown as { dataValidations: { add(address: string, rule: object): void } }).dataValidations
      rules.add(address, {
        type: 'list', allowBlank: true, formulae: [range], showErrorMessage: c.kind !== 'ref', errorStyle: 'warning',
      })
    })
  }
  return Buffer.from(await book.xlsx.writeBuffer())
}
