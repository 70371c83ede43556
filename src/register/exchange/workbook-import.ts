import { randomUUID } from 'node:crypto'
import ExcelJS from 'exceljs'
import type { EntityManager } from 'typeorm'
import type { Principal } from '../../auth/principal'
import type { Database } from '../../db/database'
import { AppError, FieldError } from '../../errors'
import { countryCodeOf, type Lang } from '../wording/wording'
import { findIn } from '../records/reads'
import { legalBases, processingActivities, processors, type ResourceDef, type Row } from '../records/model'
import type { RecordType } from '../../dto/shape'
import { remove, store, storeMany, StoreSeries, validateWrite, type StoreItem } from '../records/writes'
import {
  DELETE, ID, NO, OWNER, RECORD_ORDER, VERSION, YES, ISO_DATE, normalText, serialDate, setAt, shownText, splitList, valueAt,
  workbookSheets, type NamesById, type WorkbookColumn, type WorkbookSheet,
} from './workbook-columns'
import { nameOf, namesById, registerViews } from './workbook'
import { unpackedBytes } from './unpacked'

/**
 * Bringing the editable workbook back (POST /api/v1/register/workbook): each row is compared with
 * the record as it is now, cell by cell as a person sees it, so that a workbook saved by Excel or
 * LibreOffice (numbers for text, date serials, spaces trimmed, shared or rich strings) changes
 * nothing it did not change. A changed record is validated as any write (validateWrite) and
 * stored through the one write path, every change in one transaction with its history entry; a
 * row whose version is not the record's now is a conflict, and then nothing is written.
 */

export interface FieldChange {
  field: string
  before: string | null
  after: string | null
}

export interface WorkbookChange {
  sheet: string
  row: number
  recordType: RecordType
  id: string
  operation: 'create' | 'update' | 'delete'
  fields: FieldChange[]
}

export interface WorkbookError {
  sheet: string
  row: number
  column: string
  value: string
  message: string
}

export interface WorkbookConflict {
  sheet: string
  row: number
  recordType: RecordType
  id: string
  versionInWorkbook: number | null
  /** null: the record has been deleted since. */
  versionNow: number | null
}

export interface WorkbookReport {
  dryRun: boolean
  changes: WorkbookChange[]
  errors: WorkbookError[]
  conflicts: WorkbookConflict[]
}

/** Errors reported at most: a workbook wrong everywhere still gets a bounded answer. */
const MAX_ERRORS = 500

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

// --- reading cells -----------------------------------------------------------------------------

/** A cell as the text a person sees, whatever the program that saved it made of it. */
function cellText(value: ExcelJS.CellValue, kind?: WorkbookColumn['kind']): string {
  if (value === null || value === undefined) return ''
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? '' : value.toISOString().slice(0, 10)
  if (typeof value === 'number') return kind === 'date' ? serialDate(value) : String(value)
  if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE'
  if (typeof value === 'string') return normalText(value)
  if (typeof value === 'object') {
    const v = value as unknown as Row
    if (Array.isArray(v.richText)) return normalText((v.richText as { text: string }[]).map((r) => r.text).join(''))
    if ('result' in v || 'formula' in v || 'sharedFormula' in v) return cellText(v.result as ExcelJS.CellValue, kind)
    if (typeof v.text === 'string') return normalText(v.text)
    if ('error' in v) return String(v.error)
  }
  return normalText(String(value))
}

interface SheetRow {
  row: number
  id: string
  version: string
  owner: string
  deleteMark: string
  cells: Map<string, string>
}

interface ReadSheet {
  sheet: WorkbookSheet
  name: string
  /** The record's columns this sheet has (a sheet without a column leaves its field alone). */
  columns: WorkbookColumn[]
  rows: SheetRow[]
}

class Report {
  readonly changes: WorkbookChange[] = []
  readonly errors: WorkbookError[] = []
  readonly conflicts: WorkbookConflict[] = []
  constructor(readonly lang: Lang) {}

  error(sheet: string, row: number, column: string, value: string, detail: string): void {
    if (this.errors.length >= MAX_ERRORS) return
    const where = this.lang === 'sv' ? `${sheet} rad ${row}` : `${sheet} row ${row}`
    this.errors.push({ sheet, row, column, value, message: column ? `${where}, ${column}: ${detail}` : `${where}: ${detail}` })
  }
}

const say = (lang: Lang, en: string, sv: string): string => (lang === 'sv' ? sv : en)

/** Which language the workbook is in, by its sheets' names. */
function languageOf(book: ExcelJS.Workbook): Lang | null {
  const names = new Set(book.worksheets.map((s) => s.name))
  for (const lang of ['sv', 'en'] as Lang[]) if (workbookSheets().some((s) => names.has(s.name[lang]))) return lang
  return null
}

function readSheets(book: ExcelJS.Workbook, lang: Lang, report: Report): ReadSheet[] {
  const out: ReadSheet[] = []
  for (const sheet of workbookSheets()) {
    const ws = book.getWorksheet(sheet.name[lang])
    if (!ws) continue
    const name = sheet.name[lang]
    const byHeader = new Map(sheet.columns.map((c) => [c.header[lang].toLowerCase(), c]))
    const at = new Map<number, { column?: WorkbookColumn; role?: 'id' | 'version' | 'owner' | 'delete' }>()
    ws.getRow(1).eachCell((cell, col) => {
      const h = cellText(cell.value)
      if (!h) return
      const lower = h.toLowerCase()
      if (lower === ID) at.set(col, { role: 'id' })
      else if (lower === VERSION) at.set(col, { role: 'version' })
      else if (sheet.list && lower === OWNER[lang].toLowerCase()) at.set(col, { role: 'owner' })
      else if (!sheet.list && lower === DELETE[lang].toLowerCase()) at.set(col, { role: 'delete' })
      else if (byHeader.has(lower)) at.set(col, { column: byHeader.get(lower) })
      else report.error(name, 1, h, h, say(lang, 'is not a column of this sheet', 'är ingen kolumn på det här bladet'))
    })
    const rows: SheetRow[] = []
    ws.eachRow((r, rowNumber) => {
      if (rowNumber === 1) return
      const row: SheetRow = { row: rowNumber, id: '', version: '', owner: '', deleteMark: '', cells: new Map() }
      let any = false
      r.eachCell((cell, col) => {
        const place = at.get(col)
        if (!place) return
        const text = cellText(cell.value, place.column?.kind)
        if (text) any = true
        if (place.role === 'id') row.id = text
        else if (place.role === 'version') row.version = text
        else if (place.role === 'owner') row.owner = text
        else if (place.role === 'delete') row.deleteMark = text
        else row.cells.set(place.column!.key, text)
      })
      if (any) rows.push(row)
    })
    const columns = [...at.values()].filter((p) => p.column).map((p) => p.column!)
    out.push({ sheet, name, columns, rows })
  }
  return out
}

// --- turning text into values ------------------------------------------------------------------

/** Ids by name, per kind: the names now in the register and those the workbook gives. */
type IdsByName = Map<RecordType, Map<string, Set<string>>>

class Decoder {
  constructor(private readonly lang: Lang, private readonly ids: IdsByName, private readonly sheetNames: Map<RecordType, string>) {}

  private ref(type: RecordType, name: string): { id?: string; problem?: string } {
    const byName = this.ids.get(type)!
    let found = byName.get(name)
    if (!found) {
      const lower = name.toLowerCase()
      const folded = [...byName.entries()].filter(([n]) => n.toLowerCase() === lower).flatMap(([, s]) => [...s])
      if (folded.length) found = new Set(folded)
    }
    if (!found?.size) return { problem: say(this.lang, `"${name}" does not exist`, `"${name}" finns inte`) }
    if (found.size > 1) {
      const sheet = this.sheetNames.get(type) ?? type
      return { problem: say(this.lang, `"${name}" is ambiguous: several records on ${sheet} have that name`, `"${name}" är tvetydigt: flera poster på ${sheet} har det namnet`) }
    }
    return { id: [...found][0] }
  }

  /** The value a cell's text means for its column, or the problem with it. */
  value(c: WorkbookColumn, text: string): { value?: unknown; problem?: string } {
    if (text === '') return { value: c.kind === 'refs' || c.kind === 'strings' ? [] : null }
    const lang = this.lang
    switch (c.kind) {
      // a country by its code as the workbook writes it, or by its name as a person may
      case 'text': return { value: c.key === 'country' || c.key.endsWith('.country') ? countryCodeOf(text) ?? text : text }
      case 'number': {
        const n = Number(text.replace(/\s/g, ''))
        return Number.isInteger(n) ? { value: n } : { problem: say(lang, `"${text}" is not a whole number (e.g. 1200)`, `"${text}" är inget heltal (t.ex. 1200)`) }
      }
      case 'date': {
        if (ISO_DATE.test(text)) return { value: text }
        if (/^\d+(\.\d+)?$/.test(text)) return { value: serialDate(Number(text)) }
        return { problem: say(lang, `"${text}" is not a date (e.g. 2026-12-06)`, `"${text}" är inget datum (t.ex. 2026-12-06)`) }
      }
      case 'flag': {
        const t = text.toLowerCase()
        if ([YES.sv, YES.en, 'true', '1'].some((y) => y.toLowerCase() === t)) return { value: true }
        if ([NO.sv, NO.en, 'false', '0'].some((n) => n.toLowerCase() === t)) return { value: false }
        return { problem: say(lang, `"${text}" must be Yes, No or empty`, `"${text}" ska vara Ja, Nej eller tomt`) }
      }
      case 'enum': {
        const t = text.toLowerCase()
        const code = c.values!.find((v) => v.toLowerCase() === t || c.label!(v, lang).toLowerCase() === t || c.label!(v, lang === 'sv' ? 'en' : 'sv').toLowerCase() === t)
        if (code) return { value: code }
        const labels = c.values!.map((v) => c.label!(v, lang)).join(', ')
        return { problem: say(lang, `"${text}" is not one of: ${labels}`, `"${text}" är inget av: ${labels}`) }
      }
      case 'ref': {
        const r = this.ref(c.to!, text)
        return r.problem ? { problem: r.problem } : { value: r.id }
      }
      case 'refs': {
        const out: string[] = []
        const problems: string[] = []
        for (const name of splitList(text)) {
          const r = this.ref(c.to!, name)
          if (r.problem) problems.push(r.problem)
          else if (!out.includes(r.id!)) out.push(r.id!)
        }
        return problems.length ? { problem: problems.join('; ') } : { value: out }
      }
      case 'strings': return { value: splitList(text) }
    }
  }
}

/** Stable text of a value: key order and undefined-vs-null do not make a change. */
function canonical(value: unknown): string {
  return JSON.stringify(value ?? null, (_k, v) => (v && typeof v === 'object' && !Array.isArray(v)
    ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, v[k] === undefined ? null : v[k]]))
    : v === undefined ? null : v))
}

/** A blank cell and an empty list are the same absence. */
const same = (a: unknown, b: unknown): boolean => {
  if (a === b) return true
  const blank = (v: unknown): boolean => v === null || v === undefined || v === '' || (Array.isArray(v) && v.length === 0)
  return (blank(a) && blank(b)) || canonical(a) === canonical(b)
}

// --- the plan ----------------------------------------------------------------------------------

interface Planned {
  def: ResourceDef
  id: string
  existing: Row | null
  /** Where the change is reported: the record's row, or its first row on a list sheet. */
  sheet: string
  row: number
  operation: 'create' | 'update' | 'delete'
  body: Row
  fields: FieldChange[]
  /** Where each field path is blamed: the record's row, and each list item's row. */
  rowOf: { sheet: string; row: number }
  listRows: Map<string, { sheet: ReadSheet; rows: SheetRow[] }>
}

/** Thrown inside the transaction to roll it back (dry run, errors, conflicts) with the report. */
class RolledBack extends Error {
  constructor() {
    super('rolled back')
  }
}

/** The body of an .xlsx upload, read; null when it is not a workbook. */
async function loadBook(bytes: Buffer): Promise<ExcelJS.Workbook | null> {
  const book = new ExcelJS.Workbook()
  try {
    await book.xlsx.load(bytes as unknown as ArrayBuffer)
  } catch {
    return null
  }
  return book
}

/**
 * The most an uploaded workbook may hold unpacked: a register of about 25,000 activities (one of
 * 1,000 holds 4 MB). exceljs reads a workbook whole, in memory, at several times that size.
 */
export const WORKBOOK_UNPACKED_LIMIT = 100 * 1024 * 1024

export async function importWorkbook(db: Database, who: Principal, bytes: Buffer, dryRun: boolean): Promise<{ status: number; report: WorkbookReport }> {
  if (await unpackedBytes(bytes, WORKBOOK_UNPACKED_LIMIT) === 'over') {
    throw new AppError(413, 'body_too_large', `The workbook unpacks to more than this endpoint accepts: at most ${WORKBOOK_UNPACKED_LIMIT} bytes (100 MB) of `
      + 'sheets and parts, about 25,000 activities; split the register, or import it as JSON with POST /api/v1/register/import')
  }
  const book = await loadBook(bytes)
  const lang = book ? languageOf(book) : null
  if (!book || !lang) {
    const message = book
      ? 'the workbook has none of the register\'s sheets, e.g. "Behandlingar" or "Processing activities": download one with GET /api/v1/register/workbook'
      : 'the body is not an .xlsx workbook: send the file GET /api/v1/register/workbook gives, edited'
    return { status: 400, report: { dryRun, changes: [], conflicts: [], errors: [{ sheet: '', row: 0, column: '', value: '', message }] } }
  }
  let report = new Report(lang)
  try {
    await db.write(async (m) => {
      // a transaction the database made start again counts afresh
      report = new Report(lang)
      const commit = await new WorkbookImport(m, who, lang, report).run(readSheets(book, lang, report), dryRun)
      if (!commit) throw new RolledBack()
    }, { bulk: true })
  } catch (err) {
    if (!(err instanceof RolledBack)) throw err
  }
  const status = report.conflicts.length ? 409 : report.errors.length ? 400 : 200
  return { status, report: { dryRun, changes: report.changes, errors: report.errors, conflicts: report.conflicts } }
}

class WorkbookImport {
  private readonly ws: string
  constructor(private readonly m: EntityManager, private readonly who: Principal, private readonly lang: Lang, private readonly report: Report) {
    this.ws = who.ws
  }

  private names: NamesById = new Map()

  /** Plans, checks and writes the workbook's changes; answers whether the transaction is to commit. */
  async run(read: ReadSheet[], dryRun: boolean): Promise<boolean> {
    const { m, ws, lang, report, who } = this
    const views = await registerViews(m, ws)
    const byId = new Map<RecordType, Map<string, Row>>(RECORD_ORDER.map((d) => [d.type, new Map(views.get(d.type)!.map((v) => [v.id as string, v]))]))
    const oldNames = namesById(views)
    this.names = oldNames
    const sheetNames = new Map<RecordType, string>(workbookSheets().filter((s) => !s.list).map((s) => [s.def.type, s.name[lang]]))
    const planned = new Map<string, Planned>()
    const conflicted = new Set<string>()
    // ids by name: the register's names, then those the workbook gives (a renamed record answers to both)
    const ids: IdsByName = new Map(RECORD_ORDER.map((d) => [d.type, new Map<string, Set<string>>()]))
    const name = (type: RecordType, n: string, id: string): void => {
      if (!n) return
      const byName = ids.get(type)!
      if (!byName.has(n)) byName.set(n, new Set())
      byName.get(n)!.add(id)
    }
    for (const def of RECORD_ORDER) for (const [id, n] of oldNames.get(def.type)!) name(def.type, n, id)

    const conflict = (s: ReadSheet, r: SheetRow, id: string, now: Row | undefined): void => {
      if (conflicted.has(id)) return
      conflicted.add(id)
      const inBook = /^\d+$/.test(r.version) ? Number(r.version) : null
      report.conflicts.push({ sheet: s.name, row: r.row, recordType: s.sheet.def.type, id, versionInWorkbook: inBook, versionNow: now ? Number(now.version) : null })
    }
    /** The record a row names, checked: its view, or undefined when the row is new, a conflict or wrong. */
    const recordOf = (s: ReadSheet, r: SheetRow): Row | null | undefined => {
      if (!r.id) return null
      if (!UUID.test(r.id)) {
        report.error(s.name, r.row, ID, r.id, say(lang, `"${r.id}" is not an id of the register; leave id empty for a new record`, `"${r.id}" är inget id i registret; lämna id tomt för en ny post`))
        return undefined
      }
      const now = byId.get(s.sheet.def.type)!.get(r.id.toLowerCase())
      if (!/^\d+$/.test(r.version)) {
        report.error(s.name, r.row, VERSION, r.version, say(lang, 'the version is missing: download the workbook again', 'versionen saknas: ladda ned arbetsboken igen'))
        return undefined
      }
      // older than the record's now, or a record deleted since: never overwritten
      if (!now || Number(r.version) !== Number(now.version)) {
        conflict(s, r, r.id.toLowerCase(), now)
        return undefined
      }
      return now
    }

    // records: what each row asks
    const recordRows: { s: ReadSheet; r: SheetRow; p: Planned }[] = []
    for (const s of read.filter((x) => !x.sheet.list)) {
      const def = s.sheet.def
      const seen = new Map<string, number>()
      for (const r of s.rows) {
        const view = recordOf(s, r)
        if (view === undefined) continue
        const id = view ? (view.id as string) : randomUUID()
        if (view) {
          if (seen.has(id)) {
            report.error(s.name, r.row, ID, r.id, say(lang, `repeats row ${seen.get(id)}`, `upprepar rad ${seen.get(id)}`))
            continue
          }
          seen.set(id, r.row)
        }
        const marked = r.deleteMark !== '' && ![NO.sv, NO.en].some((n) => n.toLowerCase() === r.deleteMark.toLowerCase())
        if (marked && !view) continue // a new row marked for deletion: nothing to do
        const p: Planned = {
          def, id, existing: view, sheet: s.name, row: r.row, operation: marked ? 'delete' : view ? 'update' : 'create',
          body: view ? def.toWrite(view) : {}, fields: [], rowOf: { sheet: s.name, row: r.row }, listRows: new Map(),
        }
        planned.set(id, p)
        recordRows.push({ s, r, p })
        const nameColumn = s.columns.find((c) => c.key === (def === legalBases ? 'code' : 'name'))
        if (nameColumn && !marked) name(def.type, r.cells.get(nameColumn.key) ?? '', id)
      }
    }
    const decoder = new Decoder(lang, ids, sheetNames)

    // fields, cell by cell: a cell that reads as the record's value now is no change
    for (const { s, r, p } of recordRows) {
      if (p.operation === 'delete') continue
      for (const c of s.columns) {
        const text = r.cells.get(c.key) ?? ''
        const before = valueAt(p.body, c.key)
        const shown = shownText(c, before, lang, oldNames)
        if (p.existing && text === shown) continue
        const decoded = decoder.value(c, text)
        if (decoded.problem) {
          report.error(s.name, r.row, c.header[lang], text, decoded.problem)
          continue
        }
        if (same(decoded.value, before)) continue
        setAt(p.body, c.key, decoded.value)
        p.fields.push({ field: c.header[lang], before: p.existing ? shown || null : null, after: text || null })
      }
    }

    // the activities' lists: rows by activity, the whole list of each activity on its sheet
    const activitySheet = read.find((s) => s.sheet.def === processingActivities && !s.sheet.list)
    const newByName = new Map<string, Planned[]>()
    for (const p of planned.values()) {
      if (p.def === processingActivities && p.operation === 'create') {
        const n = String(p.body.name ?? '')
        newByName.set(n, [...(newByName.get(n) ?? []), p])
      }
    }
    for (const s of read.filter((x) => x.sheet.list)) {
      const list = s.sheet.list!
      const rowsOf = new Map<string, SheetRow[]>()
      for (const r of s.rows) {
        let owner: Planned | undefined
        if (!r.id) {
          const candidates = newByName.get(r.owner) ?? []
          if (candidates.length !== 1) {
            report.error(s.name, r.row, OWNER[lang], r.owner, candidates.length
              ? say(lang, `several new activities are named "${r.owner}"`, `flera nya behandlingar heter "${r.owner}"`)
              : say(lang, `no new activity on ${activitySheet?.name ?? 'the activities sheet'} is named "${r.owner}"; an existing activity is given by its id and version`, `ingen ny behandling på ${activitySheet?.name ?? 'bladet med behandlingar'} heter "${r.owner}"; en befintlig behandling anges med id och version`))
            continue
          }
          owner = candidates[0]
        } else {
          const view = recordOf(s, r)
          if (!view) continue
          owner = planned.get(view.id)
          if (!owner) {
            owner = {
              def: processingActivities, id: view.id, existing: view, sheet: s.name, row: r.row, operation: 'update',
              body: processingActivities.toWrite(view), fields: [], rowOf: { sheet: s.name, row: r.row }, listRows: new Map(),
            }
            planned.set(view.id, owner)
          }
        }
        if (owner.operation === 'delete') continue
        if (!rowsOf.has(owner.id)) rowsOf.set(owner.id, [])
        rowsOf.get(owner.id)!.push(r)
      }
      // an activity on the activities sheet has its whole list here, even an empty one
      for (const p of planned.values()) if (p.def === processingActivities && p.operation !== 'delete' && !rowsOf.has(p.id) && p.sheet === activitySheet?.name) rowsOf.set(p.id, [])
      for (const [id, rows] of rowsOf) {
        const p = planned.get(id)!
        p.listRows.set(list, { sheet: s, rows })
        const current = (p.body[list] ?? []) as Row[]
        let failed = false
        const items = rows.map((r, i) => {
          const item: Row = {}
          for (const c of s.sheet.columns) {
            const text = r.cells.get(c.key) ?? ''
            const before = current[i] ? valueAt(current[i], c.key) : undefined
            if (current[i] && text === shownText(c, before, lang, oldNames)) {
              item[c.key] = before
              continue
            }
            // a column the sheet lacks keeps the item's value
            if (!s.columns.includes(c)) {
              item[c.key] = before ?? null
              continue
            }
            const decoded = decoder.value(c, text)
            if (decoded.problem) {
              failed = true
              report.error(s.name, r.row, c.header[lang], text, decoded.problem)
            } else item[c.key] = decoded.value
          }
          return item
        })
        if (failed || same(items, current)) continue
        const shownRows = (xs: Row[]): string | null => (xs.length
          ? xs.map((x) => s.sheet.columns.map((c) => shownText(c, x[c.key], lang, oldNames)).filter(Boolean).join(' | ')).join('\n')
          : null)
        p.fields.push({ field: s.name, before: p.existing ? shownRows(current) : null, after: shownRows(items) })
        p.body[list] = items
        if (p.operation === 'update' && !p.fields.some((f) => f.field !== s.name) && rows[0] && p.sheet !== activitySheet?.name) {
          p.sheet = s.name
          p.row = rows[0].row
        }
      }
    }

    // what changes, validated as any write of the record is
    const toWrite: Planned[] = []
    for (const p of planned.values()) {
      if (p.operation === 'update' && !p.fields.length) continue
      if (p.operation !== 'delete') {
        try {
          p.body = validateWrite(p.def, p.body, p.id)
        } catch (err) {
          if (!(err instanceof AppError)) throw err
          this.blame(p, err)
          continue
        }
      }
      if (p.def === legalBases && who.role !== 'admin') {
        report.error(p.sheet, p.row, '', '', say(lang, `creating, changing or deleting a legal basis needs the admin role; the token has ${who.role}`, `att skapa, ändra eller ta bort en rättslig grund kräver rollen admin; token har ${who.role}`))
        continue
      }
      toWrite.push(p)
      report.changes.push({ sheet: p.sheet, row: p.row, recordType: p.def.type, id: p.id, operation: p.operation, fields: p.fields })
    }
    // a conflict anywhere: nothing is written, not even in a dry run (its report would be of a workbook that cannot apply)
    if (report.conflicts.length || report.errors.length) return false
    await this.write(toWrite)
    return !report.errors.length && !dryRun
  }

  /** Creates and updates kind by kind (what is referred to first), then deletions the other way round. */
  private async write(toWrite: Planned[]): Promise<void> {
    const { m, who } = this
    for (const def of RECORD_ORDER) {
      let items = toWrite.filter((p) => p.def === def && p.operation !== 'delete')
      if (!items.length) continue
      if (def === processors) items = subProcessorsFirst(items)
      const existingRows = new Map((await findIn(m, def.entity, who.ws, 'id', items.filter((p) => p.existing).map((p) => p.id))).map((r) => [r.id as string, r]))
      const series = new StoreSeries()
      const storeItems: StoreItem[] = items.map((p) => ({ id: p.id, dto: p.body, existing: p.existing ? existingRows.get(p.id) ?? null : null }))
      const outcomes = await storeMany(m, who, def, storeItems, undefined, series)
      await series.drain()
      outcomes.forEach((o, i) => { if (o instanceof AppError) this.blame(items[i], o) })
    }
    for (const def of [...RECORD_ORDER].reverse()) {
      const items = toWrite.filter((p) => p.def === def && p.operation === 'delete')
      if (!items.length) continue
      const rows = new Map((await findIn(m, def.entity, who.ws, 'id', items.map((p) => p.id))).map((r) => [r.id as string, r]))
      for (const p of items) {
        try {
          await remove(m, who, def, rows.get(p.id)!)
        } catch (err) {
          if (!(err instanceof AppError)) throw err
          const by = (err.references ?? []).map((r) => r.name).slice(0, 5).join(', ')
          this.report.error(p.sheet, p.row, DELETE[this.lang], '', by
            ? say(this.lang, `cannot be deleted while ${by} refer to it`, `kan inte tas bort medan ${by} hänvisar till den`)
            : err.message)
        }
      }
    }
  }

  /** A refused write's details at their sheets, rows and columns. */
  private blame(p: Planned, err: AppError): void {
    const details: FieldError[] = err.details?.length ? err.details : [{ field: '', message: err.message }]
    const sheetOf = workbookSheets()
    for (const d of details) {
      const item = /^(\w+)\[(\d+)\](?:\.(\w+))?/.exec(d.field)
      const listed = item ? p.listRows.get(item[1]) : undefined
      if (item && listed) {
        const r = listed.rows[Number(item[2])]
        const c = listed.sheet.sheet.columns.find((x) => x.key === item[3])
        const header = c?.header[this.lang] ?? ''
        this.report.error(listed.sheet.name, r?.row ?? p.row, header, c && r ? r.cells.get(c.key) ?? '' : '', saidOf(d, header))
        continue
      }
      const key = d.field.replace(/\[\d+\]/g, '').split('.').slice(0, 2).join('.')
      const sheet = sheetOf.find((s) => !s.list && s.def === p.def)!
      const c = sheet.columns.find((x) => x.key === key) ?? sheet.columns.find((x) => x.key === key.split('.')[0])
      const header = c?.header[this.lang] ?? ''
      this.report.error(p.rowOf.sheet, p.rowOf.row, header, c ? shownText(c, valueAt(p.body, c.key), this.lang, this.names) : '', saidOf(d, header))
    }
  }
}

/** A refused field's message after its column's header (which the location already names): "must be …". */
function saidOf(d: FieldError, header: string): string {
  if (!header || !d.field) return d.message
  const message = d.message.replace(d.field, header)
  return message.startsWith(`${header} `) ? message.slice(header.length + 1) : message
}

/** Processors that others engage as sub-processors are written before them (new ones included). */
function subProcessorsFirst(items: Planned[]): Planned[] {
  const pending = new Map(items.map((p) => [p.id, p]))
  const out: Planned[] = []
  const visit = (p: Planned, path: Set<string>): void => {
    if (!pending.has(p.id) || path.has(p.id)) return
    path.add(p.id)
    for (const s of (p.body.subProcessorIds ?? []) as string[]) {
      const q = pending.get(s)
      if (q) visit(q, path)
    }
    pending.delete(p.id)
    out.push(p)
  }
  for (const p of items) visit(p, new Set())
  return out
}

export type { NamesById }
export { nameOf }
