import { Readable } from 'node:stream'
import { stringify, Options as CsvOptions } from 'csv-stringify/sync'
import { Database } from '../../db/database'
import { ValidationFailed } from '../../errors'
import { registerDate } from '../wording/dates'
import { FORMAT_EXPECTED, isExactMoment } from '../../schemas/formats'
import { CellContext, CONTROLLER_COLUMNS, headers, Lang, PROCESSOR_COLUMNS } from './export-columns'
import { EXPORT_FORMAT, EXPORT_FORMAT_VERSION, ExportQuery, ProofBlock, RegisterRecordKind, Section, SECTIONS } from './export-document'
import { controllers, processingActivities, processors } from '../records/model'
import type { RecordType } from '../../dto/shape'
import { registerWorkbook, XLSX_CONTENT_TYPE } from './xlsx'
import { checkControllerFilter, liveRegister, RegisterSource, RegisterViews, StoredActivity } from '../records/walk'
import { Slices } from '../records/slices'
import type { Controller, ControllerRef, ProcessingActivity, Processor } from '../../generated/view-types'

import type { Row } from '../records/model'
import { inLanguage } from '../records/commitments'


export interface RegisterExport {
  stream: Readable
  contentType: string
  fileName: string
}

/** Activities per page: each page is one read of stored views, then written out. */
export const EXPORT_PAGE_SIZE = 200

/**
 * Consistency: the whole export reads one snapshot (Database.snapshot: a read transaction on a
 * read-only connection of its own on SQLite, REPEATABLE READ READ ONLY on PostgreSQL), held for
 * the whole download however slowly the client reads, while writers go on. Pages walk the stored
 * views by id (keyset). The JSON document lists the referenced records after the activities, from
 * the references the written activities make, so it is self-contained.
 */

const isFiltered = (q: ExportQuery): boolean => q.controllerId !== undefined || q.status !== undefined

/** Bad filters answer 400 before anything is streamed. */
export async function checkExportQuery(register: Database | RegisterSource, ws: string, q: ExportQuery): Promise<void> {
  await checkControllerFilter(register, ws, q.controllerId)
}

/**
 * `asOf` as the instant it names (ISO 8601, UTC). The route's schema already refuses what is not a
 * moment the service can hold (src/schemas/formats.ts: a leap second, 30 February, hour 24); this
 * is the same check for a caller that bypasses it: 400 naming the parameter, with the form expected.
 */
export function asOfInstant(text: string): string {
  if (!isExactMoment(text)) {
    throw new ValidationFailed([{ field: 'asOf', message: `asOf must be ${FORMAT_EXPECTED['date-time']}; got ${JSON.stringify(text.slice(0, 40))}` }])
  }
  return new Date(text).toISOString()
}

export function exportFileName(q: ExportQuery, at: Date, timeZone: string): string {
  const date = registerDate(at, timeZone)
  const base = q.lang === 'sv'
    ? (q.record === 'processor' ? 'registerforteckning-personuppgiftsbitrade' : 'registerforteckning')
    : (q.record === 'processor' ? 'register-of-processing-activities-processor' : 'register-of-processing-activities')
  return `${base}-${date}.${q.format}`
}

/**
 * The CSV field delimiter: the one asked for, else the one the language's spreadsheets expect
 * (Excel with Swedish settings splits on `;`, since `,` is the decimal sign there).
 */
export function csvDelimiter(q: Pick<ExportQuery, 'lang' | 'delimiter'>): ';' | ',' {
  const delimiter = q.delimiter ?? (q.lang === 'sv' ? 'semicolon' : 'comma')
  return delimiter === 'semicolon' ? ';' : ','
}

/**
 * The export as a stream for the response; nothing is read until the stream is consumed. An error
 * while reading destroys the response (the status line is already sent); a client that goes away
 * destroys the stream, which ends the reads and releases the snapshot.
 */
export function exportRegister(db: Database, ws: string, q: ExportQuery, at: Date, timeZone: string): RegisterExport {
  return exportFrom(liveRegister(db, ws), q, at, timeZone)
}

/**
 * The export of any register (the live one, the one as of a moment, a frozen version: see
 * RegisterSource), written by the same code: the files differ only by what the register holds.
 */
export function exportFrom(register: RegisterSource, q: ExportQuery, at: Date, timeZone: string, proof?: ProofBlock): RegisterExport {
  const fileName = exportFileName(q, at, timeZone)
  if (q.format === 'json') {
    return { stream: Readable.from(jsonDocument(register, q, at)), contentType: 'application/json; charset=utf-8', fileName }
  }
  if (q.format === 'xlsx') {
    // The workbook holds both records, each sheet exactly the CSV's columns and rows.
    const rows = (record: RegisterRecordKind) => csvRows(register, { ...q, record }, timeZone, columnsOf(record).map((c) => c.cell))
    return { stream: registerWorkbook(register, q, rows, columnsOf, at, timeZone, proof), contentType: XLSX_CONTENT_TYPE, fileName: exportFileName({ ...q, record: 'controller' }, at, timeZone) }
  }
  return { stream: Readable.from(csvDocument(register, q, timeZone, proof)), contentType: 'text/csv; charset=utf-8', fileName }
}

export const columnsOf = (record: RegisterRecordKind) => (record === 'processor' ? PROCESSOR_COLUMNS : CONTROLLER_COLUMNS)

// --- walking the activities --------------------------------------------------------------------

/**
 * The exported activities' stored views, a page at a time, through the register's one walk
 * (src/register/records/walk.ts): in name order, and for a controller the activities it keeps and those
 * it controls jointly, as its record must hold them (Art. 26, Art. 30(1)(a)).
 */
function activityPages(views: RegisterViews, q: ExportQuery, pageSize = EXPORT_PAGE_SIZE): AsyncGenerator<StoredActivity[]> {
  return views.activityPages({ role: q.record, controllerId: q.controllerId, statuses: q.status ? [q.status] : undefined }, pageSize)
}

// --- CSV ---------------------------------------------------------------------------------------

/** Full views of records by id, loaded once each: bounded by the number of organisations, not of activities. */
class ViewCache<V extends { id: string }> {
  private readonly views = new Map<string, V | null>()
  constructor(private readonly def: typeof controllers) {}

  async load(register: RegisterViews, ids: string[]): Promise<void> {
    const missing = [...new Set(ids)].filter((id) => !this.views.has(id))
    if (!missing.length) return
    for (const json of await register.viewsIn(this.def, missing)) {
      const v = JSON.parse(json) as V
      this.views.set(v.id, v)
    }
    for (const id of missing) if (!this.views.has(id)) this.views.set(id, null)
  }

  get(id: string | null | undefined): V | null {
    return id ? this.views.get(id) ?? null : null
  }
}

/**
 * The rows of the exported activities, CSV_ROWS_AT_ONCE activities at a time: each batch is read,
 * parsed, turned into cells and handed on before the next is read, so that its views and cells die
 * in the young generation. A page of 200 outlived a scavenge or two while its rows went out, and
 * V8 promoted it: 100+ MB of garbage in the old generation before a full GC (bench/NOTES.md).
 */
async function* csvRowBatches(register: RegisterSource, q: ExportQuery, timeZone: string, cells: ((c: CellContext) => string)[]): AsyncGenerator<string[][]> {
  const controllerViews = new ViewCache<Controller>(controllers)
  const processorViews = new ViewCache<Processor>(processors)
  const series = await register.open()
  const slices = new Slices()
  try {
    for await (const page of activityPages(series, q, CSV_ROWS_AT_ONCE)) {
      await slices.pace()
      const views = page.map((p) => (p.view ?? JSON.parse(p.json)) as ProcessingActivity)
      await controllerViews.load(series, views.flatMap((a) => [a.controller.id, ...a.jointControllers.map((c) => c.id), ...a.onBehalfOfControllers.map((c) => c.id)]))
      await processorViews.load(series, views.flatMap((a) => a.processors.map((p) => p.id)))
      yield rowsOf(views, q, timeZone, cells, controllerViews, processorViews)
    }
  } finally {
    await series.close()
  }
}

function rowsOf(views: ProcessingActivity[], q: ExportQuery, timeZone: string, cells: ((c: CellContext) => string)[], controllerViews: ViewCache<Controller>, processorViews: ViewCache<Processor>): string[][] {
  const rows: string[][] = []
  const controller = (id: string | undefined) => controllerViews.get(id)
  const processor = (id: string) => processorViews.get(id)
  for (const activity of views) {
    // Art. 30(2): one row per category of processing and controller on whose behalf it is carried out
    const clients: (Controller | ControllerRef | null)[] = q.record === 'processor' ? activity.onBehalfOfControllers.map((c) => controllerViews.get(c.id) ?? c) : [null]
    for (const client of clients) {
      const context: CellContext = { lang: q.lang, timeZone, activity, controller, processor, client }
      // an erased value's marker in the sheet's language
      rows.push(cells.map((cell) => inLanguage(cell(context), q.lang)))
    }
  }
  return rows
}

/** The rows one by one (the workbook's sheets of the two records). */
async function* csvRows(register: RegisterSource, q: ExportQuery, timeZone: string, cells: ((c: CellContext) => string)[]): AsyncGenerator<string[]> {
  for await (const rows of csvRowBatches(register, q, timeZone, cells)) yield* rows
}

/** Activities whose rows are computed and written at once (about 40 KB of CSV). */
const CSV_ROWS_AT_ONCE = 25

/**
 * The CSV file: the header row, then the rows as text, a batch at a time; a version's file then its
 * proof, after an empty record, every record as wide as the header (so a reader that wants a
 * rectangle still parses it, and the data ends at the first empty record).
 */
async function* csvDocument(register: RegisterSource, q: ExportQuery, timeZone: string, proof?: ProofBlock): AsyncGenerator<string> {
  const columns = columnsOf(q.record)
  const options: CsvOptions = {
    delimiter: csvDelimiter(q),
    // OWASP: a cell starting with = + - @ tab or CR gets a leading apostrophe so spreadsheets show it as text
    escape_formulas: true,
    record_delimiter: 'windows', // RFC 4180
    // RFC 4180: a field holding a line break is quoted. csv-stringify quotes by itself only a field
    // holding the record delimiter (CRLF), so a bare LF in a description split the row in Calc.
    quoted_match: /[\r\n]/,
  }
  // the BOM, so that Excel reads UTF-8 (å, ä, ö); every record, the header too, ends in CRLF
  yield stringify([headers(columns, q.lang)], { ...options, bom: true })
  for await (const rows of csvRowBatches(register, q, timeZone, columns.map((c) => c.cell))) {
    if (rows.length) yield stringify(rows, options)
  }
  if (proof) {
    const wide = (cells: string[]): string[] => [...cells, ...Array<string>(columns.length - cells.length).fill('')]
    yield stringify([wide([]), wide([proof.heading]), ...proof.rows.map(wide)], options)
  }
}

// --- JSON --------------------------------------------------------------------------------------

/**
 * Characters per chunk of the JSON document: a string much larger (a page of views joined) is
 * allocated where only a full garbage collection frees it, and an export of 50,000 activities
 * piled up hundreds of MB of them before one ran.
 */
const CHUNK_CHARS = 32 * 1024

/** The document, written as it is read: head, activities page by page, then the records they refer to. */
async function* jsonDocument(register: RegisterSource, q: ExportQuery, at: Date): AsyncGenerator<string> {
  const { ws } = register
  const series = await register.open()
  try {
    const head = {
      format: EXPORT_FORMAT,
      formatVersion: EXPORT_FORMAT_VERSION,
      generatedAt: at.toISOString(),
      workspace: ws,
      record: q.record,
      filters: { controllerId: q.controllerId ?? null, status: q.status ?? null, asOf: q.asOf ?? null },
    }
    yield JSON.stringify(head).slice(0, -1) + ',\n"processingActivities":['
    const referenced = new Map<RecordType, Set<string>>()
    let first = true
    const slices = new Slices()
    for await (const page of activityPages(series, q, series.pageSize ?? EXPORT_PAGE_SIZE)) {
      await slices.pace()
      for (const p of page) addActivityReferences(referenced, (p.view ?? JSON.parse(p.json)) as ProcessingActivity)
      // the stored views as they are (the bytes GET answers with), in chunks of up to CHUNK_CHARS
      let chunk = ''
      for (const { json } of page) {
        chunk += (first ? '\n' : ',\n') + json
        first = false
        if (chunk.length >= CHUNK_CHARS) {
          yield chunk
          chunk = ''
        }
      }
      if (chunk) yield chunk
    }
    yield '\n]'
    for (const section of SECTIONS) {
      if (section.def === processingActivities) continue
      yield `,\n${JSON.stringify(section.key)}:[`
      let firstEntry = true
      for await (const views of sectionPages(series, section, referenced.get(section.def.type) ?? new Set(), isFiltered(q))) {
        await slices.pace()
        let chunk = ''
        for (const json of views) {
          chunk += (firstEntry ? '\n' : ',\n') + json
          firstEntry = false
          if (chunk.length >= CHUNK_CHARS) {
            yield chunk
            chunk = ''
          }
        }
        if (chunk) yield chunk
      }
      yield '\n]'
    }
    yield '}\n'
  } finally {
    await series.close()
  }
}

/**
 * The records an activity's view refers to, added to `into` by type: what
 * `processingActivities.refUses(processingActivities.toWrite(view))` names (test/export.test.ts),
 * read straight from the view. Going through the write body built a dozen objects per activity
 * that V8 kept to the old generation: a 10,000-activity JSON export left about 60 MB of them there.
 */
export function addActivityReferences(into: Map<RecordType, Set<string>>, view: ProcessingActivity): void {
  const add = (type: RecordType, id: string | null | undefined): void => {
    if (!id) return
    let ids = into.get(type)
    if (!ids) into.set(type, ids = new Set())
    ids.add(id)
  }
  add('controller', view.controller?.id)
  for (const c of view.jointControllers ?? []) add('controller', c.id)
  for (const c of view.onBehalfOfControllers ?? []) add('controller', c.id)
  for (const c of view.dataSubjectCategories ?? []) add('data-subject-category', c.id)
  for (const c of view.dataCategories ?? []) add('data-category', c.id)
  for (const r of view.recipients ?? []) add('recipient', r.id)
  for (const p of view.processors ?? []) add('processor', p.id)
  for (const m of view.securityMeasures ?? []) add('security-measure', m.id)
  for (const p of view.purposes ?? []) {
    add('purpose', p.purpose?.id)
    for (const b of p.legalBases ?? []) add('legal-basis', b.id)
  }
  for (const t of view.transfers ?? []) {
    add('recipient', t.recipient?.id)
    add('processor', t.processor?.id)
  }
  for (const r of view.retention ?? []) add('retention-rule', r.retentionRule?.id)
}

/** A processor's sub-processors, and theirs, so that every processor in the document can be imported. */
async function withSubProcessors(register: RegisterViews, ids: Set<string>): Promise<Set<string>> {
  const all = new Set(ids)
  let frontier = [...ids]
  while (frontier.length) {
    frontier = [...new Set(await register.subProcessorIds(frontier))].filter((id) => !all.has(id))
    for (const id of frontier) all.add(id)
  }
  return all
}

/**
 * One list of the document, in id order, a page per read. Filtered exports list what the activities
 * refer to; unfiltered ones list every record, except built-in legal bases that nothing uses
 * (every workspace has them).
 */
async function* sectionPages(series: RegisterViews, section: Section, referenced: Set<string>, filtered: boolean): AsyncGenerator<string[]> {
  const { def } = section
  if (filtered) {
    const wanted = def === processors ? await withSubProcessors(series, referenced) : referenced
    const ids = [...wanted].sort()
    for (let i = 0; i < ids.length; i += EXPORT_PAGE_SIZE) {
      const chunk = ids.slice(i, i + EXPORT_PAGE_SIZE)
      const views = await series.viewsIn(def, chunk)
      if (views.length) yield views
    }
    return
  }
  for await (const page of series.viewPages(def, EXPORT_PAGE_SIZE)) {
    const kept = section.key === 'legalBases' ? page.filter((p) => referenced.has(p.id) || !JSON.parse(p.json).builtIn) : page
    if (kept.length) yield kept.map((p) => p.json)
  }
}
