import 'reflect-metadata'
import { writeFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import { join } from 'node:path'
import ExcelJS from 'exceljs'
import { createDataSource, Dialect, dialectOf } from '../src/db/data-source'
import { Database } from '../src/db/database'
import { buildWorkbook } from '../src/register/exchange/workbook'
import { importWorkbook, WorkbookReport } from '../src/register/exchange/workbook-import'
import { buildViews, generate, machine, mb, scratchDatabase, WS } from './register'

/**
 * Issue 23: the editable workbook of a register of 1,000 activities (and the catalogue the bench
 * register has: 20 controllers, 100 processors, 200 purposes, …), downloaded and brought back
 * through the service as the routes call it (without HTTP), on SQLite and PostgreSQL:
 *
 *   npm run build && node dist/bench/workbook.js [sqlite] [postgres]
 *
 * Three uploads, each timed from the bytes to the committed transaction: the workbook unchanged
 * (every row compared, nothing written), every activity's description changed (1,000 updates
 * with their history), and 1,000 new activities (copies of the rows without id, with their
 * purposes, transfers and retention on the list sheets). Target: each < 10 s. Results in
 * bench/RESULTS-workbook.md.
 */

const RESULTS = join(__dirname, '..', '..', 'bench', 'RESULTS-workbook.md')
const ACTIVITIES = Number(process.env.BENCH_WORKBOOK_ACTIVITIES ?? 1000)
const TARGET_MS = 10_000

interface Upload {
  what: string
  ms: number
  /** CPU time of this process meanwhile: what a busy machine's wait does not inflate. */
  cpuMs: number
  changes: number
  status: number
}

interface Measurement {
  dialect: Dialect
  at: string
  load: number
  activities: number
  downloadMs: number
  workbookMb: number
  uploads: Upload[]
}

const EDITOR = { sub: 'bench-editor', role: 'editor' as const, ws: WS }

async function timedImport(db: Database, bytes: Buffer, what: string): Promise<Upload> {
  const started = process.hrtime.bigint()
  const cpu = process.cpuUsage()
  const { status, report } = await importWorkbook(db, EDITOR, bytes, false)
  const ms = Math.round(Number(process.hrtime.bigint() - started) / 1e6)
  const used = process.cpuUsage(cpu)
  const cpuMs = Math.round((used.user + used.system) / 1000)
  if (status !== 200) throw new Error(`${what}: ${status} ${JSON.stringify(firstProblems(report))}`)
  return { what, ms, cpuMs, changes: report.changes.length, status }
}

const firstProblems = (r: WorkbookReport): unknown => ({ errors: r.errors.slice(0, 3), conflicts: r.conflicts.slice(0, 3) })

/** The workbook with every activity's description changed. */
async function withDescriptionsChanged(bytes: Buffer): Promise<Buffer> {
  const book = new ExcelJS.Workbook()
  await book.xlsx.load(bytes as unknown as ArrayBuffer)
  const sheet = book.getWorksheet('Behandlingar')!
  const column = (sheet.getRow(1).values as unknown[]).indexOf('Beskrivning')
  sheet.eachRow((row, n) => { if (n > 1) row.getCell(column).value = `Ändrad i kalkylbladet, rad ${n}` })
  return Buffer.from(await book.xlsx.writeBuffer())
}

/** The workbook with a copy of every activity as a new row (no id), its list rows too, named apart. */
async function withActivitiesCopied(bytes: Buffer): Promise<Buffer> {
  const book = new ExcelJS.Workbook()
  await book.xlsx.load(bytes as unknown as ArrayBuffer)
  const activities = book.getWorksheet('Behandlingar')!
  const nameColumn = (activities.getRow(1).values as unknown[]).indexOf('Namn')
  const copy = (sheet: ExcelJS.Worksheet, nameAt: number): void => {
    const rows: unknown[][] = []
    sheet.eachRow((row, n) => { if (n > 1) rows.push((row.values as unknown[]).slice(1)) })
    for (const values of rows) {
      values[0] = null
      values[1] = null
      values[nameAt - 1] = `${values[nameAt - 1]} (kopia)`
      sheet.addRow(values)
    }
  }
  copy(activities, nameColumn)
  for (const name of ['Behandlingarnas ändamål', 'Behandlingarnas överföringar', 'Behandlingarnas gallring']) copy(book.getWorksheet(name)!, 3)
  return Buffer.from(await book.xlsx.writeBuffer())
}

async function measure(dialect: Dialect): Promise<Measurement> {
  const scratch = await scratchDatabase(dialect)
  try {
    await generate(scratch.url, ACTIVITIES)
    await buildViews(scratch.url)
    const ds = createDataSource({ databaseUrl: scratch.url })
    await ds.initialize()
    try {
      const db = new Database(ds, dialectOf(scratch.url))
      const load = Math.round(loadavg()[0] * 10) / 10
      const started = process.hrtime.bigint()
      const bytes = await buildWorkbook(db, WS, 'sv')
      const downloadMs = Math.round(Number(process.hrtime.bigint() - started) / 1e6)
      const uploads: Upload[] = []
      uploads.push(await timedImport(db, bytes, 'unchanged'))
      const changed = await withDescriptionsChanged(bytes)
      uploads.push(await timedImport(db, changed, `${ACTIVITIES} descriptions changed`))
      // the copies are made of the workbook as it is now (the versions moved on with the changes)
      const copied = await withActivitiesCopied(await buildWorkbook(db, WS, 'sv'))
      uploads.push(await timedImport(db, copied, `${ACTIVITIES} new activities with their lists`))
      const m: Measurement = {
        dialect, at: new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC', load, activities: ACTIVITIES, downloadMs, workbookMb: mb(bytes.length), uploads,
      }
      console.log(JSON.stringify(m))
      return m
    } finally {
      await ds.destroy()
    }
  } finally {
    await scratch.drop()
  }
}

function report(results: Measurement[]): string {
  const lines = [
    '# Editable workbook: download and bring back (issue 23)',
    '',
    'Written by `node dist/bench/workbook.js` (bench/workbook.ts). A register of the bench\'s shape (bench/register.ts) with',
    `${ACTIVITIES} activities; each upload timed from the .xlsx bytes to the committed transaction (read, compare every row,`,
    'validate, write with history), through the service as the route calls it. Target: a workbook of 1,000 activities imports in under 10 s.',
    '',
    `Machine: ${machine()}`,
    '',
    '| database | measured | load (1 min) | download | workbook | upload | changes | time | CPU of the process | target (time < 10 s) |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ]
  for (const r of results) {
    for (const u of r.uploads) {
      lines.push(`| ${r.dialect} | ${r.at} | ${r.load} | ${r.downloadMs} ms | ${r.workbookMb} MB | ${u.what} | ${u.changes} | ${u.ms} ms | ${u.cpuMs} ms | ${u.ms < TARGET_MS ? 'met' : 'MISSED'} |`)
    }
  }
  lines.push(
    '',
    'The time is the wall-clock time on the machine as it was (its load average beside it: 2 cores). "CPU of the process"',
    'is what this process itself spent meanwhile, SQLite\'s work included (better-sqlite3 runs in the process) but not',
    'PostgreSQL\'s: on a loaded machine the process waits for a core most of the time, so the wall-clock time grows with the',
    'load while the CPU time does not. On a quiet machine the SQLite upload takes about its CPU time.',
  )
  return lines.join('\n') + '\n'
}

async function main(): Promise<void> {
  const dialects = process.argv.slice(2).filter((a) => a === 'sqlite' || a === 'postgres') as Dialect[]
  const results: Measurement[] = []
  for (const dialect of dialects.length ? dialects : ['sqlite', 'postgres'] as Dialect[]) results.push(await measure(dialect))
  writeFileSync(RESULTS, report(results))
  console.log(`written ${RESULTS}`)
}

if (require.main === module) main().catch((err) => { console.error(err); process.exit(1) })
