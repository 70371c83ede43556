import { once } from 'node:events'
import { compareNames } from '../wording/collation'
import { PassThrough, Readable, Writable } from 'node:stream'
import ExcelJS from 'exceljs'
import { registerDate } from '../wording/dates'
import { Column, headers, person } from './export-columns'
import { countryName, Lang, recordTypeWords, severityWords, TERMS } from '../wording/wording'
import { RegisterRecordKind } from './export-document'
import type { ExportQuery, ProofBlock } from './export-document'
import { Finding, FindingCollector, SEVERITIES } from '../review/findings'
import { controllers, processors } from '../records/model'
import { parsedViewsIn, RegisterSource } from '../records/walk'
import { Slices } from '../records/slices'

import type { Controller, ProcessingActivity, Processor } from '../../generated/view-types'

export const XLSX_CONTENT_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'

/**
 * The register as an Excel workbook, streamed with exceljs's WorkbookWriter: each row is written
 * to the zip as it is read, strings inline (no shared-strings table, which would grow with the
 * register), so memory stays flat in the register's size like the CSV's. One sheet per part: the
 * Art. 30(1) record and the Art. 30(2) record (exactly the CSV's columns and rows), the
 * controllers with their contact details, representative and DPO, and the open findings.
 *
 * Every cell is a value: text is written as an inline string, never as a formula, so a name such
 * as `=HYPERLINK(…)` stays text in Excel and LibreOffice (the CSV needs a leading apostrophe for
 * that; the workbook does not, so its cells are the CSV's without it).
 */

export interface SheetColumn {
  header: string
  date?: boolean
  /** Narrowest width, for a column whose long words may come after the sampled rows (field paths). */
  minWidth?: number
}

export interface Sheet {
  name: string
  columns: SheetColumn[]
  rows: AsyncIterable<string[]>
}

/** Rows read before the columns are sized (the column widths precede the rows in the file). */
const SAMPLE_ROWS = 50
const MIN_WIDTH = 10
const MAX_WIDTH = 40
/** The widest a column grows for one long word (a longer one is cut off in print). */
const MAX_WORD_WIDTH = 60
const DATE_WIDTH = 12
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/

/** Wide enough for the longest word of the header and the typical line of the sampled cells, within bounds. */
function columnWidth(column: SheetColumn, sample: string[][], index: number): number {
  if (column.date) return Math.max(DATE_WIDTH, ...column.header.split(/\s+/).map((w) => w.length + 2))
  const longestWord = Math.max(...column.header.split(/\s+/).map((w) => w.length)) + 2
  const longestLine = Math.max(0, ...sample.map((r) => Math.max(0, ...(r[index] ?? '').split('\n').map((l) => l.length))))
  // a word cannot wrap: one wider than the column is cut off on paper (a field path such as
  // riskFactors.automatedDecisionWithLegalEffect), so the column takes the longest word, up to a limit
  const longestCellWord = Math.max(0, ...sample.map((r) => Math.max(0, ...(r[index] ?? '').split(/\s+/).map((w) => w.length))))
  return Math.max(column.minWidth ?? 0, Math.min(MAX_WIDTH, Math.max(MIN_WIDTH, longestWord, longestLine + 2)), Math.min(MAX_WORD_WIDTH, longestCellWord + 2))
}

/** Points per line of the workbook's 11-point font, and what a cell's padding adds to a row. */
const LINE_HEIGHT = 15
const ROW_PADDING = 2
/**
 * Characters of ordinary text per width unit: a unit is the width of a digit of the default font,
 * and most letters are narrower than a digit (LibreOffice, with Calibri or its stand-in, fits about
 * 1.2 of them; a little less is counted, which leaves a row a line to spare rather than a line cut off).
 */
const CHARS_PER_UNIT = 1.1
/**
 * The same for a word longer than a line (a key id, a hash, a signature): Base64 holds capitals as
 * often as small letters, about a digit wide on average, and Calc breaks it where it fills the line;
 * counted at 1.1 a signature's last line fell below its row and was not printed.
 */
const CHARS_PER_UNIT_LONG_WORD = 0.9

/** JavaScript's `\s`: the characters between words. */
function isSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13) || c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a)
    || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff
}

/**
 * The lines a text takes wrapped at word boundaries in a column `width` units wide (a word longer
 * than a line is broken). Counted character by character: asked for every cell of every row, a
 * split into paragraphs and words was a third of the garbage a workbook made (issue 19).
 */
export function wrappedLines(text: string, width: number): number {
  const perLine = Math.max(1, Math.floor(width * CHARS_PER_UNIT) - 1)
  const perLongWordLine = Math.max(1, Math.floor(width * CHARS_PER_UNIT_LONG_WORD) - 1)
  let lines = 1
  let used = 0
  let word = 0
  // one step past the end, as if a newline: the last word is counted there
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : 10
    if (!isSpace(c)) { word++; continue }
    if (word > 0) {
      const needed = used === 0 ? word : used + 1 + word
      if (needed <= perLine) used = needed
      else {
        if (used > 0) lines++
        const per = word > perLine ? perLongWordLine : perLine
        lines += Math.ceil(word / per) - 1
        used = word % per || per
      }
      word = 0
    }
    if (c === 10 && i < text.length) { lines++; used = 0 }
  }
  return lines
}

/**
 * A row's height in points for its longest wrapped cell: LibreOffice does not fit a row to its text
 * when the file leaves the height unset (every row stays one line and wrapped text overlaps), and
 * Excel fits only the rows it is asked to, so the workbook sets every height itself.
 */
export function rowHeight(cells: string[], widths: number[]): number {
  let lines = 1
  for (let i = 0; i < cells.length; i++) if (cells[i]) lines = Math.max(lines, wrappedLines(cells[i], widths[i] ?? MIN_WIDTH))
  // 409 points is the most a spreadsheet row can be
  return Math.min(409, lines * LINE_HEIGHT + ROW_PADDING)
}

/** A cell's value: a date as a date, text as an inline string (rich text, so never a formula), empty as no cell. */
function cellValue(text: string, column: SheetColumn): ExcelJS.CellValue {
  if (text === '') return null
  const date = column.date ? ISO_DATE.exec(text) : null
  if (date) return new Date(Date.UTC(Number(date[1]), Number(date[2]) - 1, Number(date[3])))
  return { richText: [{ text }] }
}

/** `'Sheet name'!$A$1:$C$9` */
const sheetRange = (sheet: string, columns: number, rows: number): string =>
  `'${sheet.replace(/'/g, "''")}'!$A$1:$${columnLetters(columns)}$${rows}`

function columnLetters(n: number): string {
  let s = ''
  for (let k = n; k > 0; k = Math.floor((k - 1) / 26)) s = String.fromCharCode(65 + ((k - 1) % 26)) + s
  return s
}

/**
 * A worksheet's XML on its way into the zip, in place of exceljs's own stream (a StreamBuf). That one
 * turned each row's XML into a buffer, copied it into 64 KB buffers it allocated zeroed, and piped
 * those on without regard to back-pressure: every byte of a sheet became two buffers outside the
 * heap, and the ones still queued when V8 scavenged were promoted, freed only by a full collection
 * (20-55 MB of array buffers at the peak of a 10,000-activity workbook). Here the rows' XML is
 * gathered as a string and becomes one buffer per SHEET_CHUNK, and `write` answers false once the
 * zip is SHEET_BACKLOG behind, so the rows wait for it (a real stream, which archiver reads as is).
 */
class SheetStream extends PassThrough {
  private pending = ''

  constructor() {
    super({ highWaterMark: SHEET_BACKLOG })
  }

  // exceljs writes strings (rows) and its StringBuf (the sheet's head and tail, a buffer it reuses at once)
  override write(data: unknown, encoding?: unknown, callback?: unknown): boolean {
    this.pending += typeof data === 'string' ? data : (data as { toBuffer(): Buffer }).toBuffer().toString('utf8')
    if (this.pending.length >= SHEET_CHUNK) this.flush()
    if (typeof encoding === 'function') process.nextTick(encoding as () => void)
    else if (typeof callback === 'function') process.nextTick(callback as () => void)
    return !this.writableNeedDrain
  }

  override end(...args: unknown[]): this {
    this.flush()
    return super.end(...(args as []))
  }

  private flush(): void {
    if (this.pending === '') return
    super.write(this.pending)
    this.pending = ''
  }
}

/** Characters of a sheet's XML gathered before they become a buffer for the zip. */
const SHEET_CHUNK = 32 * 1024
/** Bytes of a sheet's XML that may wait for the zip before the rows wait for it. */
const SHEET_BACKLOG = 64 * 1024

/** Until the stream drains or closes, or `also` closes (the download, which the zip waits for), leaving no listener behind. */
async function drained(stream: Writable, also?: Writable): Promise<void> {
  const settled = new AbortController()
  try {
    await Promise.race([
      once(stream, 'drain', { signal: settled.signal }), once(stream, 'close', { signal: settled.signal }),
      ...(also ? [once(also, 'close', { signal: settled.signal })] : []),
    ])
  } finally {
    settled.abort()
  }
}

/** The workbook's parts are written through SheetStreams (exceljs's hook for a part's stream). */
function withSheetStreams(workbook: ExcelJS.stream.xlsx.WorkbookWriter): void {
  const internals = workbook as unknown as { zip: { append(source: Readable, data: { name: string }): void }; _openStream(path: string): Writable }
  internals._openStream = (path: string): Writable => {
    const stream = new SheetStream()
    internals.zip.append(stream, { name: path })
    // what exceljs's own does: the workbook's commit waits for 'zipped'
    stream.on('finish', () => stream.emit('zipped'))
    return stream
  }
}

/** Writes the sheets one after another (a zip holds one entry at a time), waiting for a slow reader. */
async function writeSheets(out: PassThrough, sheets: Sheet[]): Promise<void> {
  const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({ stream: out, useStyles: true, useSharedStrings: false })
  withSheetStreams(workbook)
  workbook.creator = 'ropa-register'
  const filterNames: { name: string; localSheetId: number; ranges: string[] }[] = []
  // exceljs lays out each row synchronously, and rows read from SQLite come in microtasks: without
  // turns of the event loop a workbook of 10,000 activities held it for 5 s, and the zip (which
  // compresses in turns of its own) fell behind by the whole sheet (150 MB)
  const slices = new Slices()
  for (const [index, sheet] of sheets.entries()) {
    const rows = sheet.rows[Symbol.asyncIterator]()
    const sample: string[][] = []
    let done = false
    while (sample.length < SAMPLE_ROWS) {
      const next = await rows.next()
      if (next.done) { done = true; break }
      sample.push(next.value)
    }
    const worksheet = workbook.addWorksheet(sheet.name, {
      views: [{ state: 'frozen', xSplit: 0, ySplit: 1, topLeftCell: 'A2', activeCell: 'A2' }],
      // Printed on A4 landscape, every column on the page (as many pages down as the rows need: a
      // fitToHeight of 0 leaves the height free), the header row repeated on every page, the
      // pages numbered in the footer.
      pageSetup: {
        paperSize: 9, orientation: 'landscape', fitToPage: true, fitToWidth: 1, fitToHeight: 0, printTitlesRow: '1:1',
        margins: { left: 0.4, right: 0.4, top: 0.5, bottom: 0.6, header: 0.3, footer: 0.3 },
      },
      headerFooter: { oddFooter: `&L${sheet.name.replace(/&/g, '&&')}&R&P / &N` },
    })
    const widths = sheet.columns.map((c, i) => columnWidth(c, sample, i))
    worksheet.columns = sheet.columns.map((c, i) => ({
      header: c.header,
      key: String(i),
      width: widths[i],
      style: { alignment: { wrapText: true, vertical: 'top' }, ...(c.date ? { numFmt: 'yyyy-mm-dd' } : {}) },
    }))
    const sheetStream = (worksheet as unknown as { stream: Writable }).stream
    const header = worksheet.getRow(1)
    header.font = { name: 'Calibri', size: 11, bold: true }
    header.height = rowHeight(sheet.columns.map((c) => c.header), widths)
    header.commit()
    let lastRow = 1
    // Each cell gets its column's style object itself, not a copy: exceljs finds the style's number
    // by the object (a WeakMap), and for a copy writes the style's XML again to look it up, which
    // was most of the garbage a workbook made (4 GB at 10,000 activities, promoted with the pages
    // it outlived: 130 MB of heap before a full collection). The style is the same.
    const styles = sheet.columns.map((_, i) => worksheet.getColumn(i + 1).style)
    const write = (cells: string[]): void => {
      const row = worksheet.addRow(sheet.columns.map((c, i) => cellValue(cells[i] ?? '', c)))
      row.eachCell({ includeEmpty: true }, (cell, i) => { cell.style = styles[i - 1] })
      row.height = rowHeight(cells, widths)
      row.commit()
      lastRow++
    }
    for (const cells of sample) write(cells)
    if (!done) {
      for (let next = await rows.next(); !next.done; next = await rows.next()) {
        write(next.value)
        if (out.destroyed) { await rows.return?.(undefined); return }
        if (slices.due()) await slices.pace()
        // the zip's pace: a sheet laid out faster than it is compressed waits, not piles up
        if (sheetStream.writableNeedDrain && !out.destroyed) await drained(sheetStream, out)
        // Back-pressure: a client that reads slowly holds the walk, not a growing buffer.
        if (lastRow % 100 === 0 && out.writableNeedDrain) await drained(out)
      }
    }
    // The autofilter is written after the rows, so it can span them all.
    worksheet.autoFilter = { from: { row: 1, column: 1 }, to: { row: lastRow, column: sheet.columns.length } }
    filterNames.push({ name: '_xlnm._FilterDatabase', localSheetId: index, ranges: [sheetRange(sheet.name, sheet.columns.length, lastRow)] })
    worksheet.commit()
  }
  // Excel writes each sheet's filter range as the hidden sheet-scoped name _xlnm._FilterDatabase, and
  // LibreOffice shows an autofilter only with it; exceljs's streaming writer has no API for a
  // sheet-scoped name, so its list of names is given here.
  ;(workbook as unknown as { _definedNames: { model: typeof filterNames } })._definedNames = { model: filterNames }
  await workbook.commit()
}

/** A stream of the workbook; an error while reading destroys it (the status line is already sent). */
export function workbookStream(sheets: Sheet[]): Readable {
  const out = new PassThrough()
  writeSheets(out, sheets).catch((err) => out.destroy(err))
  return out
}

// --- the register's sheets ---------------------------------------------------------------------

/** The controllers in the export: every controller of the workspace, or the one asked for. */
async function* controllerRows(register: RegisterSource, q: ExportQuery, timeZone: string): AsyncGenerator<string[]> {
  const series = await register.open()
  try {
    const pages = async function* (): AsyncGenerator<Controller[]> {
      if (q.controllerId) {
        yield [...(await parsedViewsIn<Controller>(series, controllers, [q.controllerId])).values()]
        return
      }
      // every controller's view (an organisation keeps few), then by name
      const all: Controller[] = []
      for await (const page of series.viewPages(controllers, 500)) all.push(...page.map((p) => JSON.parse(p.json) as Controller))
      yield all.sort(compareNames)
    }
    for await (const page of pages()) {
      for (const c of page) {
        yield [
          c.name, c.organisationNumber ?? '', c.address ?? '', c.email ?? '', c.phone ?? '', c.website ?? '',
          countryName(c.country, q.lang), person(c.representative), person(c.dataProtectionOfficer), c.updatedAt ? registerDate(new Date(c.updatedAt), timeZone) : '',
        ]
      }
    }
  } finally {
    await series.close()
  }
}

const CONTROLLER_SHEET_COLUMNS: { en: string; sv: string; date?: true }[] = [
  TERMS.controller,
  TERMS.organisationNumber,
  TERMS.address,
  TERMS.email,
  TERMS.phone,
  TERMS.website,
  TERMS.country,
  TERMS.representative,
  TERMS.dataProtectionOfficer,
  { ...TERMS.lastChanged, date: true },
]

/**
 * Activities read and checked at once. A page's views live until its findings are written, and a
 * workbook's rows make garbage fast: a page of 200 outlived scavenges and V8 promoted it (50 MB of
 * the old generation at 10,000 activities, then a full collection); a page of 25 dies young.
 */
const FINDING_PAGE = 25
/** Activities whose findings are sorted together, most severe first: the pages of the walk the sheet was first written by. */
const FINDINGS_SORTED_OVER = 200

/**
 * The open findings of the exported activities (retired ones are never checked), as
 * GET /register/findings finds them. Written a group of activities at a time: each group's activity
 * findings are taken out of the collector as they are found (most severe first within the group),
 * so memory does not grow with the register; the findings about shared records (controllers,
 * processors, data categories) come last.
 */
async function* findingRows(register: RegisterSource, q: ExportQuery, at: Date, timeZone: string): AsyncGenerator<string[]> {
  const row = (f: Finding): string[] => [
    severityWords(f.severity, q.lang), f.article, recordTypeWords(f.record.type, q.lang), f.record.name,
    f.field ?? '', f.message[q.lang], f.rule,
  ]
  // A group's findings outlive the scavenges its rows' garbage brings about and are promoted with
  // the pages they sit on (20 MB of the old generation at 10,000 activities): a group keeps only
  // its rows, in the language asked for, by severity in the order found (what a stable sort by
  // severity gives), and each page's Finding objects die young.
  const group: string[][][] = SEVERITIES.map(() => [])
  const collector = new FindingCollector({ today: registerDate(at, timeZone) })
  const series = await register.open()
  try {
    const statuses = q.status ? [q.status] : ['draft', 'active']
    let checked = 0
    for await (const stored of series.activityPages({ controllerId: q.controllerId, statuses }, FINDING_PAGE)) {
      collector.addActivities(stored.map((p) => (p.view ?? JSON.parse(p.json)) as ProcessingActivity))
      for (const f of collector.findings.splice(0)) group[SEVERITIES.indexOf(f.severity)].push(row(f))
      checked += stored.length
      if (checked < FINDINGS_SORTED_OVER) continue
      checked = 0
      for (const rows of group) yield* rows.splice(0)
    }
    for (const rows of group) yield* rows.splice(0)
    const needed = collector.sharedIds()
    const full = {
      controllers: await parsedViewsIn<Controller>(series, controllers, needed.controllers),
      processors: await parsedViewsIn<Processor>(series, processors, needed.processors),
    }
    for (const f of collector.finish(full)) yield row(f)
  } finally {
    await series.close()
  }
}

const FINDING_SHEET_COLUMNS: { en: string; sv: string; minWidth?: number }[] = [
  TERMS.severity,
  TERMS.article,
  { en: 'Record type', sv: 'Typ av post' },
  TERMS.record,
  // a field path is one word (riskFactors.automatedDecisionWithLegalEffect): the column takes the longest
  { en: 'Field', sv: 'Fält', minWidth: 48 },
  TERMS.finding,
  { en: 'Rule', sv: 'Regel' },
]

export const SHEET_NAMES: Record<'controllerRecord' | 'processorRecord' | 'controllers' | 'findings', { en: string; sv: string }> = {
  controllerRecord: { en: 'Art. 30(1) activities', sv: 'Art. 30.1 behandlingar' },
  processorRecord: { en: 'Art. 30(2) processor', sv: 'Art. 30.2 biträde' },
  controllers: TERMS.controllers,
  findings: TERMS.openFindings,
}

const sheetColumns = (columns: { en: string; sv: string; date?: true; minWidth?: number }[], lang: Lang): SheetColumn[] =>
  columns.map((c) => ({ header: c[lang], date: Boolean(c.date), minWidth: c.minWidth }))

/**
 * The register's workbook for an export query (its filters and language). `recordRows` gives the
 * CSV's rows of a record, so the two record sheets are the CSV cell for cell.
 */
export function registerWorkbook(
  register: RegisterSource, q: ExportQuery, recordRows: (record: RegisterRecordKind) => AsyncIterable<string[]>,
  columnsOf: (record: RegisterRecordKind) => Column[], at: Date, timeZone: string, proof?: ProofBlock,
): Readable {
  const record = (record: RegisterRecordKind): SheetColumn[] => {
    const columns = columnsOf(record)
    return headers(columns, q.lang).map((header, i) => ({ header, date: Boolean(columns[i].date) }))
  }
  return workbookStream([
    { name: SHEET_NAMES.controllerRecord[q.lang], columns: record('controller'), rows: recordRows('controller') },
    { name: SHEET_NAMES.processorRecord[q.lang], columns: record('processor'), rows: recordRows('processor') },
    { name: SHEET_NAMES.controllers[q.lang], columns: sheetColumns(CONTROLLER_SHEET_COLUMNS, q.lang), rows: controllerRows(register, q, timeZone) },
    { name: SHEET_NAMES.findings[q.lang], columns: sheetColumns(FINDING_SHEET_COLUMNS, q.lang), rows: findingRows(register, q, at, timeZone) },
    // a version's proof, on a sheet of its own after the register's: the heading and each label on
    // one line, a hash (64 characters) on one line, the signature wrapped whole in its cell
    ...(proof ? [{ name: proof.sheet, columns: [{ header: proof.heading, minWidth: 60 }, { header: proof.value, minWidth: 70 }], rows: (async function* () { yield* proof.rows })() }] : []),
  ])
}
