import { execFile, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { promisify } from 'node:util'
import { parse } from 'csv-parse/sync'
import ExcelJS from 'exceljs'
import { SOFFICE_TOOL } from './tools'

const run = promisify(execFile)

/** Debian's libreoffice-calc-nogui (.ci/run installs it): the spreadsheet reader our users have. */
export const SOFFICE = SOFFICE_TOOL.path

/**
 * LibreOffice in a profile of its own (so that runs in parallel do not share one lock), converting
 * a file with one of its filters. Returns the directory with what it wrote, the input's name with
 * the filter's extension (a CSV of every sheet: one file per sheet, `<name>-<sheet>.csv`).
 */
export async function convert(bytes: Buffer, name: string, filter: string, infilter?: string): Promise<{ dir: string; cleanup(): void }> {
  const dir = mkdtempSync(join(tmpdir(), 'ropa-lo-'))
  const input = join(dir, name)
  writeFileSync(input, bytes)
  const out = join(dir, 'out')
  const cleanup = (): void => rmSync(dir, { recursive: true, force: true })
  try {
    const office = await runningOffice()
    if (office) await office.convert(input, out, filter, infilter)
    else {
      await run(SOFFICE, [
        '--headless', '--norestore', `-env:UserInstallation=file://${join(dir, 'profile')}`,
        ...(infilter ? [`--infilter=${infilter}`] : []), '--convert-to', filter, '--outdir', out, input,
      ], { timeout: 120_000 })
    }
  } catch (e) {
    cleanup()
    throw e
  }
  return { dir: out, cleanup }
}

/**
 * Debian's unoconv (a UNO client of Debian's python3-uno): with it, a test process starts Calc once
 * and sends it every file, instead of starting Calc (3–5 s of processor time) per file. It runs with
 * Debian's python3, whatever python3 comes first on PATH (a pyenv one has no `uno`).
 */
const UNOCONV = '/usr/bin/unoconv'
const SYSTEM_PYTHON = '/usr/bin/python3'

interface Office {
  convert(input: string, outdir: string, filter: string, infilter?: string): Promise<void>
}

let office: Promise<Office | undefined> | undefined

/** This process's Calc, started at its first conversion; none without unoconv (then each file starts one). */
function runningOffice(): Promise<Office | undefined> {
  office ??= (async () => {
    if (!existsSync(UNOCONV) || !existsSync(SYSTEM_PYTHON)) return undefined
    const profile = mkdtempSync(join(tmpdir(), 'ropa-lo-office-'))
    const pipe = `ropa-calc-${process.pid}-${randomBytes(4).toString('hex')}`
    // a process group of its own, with a watchdog that ends it when this process is gone (a worker
    // killed by mocha does not run exit handlers)
    const args = ['--headless', '--invisible', '--nocrashreport', '--nodefault', '--nologo', '--nofirststartwizard', '--norestore',
      `-env:UserInstallation=file://${profile}`, `--accept=pipe,name=${pipe};urp;`].map((a) => `'${a}'`).join(' ')
    const group = spawn('sh', ['-c', `${SOFFICE} ${args} & while kill -0 ${process.pid} 2>/dev/null; do sleep 2; done; kill -9 0`], { detached: true, stdio: 'ignore' })
    group.unref()
    process.once('exit', () => {
      try { process.kill(-group.pid!, 'SIGKILL') } catch { /* gone already */ }
      rmSync(profile, { recursive: true, force: true })
    })
    // Calc is ready when it listens: its UNO pipe appears (LibreOffice keeps its pipes in /tmp)
    const listening = `/tmp/OSL_PIPE_${process.getuid?.() ?? 0}_${pipe}`
    for (const started = Date.now(); !existsSync(listening); await new Promise((r) => setTimeout(r, 100))) {
      if (group.exitCode !== null || Date.now() - started > 120_000) throw new Error(`LibreOffice did not start listening on ${listening}`)
    }
    let turn: Promise<unknown> = Promise.resolve()
    return {
      // one file at a time: Calc loads one document at a time anyway
      convert(input, outdir, filter, infilter) {
        const [format, options] = splitFilter(filter)
        const name = basename(input).replace(/\.[^.]+$/, '')
        const done = turn.then(() => run(SYSTEM_PYTHON, [UNOCONV, `--pipe=${pipe}`, '--no-launch', '--timeout=120', '-f', format,
          '-o', join(outdir, `${name}.${format}`),
          ...(infilter ? ['-i', `FilterOptions=${infilter.replace(/^CSV:/, '')}`] : []),
          ...(options ? ['-e', `FilterOptions=${options}`] : []), input], { timeout: 180_000 }))
        turn = done.catch(() => undefined)
        return done.then(() => undefined)
      },
    }
  })()
  return office
}

/** `csv:Text - txt - csv (StarCalc):44,34,…` → ['csv', '44,34,…']; `pdf` → ['pdf', undefined]. */
function splitFilter(filter: string): [string, string | undefined] {
  const [format, , ...options] = filter.split(':')
  return [format, options.length ? options.join(':') : undefined]
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
