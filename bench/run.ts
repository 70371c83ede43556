import 'reflect-metadata'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import { join } from 'node:path'
import { Dialect } from '../src/db/data-source'
import { baselineQuery, benchExport, cliBaseline, CliBaseline, ExportMeasurement } from './export'
import { benchImport, ImportMeasurement } from './import'
import { AsOfMeasurement, asOfReport, benchAsOf } from './asof'
import { benchReads, CONNECTIONS, DuringImportMeasurement, IMPORTED_DURING_READS, ReadMeasurement } from './reads'
import { buildViews, generate, LINKS, machine, ratio, scratchDatabase } from './register'
import { benchHostile, writeHostile } from './hostile'

/**
 * The benchmarks of issue 9 on SQLite and on PostgreSQL, each database a scratch one of its own,
 * results in bench/RESULTS.md (see bench/README.md):
 *
 *   npm run bench                                   every part, both databases
 *   npm run bench -- --db sqlite                    one database
 *   npm run bench -- --db postgres --only reads     one part (several: --only reads,export)
 *   BENCH_DURATION=10 npm run bench                 seconds per autocannon run (default 5)
 *   npm run bench -- --report                       RESULTS.md again from results.json and NOTES.md
 *
 * Each part's figures are kept in bench/results.json by database, with their baselines from the
 * same run; a run of some parts replaces those and leaves the others, and RESULTS.md is written
 * from all of them (each row says when it was measured).
 */

const ACTIVITIES = Number(process.env.BENCH_ACTIVITIES ?? 10_000)
/** The export's memory is measured again on a register this large (in a workspace of its own). */
const LARGE = Number(process.env.BENCH_LARGE_ACTIVITIES ?? 50_000)
const LARGE_WS = 'bench-large'
const RESULTS = join(__dirname, '..', '..', 'bench', 'RESULTS.md')
const RESULTS_JSON = join(__dirname, '..', '..', 'bench', 'results.json')
const RESULTS_ASOF = join(__dirname, '..', '..', 'bench', 'RESULTS-asof.md')
/** The hand-written part of RESULTS.md (what changed, before and after), kept above the figures. */
const NOTES = join(__dirname, '..', '..', 'bench', 'NOTES.md')

export const PARTS = ['reads', 'during-import', 'export', 'export-large', 'import', 'hostile', 'asof'] as const
export type Part = typeof PARTS[number]

/** One part's figures on one database, as measured in one run. */
interface Measured<T> {
  at: string
  /** The machine's load average (1 min) when the part began: a busy machine shows in every baseline. */
  load: number
  /** The Node.js that ran it (figures before 2026-12-06 were taken on 20, no longer a supported line). */
  node?: string
  data: T
}

interface Results {
  machine?: string
  sqlite?: DatabaseResults
  postgres?: DatabaseResults
}

interface DatabaseResults {
  reads?: Measured<ReadMeasurement[]>
  'during-import'?: Measured<DuringImportMeasurement & { quietP99: number | null }>
  export?: Measured<{ activities: number; cli: CliBaseline; exports: ExportMeasurement[] }>
  'export-large'?: Measured<{ activities: number; exports: ExportMeasurement[] }>
  import?: Measured<{ importing: ImportMeasurement; generateMs: number; activities: number }>
  /** Issue 19: asOf and version exports beside the live one (bench/asof.ts, its own RESULTS-asof.md). */
  asof?: Measured<AsOfMeasurement[]> & { activities?: number }
}

async function measured<T>(dialect: Dialect, part: Part, fn: () => Promise<T> | T): Promise<Measured<T>> {
  const load = Math.round(loadavg()[0] * 10) / 10
  const started = Date.now()
  const data = await fn()
  console.log(dialect, part, `${Math.round((Date.now() - started) / 1000)} s`, JSON.stringify(data))
  return { at: new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC', load, node: process.versions.node, data }
}

async function runOn(dialect: Dialect, parts: Set<Part>, into: DatabaseResults): Promise<void> {
  const scratch = await scratchDatabase(dialect)
  try {
    const t0 = Date.now()
    await generate(scratch.url, ACTIVITIES)
    const generateMs = Date.now() - t0
    console.log(dialect, `generated ${ACTIVITIES} activities in ${generateMs} ms`)
    const t1 = Date.now()
    await buildViews(scratch.url)
    console.log(dialect, `built their stored views in ${Date.now() - t1} ms`)
    if (parts.has('reads')) into.reads = await measured(dialect, 'reads', async () => (await benchReads(scratch, { reads: true, duringImport: false })).reads)
    if (parts.has('export')) {
      into.export = await measured(dialect, 'export', () => ({ activities: ACTIVITIES, cli: cliBaseline(scratch), exports: benchExport(scratch, undefined, ACTIVITIES) }))
    }
    // it adds a history and a version, which no other part reads
    if (parts.has('asof')) into.asof = { ...await measured(dialect, 'asof', () => benchAsOf(scratch)), activities: ACTIVITIES }
    if (parts.has('import')) into.import = await measured(dialect, 'import', async () => ({ importing: await benchImport(scratch), generateMs, activities: ACTIVITIES }))
    // after the others: it adds activities to the register they read
    if (parts.has('during-import')) {
      const quietP99 = into.reads?.data[0]?.app.p99 ?? null
      into['during-import'] = await measured(dialect, 'during-import', async () => ({ ...(await benchReads(scratch, { reads: false, duringImport: true })).duringImport!, quietP99 }))
    }
    // issue 19: its own register in a workspace of its own, its figures in bench/RESULTS-hostile.md
    if (parts.has('hostile')) writeHostile(await benchHostile(scratch))
    if (parts.has('export-large')) {
      into['export-large'] = await measured(dialect, 'export-large', async () => {
        const t2 = Date.now()
        await generate(scratch.url, LARGE, LARGE_WS)
        await buildViews(scratch.url, LARGE_WS)
        console.log(dialect, `generated ${LARGE} activities with their stored views in ${Date.now() - t2} ms`)
        return { activities: LARGE, exports: benchExport(scratch, LARGE_WS, LARGE) }
      })
    }
  } finally {
    await scratch.drop()
  }
}

const s = (ms: number): string => (ms / 1000).toFixed(2)

/** The baseline's query as run on SQLite (PostgreSQL's differs only in string_agg … ORDER BY for group_concat). */
export function baselineQueryText(): string[] {
  return ['The baseline query on SQLite (PostgreSQL: the same with `string_agg(…, \'; \' ORDER BY position)` for each list):', '', '```sql', baselineQuery('sqlite'), '```']
}
const met = (ok: boolean): string => (ok ? 'met' : '**missed**')

const DIALECTS: Dialect[] = ['sqlite', 'postgres']

/** RSS an export added over the idle process (MB). */
const rssAdded = (e: ExportMeasurement): number => Math.round((e.peakRssMb - e.baselineRssMb) * 10) / 10

function report(results: Results): string {
  const lines: string[] = []
  if (existsSync(NOTES)) lines.push(readFileSync(NOTES, 'utf8').trimEnd(), '')
  const each = <K extends keyof DatabaseResults>(part: K): [Dialect, NonNullable<DatabaseResults[K]>][] =>
    DIALECTS.flatMap((d) => (results[d]?.[part] ? [[d, results[d]![part]!] as [Dialect, NonNullable<DatabaseResults[K]>]] : []))
  const when = (m: Measured<unknown>): string => `${m.at}, load ${m.load}${m.node ? `, Node.js ${m.node}` : ''}`
  lines.push(
    '## Figures',
    '',
    `Written by \`npm run bench\` (bench/run.ts) on ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC from bench/results.json: each part as last measured`,
    `(the column "measured" says when, the machine's 1-minute load average then, and the Node.js that ran it). Machine: ${results.machine ?? machine()}.`,
    'SQLite: better-sqlite3, WAL, a temporary file. PostgreSQL: the local server, a scratch database created and dropped per run.',
    `Register: ${ACTIVITIES} processing activities, each linked to one joint controller, ${LINKS} purposes (one legal basis each), ${LINKS} data subject`,
    `categories, ${LINKS} data categories, ${LINKS} recipients, ${LINKS} processors, ${LINKS} security measures, one transfer and two retention rules.`,
    'Every figure stands beside its baseline from the same run of its part; ratios are against that baseline.',
    '',
    '### Summary: each target of issue 9',
    '',
    '| target | database | figure | baseline | ratio / limit | result | measured |',
    '|---|---|---|---|---|---|---|',
  )
  for (const [d, m] of each('reads')) {
    for (const r of m.data) {
      const share = r.app.rps / r.bare.rps
      lines.push(`| ${r.name}: ≥ 0.5 of the bare route | ${d} | ${r.app.rps} req/s | ${r.bare.rps} req/s | ${share.toFixed(2)} | ${met(share >= 0.5)} | ${when(m)} |`)
      if (r.path.includes('?')) lines.push(`| ${r.name}: p99 ≤ 3 × the bare route's | ${d} | ${r.app.p99} ms | ${r.bare.p99} ms | ${(r.app.p99 / Math.max(1, r.bare.p99)).toFixed(1)}× | ${met(r.app.p99 <= 3 * r.bare.p99)} | ${when(m)} |`)
      lines.push(`| ${r.name}: 0 errors or timeouts (${CONNECTIONS} connections) | ${d} | ${r.app.errors + r.app.non2xx} | ${r.bare.errors + r.bare.non2xx} (bare route) | – | ${met(r.app.errors + r.app.non2xx === 0)} | ${when(m)} |`)
    }
  }
  for (const [d, m] of each('during-import')) {
    const x = m.data
    lines.push(`| Reads during a ${x.activities}-activity import: p99 ≤ 500 ms, none failed | ${d} | p99 ${x.p99} ms, ${x.failed} failed of ${x.requests + x.failed} | quiet p99 ${x.quietP99 ?? '–'} ms | ≤ 500 ms | ${met(x.p99 <= 500 && x.failed === 0)} | ${when(m)} |`)
  }
  for (const [d, m] of each('export')) {
    for (const e of m.data.exports) {
      const r = e.ms / m.data.cli.ms
      const limit = e.format === 'json' ? 1 : 2
      lines.push(`| Export of ${m.data.activities} activities, ${e.format.toUpperCase()}: ≤ ${limit.toFixed(1)} × the CLI | ${d} | ${s(e.ms)} s | ${s(m.data.cli.ms)} s | ${r.toFixed(2)}x | ${met(r <= limit)} | ${when(m)} |`)
    }
  }
  for (const part of ['export', 'export-large'] as const) {
    for (const [d, m] of each(part)) {
      for (const e of m.data.exports) {
        lines.push(`| Export of ${m.data.activities} activities, ${e.format.toUpperCase()}: RSS added ≤ 64 MB | ${d} | ${rssAdded(e)} MB | idle ${e.baselineRssMb} MB | ≤ 64 MB | ${met(rssAdded(e) <= 64)} | ${when(m)} |`)
      }
    }
  }
  for (const [d, m] of each('import')) {
    const i = m.data.importing
    lines.push(`| Import of ${i.activities} activities under 10 s | ${d} | ${s(i.ms)} s | bulk insert ${s(m.data.generateMs)} s | ${ratio(i.ms, m.data.generateMs)} | ${met(i.ms < 10_000)} | ${when(m)} |`)
  }
  lines.push(
    '',
    `### Reads (autocannon, ${CONNECTIONS} connections, ${process.env.BENCH_DURATION ?? 5} s after a 2 s warm-up, 127.0.0.1)`,
    '',
    'Baseline: a bare Fastify route (no plugins, no auth, no database) answering the same payload, captured from the app in the same run.',
    '',
    '| database | request | payload (bytes) | app req/s | baseline req/s | app / baseline | target ≥ 0.5 | app p99 (ms) | baseline p99 (ms) | p99 target ≤ 3 × baseline (list) | errors | measured |',
    '|---|---|---:|---:|---:|---:|---|---:|---:|---|---:|---|',
  )
  for (const [d, m] of each('reads')) {
    for (const r of m.data) {
      const share = r.app.rps / r.bare.rps
      const p99 = r.path.includes('?') ? `${(r.app.p99 / Math.max(1, r.bare.p99)).toFixed(1)}× ${met(r.app.p99 <= 3 * r.bare.p99)}` : '–'
      lines.push(`| ${d} | ${r.name} | ${r.bytes} | ${r.app.rps} | ${r.bare.rps} | ${share.toFixed(2)} | ${met(share >= 0.5)} | ${r.app.p99} | ${r.bare.p99} | ${p99} | ${r.app.errors + r.app.non2xx} | ${when(m)} |`)
    }
  }
  lines.push(
    '',
    `### Reads during an import (GET one activity, autocannon, ${CONNECTIONS} connections, while POST /api/v1/register/import adds ${IMPORTED_DURING_READS} activities)`,
    '',
    'Baseline: the same GET on the quiet server (its p99 in the reads part of the same run).',
    '',
    '| database | import (s) | reads answered | p50 (ms) | p99 (ms) | max (ms) | quiet p99 (ms) | target p99 ≤ 500 ms | failed | measured |',
    '|---|---:|---:|---:|---:|---:|---:|---|---:|---|',
  )
  for (const [d, m] of each('during-import')) {
    const x = m.data
    lines.push(`| ${d} | ${s(x.importMs)} | ${x.requests} | ${x.p50} | ${x.p99} | ${x.max} | ${x.quietP99 ?? '–'} | ${met(x.p99 <= 500 && x.failed === 0)} | ${x.failed} | ${when(m)} |`)
  }
  lines.push(
    '',
    '### Export (HTTP download on 127.0.0.1: the server in a child process, the client in a process of its own)',
    '',
    'Baseline: the database\'s command-line tool writing the equivalent CSV with one query (`baselineQuery` in bench/export.ts: one row per activity,',
    'the same 29 columns, each list built with group_concat / string_agg over its link table), timed in the same run: `sqlite3 -csv` on SQLite,',
    '`psql -c "COPY (…) TO STDOUT CSV"` on PostgreSQL. Memory: the server process\'s RSS sampled every 5 ms during the download, its maxRSS',
    `before the export (start-up and a warm-up export) and its maxRSS over its whole life. The ${LARGE}-activity register is generated in a`,
    'workspace of its own in the same database (memory only: the CLI baseline is timed on the first).',
    '',
    '| database | activities | format | app (s) | baseline (s) | app / baseline | target (JSON ≤ 1.0x, CSV ≤ 2.0x) | size (MB) | RSS before (MB) | maxRSS before the export (MB) | peak RSS during export (MB) | peak heap (MB) | maxRSS of process (MB) | RSS added by the export (MB) | target ≤ 64 MB | measured |',
    '|---|---:|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---|---|',
  )
  for (const part of ['export', 'export-large'] as const) {
    for (const [d, m] of each(part)) {
      const cli = 'cli' in m.data ? (m.data as { cli: CliBaseline }).cli : null
      for (const e of m.data.exports) {
        const r = cli ? e.ms / cli.ms : null
        const timed = r === null ? '– | – | –' : `${s(cli!.ms)} | ${r.toFixed(2)}x | ${met(r <= (e.format === 'json' ? 1 : 2))}`
        lines.push(`| ${d} | ${m.data.activities} | ${e.format} | ${s(e.ms)} | ${timed} | ${(e.bytes / 1048576).toFixed(1)} | ${e.baselineRssMb} | ${e.startupMaxRssMb} | ${e.peakRssMb} | ${e.peakHeapMb} | ${e.maxRssMb} | ${rssAdded(e)} | ${met(rssAdded(e) <= 64)} | ${when(m)} |`)
      }
    }
  }
  const clis = each('export')
  if (clis.length) lines.push('', 'Baseline output: ' + clis.map(([d, m]) => `${d}: ${m.data.cli.tool}, ${(m.data.cli.bytes / 1048576).toFixed(1)} MB, ${m.data.cli.rows} lines`).join('; ') + '.')
  lines.push('', ...baselineQueryText())
  lines.push(
    '',
    `### Import (${ACTIVITIES} activities and what they refer to, one transaction)`,
    '',
    'The JSON export of the register imported into an empty workspace of the same database, through the service as the route does (without',
    'the HTTP transfer of the document). Baseline: generating the same register by bulk insert (prepared statements on SQLite, multi-row',
    'INSERTs on PostgreSQL, no validation, no history, no stored views) in the same run.',
    '',
    '| database | activities | records created | document (MB) | import (s) | bulk-insert baseline (s) | import / baseline | target < 10 s | maxRSS (MB) | measured |',
    '|---|---:|---:|---:|---:|---:|---:|---|---:|---|',
  )
  for (const [d, m] of each('import')) {
    const i = m.data.importing
    lines.push(`| ${d} | ${i.activities} | ${i.created} | ${i.documentMb} | ${s(i.ms)} | ${s(m.data.generateMs)} | ${ratio(i.ms, m.data.generateMs)} | ${met(i.ms < 10_000)} | ${i.maxRssMb} | ${when(m)} |`)
  }
  lines.push('')
  return lines.join('\n')
}

/** `--db sqlite|postgres` (or a bare `sqlite` / `postgres`), `--only part[,part]`. */
function parseArgs(argv: string[]): { dialects: Dialect[]; parts: Set<Part> } {
  const dialects: Dialect[] = []
  const parts = new Set<Part>()
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    const value = (): string => {
      const v = argv[++i]
      if (v === undefined) throw new Error(`${arg} needs a value`)
      return v
    }
    const [flag, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined]
    if (flag === '--db') {
      for (const d of (inline ?? value()).split(',')) {
        if (d !== 'sqlite' && d !== 'postgres') throw new Error(`--db: sqlite or postgres, not ${d}`)
        dialects.push(d)
      }
    } else if (flag === '--only') {
      for (const p of (inline ?? value()).split(',')) {
        if (!(PARTS as readonly string[]).includes(p)) throw new Error(`--only: one or more of ${PARTS.join(', ')}, not ${p}`)
        parts.add(p as Part)
      }
    } else if (arg === 'sqlite' || arg === 'postgres') {
      dialects.push(arg)
    } else {
      throw new Error(`unknown argument ${arg}; use --db sqlite|postgres and --only ${PARTS.join(',')}`)
    }
  }
  return { dialects: dialects.length ? dialects : DIALECTS, parts: parts.size ? parts : new Set(PARTS) }
}

async function main(): Promise<void> {
  const results: Results = existsSync(RESULTS_JSON) ? JSON.parse(readFileSync(RESULTS_JSON, 'utf8')) : {}
  if (process.argv.includes('--report')) {
    // RESULTS.md again from results.json and NOTES.md, measuring nothing (after editing the notes)
    writeFileSync(RESULTS, report(results))
    console.log(`written ${RESULTS}`)
    return
  }
  const { dialects, parts } = parseArgs(process.argv.slice(2))
  results.machine = machine()
  const started = Date.now()
  for (const dialect of dialects) {
    results[dialect] ??= {}
    await runOn(dialect, parts, results[dialect]!)
    // kept after each database, so that a failure later loses nothing measured
    writeFileSync(RESULTS_JSON, JSON.stringify(results, null, 2) + '\n')
  }
  writeFileSync(RESULTS, report(results))
  if (parts.has('asof')) writeFileSync(RESULTS_ASOF, asOfReport(Object.fromEntries(DIALECTS.flatMap((d) => (results[d]?.asof ? [[d, { ...results[d]!.asof!, activities: results[d]!.asof!.activities ?? ACTIVITIES }]] : [])))))
  console.log(`written ${RESULTS} and ${RESULTS_JSON} (${Math.round((Date.now() - started) / 1000)} s)`)
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err)
    process.exit(1)
  })
}
