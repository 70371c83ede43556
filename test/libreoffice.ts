import { execFile } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { parse } from 'csv-parse/sync'
import ExcelJS from 'exceljs'
import { SOFFICE_TOOL } from './tools'

const run = promisify(execFile)

/** Debian's libreoffice-calc-nogui (.ci/run installs it): the spreadsheet reader our users have. */
export const SOFFICE = SOFFICE_TOOL.path

/**
 * LibreOffice in a profile of its own (so that runs in parallel do not share one lock), converting
 * a file with one of its filters. Returns the directory with what it wrote.
 */
async function convert(bytes: Buffer, name: string, filter: string, infilter?: string): Promise<{ dir: string; cleanup(): void }> {
  const dir = mkdtempSync(join(tmpdir(), 'ropa-lo-'))
  const input = join(dir, name)
  writeFileSync(input, bytes)
  const out = join(dir, 'out')
  await run(SOFFICE, [
    '--headless', '--norestore', `-env:UserInstallation=file://${join(dir, 'profile')}`,
    ...(infilter ? [`--infilter=${infilter}`] : []), '--convert-to', filter, '--outdir', out, input,
  ], { timeout: 120_000 })
  return { dir: out, cleanup: () => rmSync(dir, { recursive: true, force: true }) }
}

/**
 * Every sheet of a workbook as LibreOffice shows it, by sheet name: LibreOffice's CSV filter
 * (UTF-8, comma, cells as shown, every sheet to a file of its own), parsed.
 */
export async function sheetsAsCsv(xlsx: Buffer): Promise<Map<string, string[][]>> {
  const { dir, cleanup } = await convert(xlsx, 'book.xlsx', 'csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,true,false,false,-1')
  try {
    const sheets = new Map<string, string[][]>()
    for (const file of readdirSync(dir)) {
      const sheet = file.replace(/^book-/, '').replace(/\.csv$/, '')
      sheets.set(sheet, parse(readFileSync(join(dir, file)), { bom: true, relax_column_count: true }) as string[][])
    }
    return sheets
  } finally {
    cleanup()
  }
}

/** The workbook as LibreOffice reads it, saved as a flat OpenDocument spreadsheet (XML). */
export async function asFlatOds(xlsx: Buffer): Promise<string> {
  const { dir, cleanup } = await convert(xlsx, 'book.xlsx', 'fods')
  try {
    return readFileSync(join(dir, 'book.fods'), 'utf8')
  } finally {
    cleanup()
  }
}

/** LibreOffice's CSV import settings a person picks for our CSV: the separator, text in ", UTF-8 (76), from line 1. */
const csvImport = (separator: ',' | ';'): string => `CSV:${separator.charCodeAt(0)},34,76,1`

/**
 * What Calc reads from a CSV, row by row, as text: Calc saves what it read as a workbook, and an
 * independent reader (exceljs) reads its cells back.
 */
export async function openInCalc(csv: Buffer, separator: ',' | ';'): Promise<string[][]> {
  const { dir, cleanup } = await convert(csv, 'register.csv', 'xlsx', csvImport(separator))
  try {
    const workbook = new ExcelJS.Workbook()
    await workbook.xlsx.readFile(join(dir, 'register.xlsx'))
    const sheet = workbook.worksheets[0]
    const rows: string[][] = []
    for (let r = 1; r <= sheet.rowCount; r++) {
      const row = sheet.getRow(r)
      const cells: string[] = []
      for (let c = 1; c <= row.cellCount; c++) cells.push(row.getCell(c).text)
      rows.push(cells)
    }
    return rows
  } finally {
    cleanup()
  }
}

/**
 * A workbook (or, given its separator, a CSV) printed by LibreOffice to PDF (as File > Export as
 * PDF does, with each sheet's print setup): the text of each page.
 */
export async function printedPages(file: Buffer, csvSeparator?: ',' | ';'): Promise<string[]> {
  const { dir, cleanup } = await convert(file, csvSeparator ? 'book.csv' : 'book.xlsx', 'pdf', csvSeparator && csvImport(csvSeparator))
  try {
    const pdf = join(dir, 'book.pdf')
    const { stdout: info } = await run('pdfinfo', [pdf])
    const pages = Number(/^Pages:\s+(\d+)/m.exec(info)![1])
    const texts: string[] = []
    for (let page = 1; page <= pages; page++) {
      texts.push((await run('pdftotext', ['-f', String(page), '-l', String(page), '-enc', 'UTF-8', pdf, '-'])).stdout)
    }
    return texts
  } finally {
    cleanup()
  }
}
