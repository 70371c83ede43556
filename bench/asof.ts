import 'reflect-metadata'
import { execFile, execFileSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { createDataSource, Dialect } from '../src/db/data-source'
import { placeholders } from '../src/db/sql'
import { RESOURCES } from '../src/register/records/model'
import { buildViews, generate, machine, mb, runChild, Scratch, scratchDatabase, serve, WS } from './register'
import { SERVICE_NODE_FLAGS } from '../src/cli/node-flags'

/**
 * Issue 19: the register as of a moment and a frozen version's files, exported from a register of
 * 10,000 activities with a history, beside the live export of the same register in the same run.
 * Each export is served by a child process of its own that watches its event loop
 * (perf_hooks.monitorEventLoopDelay: the longest delay is the longest time the loop was held) and
 * samples its memory, while a client process of its own downloads it (bench/export.ts --download).
 *
 *   npm run bench -- --only asof                 both databases, with the others' figures kept
 *   npm run build && node dist/bench/asof.js     this part alone (sqlite postgres: both, the default)
 *   BENCH_ASOF_FORMATS=csv,json                  some formats only (default csv,json,xlsx)
 *
 * Targets: the longest delay ≤ 100 ms, time ≤ 2 × the live export of the same format, RSS added ≤ 64 MB.
 * Results in bench/RESULTS-asof.md.
 */

const RESULTS = join(__dirname, '..', '..', 'bench', 'RESULTS-asof.md')
const EXPORT_SCRIPT = join(__dirname, 'export.js')

/** Every record is created at CREATED; a fifth of the activities change at CHANGED; the moment is between. */
const CREATED = '2026-01-01T00:00:00.000Z'
const MOMENT = '2026-03-01T00:00:00.000Z'
const CHANGED = '2026-06-01T00:00:00.000Z'

export interface AsOfMeasurement {
  /** What was exported: live, asOf, version (first: rendered; stored: served as stored). */
  name: string
  format: string
  ms: number
  bytes: number
  /** The longest event-loop delay while the export was served (p100), and the 99th percentile. */
  delayMaxMs: number
  delayP99Ms: number
  rssAddedMb: number
  /** CPU time of the server process while it served the export: on a shared machine steadier than `ms`. */
  cpuMs: number
  /** The live export of the same format, in the same run: the baseline of `ms` and `cpuMs`. */
  baselineMs?: number
  baselineCpuMs?: number
}

/**
 * The history a register of bulk-inserted rows would have: a create entry per record, its state
 * the stored view (as the write path records it), and later an update of every fifth activity,
 * renamed, after the moment the asOf export is taken at.
 */
export async function writeHistory(url: string, ws = WS): Promise<void> {
  const ds = createDataSource({ databaseUrl: url })
  await ds.initialize()
  try {
    const dialect = ds.options.type === 'postgres' ? 'postgres' : 'sqlite'
    await ds.transaction(async (m) => {
      for (const def of RESOURCES) {
        const table = ds.getMetadata(def.entity).tableName
        await m.query(placeholders(dialect, `INSERT INTO "history" (workspace_id, record_type, record_id, version, operation, actor, at, state)
          SELECT workspace_id, ?, id, version, 'create', 'bench', ?, resolved_view FROM "${table}" WHERE workspace_id = ? ORDER BY id`), [def.type, CREATED, ws])
      }
      const activities: { id: string; view: string }[] = await m.query(placeholders(dialect,
        'SELECT id, resolved_view AS view FROM "processing_activities" WHERE workspace_id = ? ORDER BY id'), [ws])
      const changed = activities.filter((_, i) => i % 5 === 0)
      for (let i = 0; i < changed.length; i += 200) {
        const part = changed.slice(i, i + 200)
        const values = part.map(() => '(?, ?, ?, ?, ?, ?, ?, ?)').join(', ')
        await m.query(placeholders(dialect, `INSERT INTO "history" (workspace_id, record_type, record_id, version, operation, actor, at, state) VALUES ${values}`),
          part.flatMap((a) => {
            const view = JSON.parse(a.view)
            return [ws, 'processing-activity', a.id, view.version + 1, 'update', 'bench', CHANGED, JSON.stringify({ ...view, name: `Ändrad ${view.name}`, version: view.version + 1 })]
          }))
      }
    })
    if (dialect === 'postgres') await ds.query('VACUUM ANALYZE "history"')
  } finally {
    await ds.destroy()
  }
}

/** In a child: the register's version 1, proposed through the API as an editor would. */
async function propose(url: string): Promise<{ number: number }> {
  const served = await serve(url)
  try {
    const res = await fetch(`http://127.0.0.1:${served.port}/api/v1/register/versions`, {
      method: 'POST', headers: { authorization: `Bearer ${await served.token('editor')}`, 'content-type': 'application/json' }, body: JSON.stringify({ note: 'bench' }),
    })
    if (res.status !== 201) throw new Error(`proposing a version: ${res.status} ${await res.text()}`)
    return { number: (await res.json() as { number: number }).number }
  } finally {
    await served.close()
  }
}

interface Download {
  bytes: number
  newlines: number
  ms: number
}

/** In a child: serve the app, warm it up, then serve one export while watching the event loop and memory. */
async function measure(url: string, name: string, format: string, query: string, warmUp: string): Promise<AsOfMeasurement> {
  const served = await serve(url)
  const token = await served.token()
  const get = (q: string): Promise<Download> => new Promise((resolve, reject) => {
    execFile(process.execPath, [EXPORT_SCRIPT, '--download', String(served.port), `/api/v1/register/export?${q}`, token], { encoding: 'utf8', maxBuffer: 1 << 20 },
      (err, stdout) => (err ? reject(err) : resolve(JSON.parse(stdout) as Download)))
  })
  await get(warmUp)
  global.gc?.()
  const baseline = process.memoryUsage().rss
  let peak = baseline
  const sampler = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss) }, 5)
  const delay = monitorEventLoopDelay({ resolution: 5 })
  delay.enable()
  const cpu = process.cpuUsage()
  const { bytes, ms } = await get(query)
  const used = process.cpuUsage(cpu)
  delay.disable()
  clearInterval(sampler)
  await served.close()
  return {
    name, format, ms: Math.round(ms), bytes, delayMaxMs: Math.round(delay.max / 1e5) / 10, delayP99Ms: Math.round(delay.percentile(99) / 1e5) / 10,
    rssAddedMb: mb(peak - baseline), cpuMs: Math.round((used.user + used.system) / 1000),
  }
}

function child(url: string, name: string, format: string, query: string, warmUp: string): AsOfMeasurement {
  const out = execFileSync(process.execPath, ['--expose-gc', ...SERVICE_NODE_FLAGS, __filename, '--child', url, name, format, query, warmUp], { encoding: 'utf8', maxBuffer: 1 << 20 })
  return JSON.parse(out) as AsOfMeasurement
}

/**
 * The exports of issue 19 on a generated register (bench/register.ts: generate and buildViews done):
 * its history written, a version proposed, then each export measured in a server process of its own.
 */
export async function benchAsOf(scratch: Scratch): Promise<AsOfMeasurement[]> {
  const t0 = Date.now()
  await writeHistory(scratch.url)
  const { number } = JSON.parse(execFileSync(process.execPath, [__filename, '--propose', scratch.url], { encoding: 'utf8', maxBuffer: 1 << 20 }))
  console.log(scratch.dialect, `asof: history written and version ${number} proposed in ${Date.now() - t0} ms`)
  const asOf = `asOf=${encodeURIComponent(MOMENT)}`
  const out: AsOfMeasurement[] = []
  for (const format of (process.env.BENCH_ASOF_FORMATS ?? 'csv,json,xlsx').split(',')) {
    const live = child(scratch.url, 'live', format, `format=${format}`, 'format=json&status=retired')
    out.push(live)
    out.push({ ...child(scratch.url, 'asOf', format, `format=${format}&${asOf}`, `format=json&status=retired&${asOf}`), baselineMs: live.ms, baselineCpuMs: live.cpuMs })
    if (format !== 'json') {
      // first download: rendered from the frozen document and stored; then served as stored
      const warm = `format=csv&status=retired&version=${number}`
      out.push({ ...child(scratch.url, 'version, first download (rendered)', format, `format=${format}&version=${number}`, warm), baselineMs: live.ms, baselineCpuMs: live.cpuMs })
      out.push({ ...child(scratch.url, 'version, stored', format, `format=${format}&version=${number}`, warm), baselineMs: live.ms, baselineCpuMs: live.cpuMs })
    } else {
      out.push({ ...child(scratch.url, 'version (the frozen document)', format, `format=json&version=${number}`, 'format=json&status=retired'), baselineMs: live.ms, baselineCpuMs: live.cpuMs })
    }
    for (const m of out.slice(-3)) console.log(scratch.dialect, 'asof', JSON.stringify(m))
  }
  return out
}

const met = (ok: boolean): string => (ok ? 'met' : '**missed**')

/** bench/RESULTS-asof.md from the measurements by database. */
export function asOfReport(results: Partial<Record<Dialect, { at: string; load: number; activities: number; data: AsOfMeasurement[] }>>, machineName = machine()): string {
  const lines = [
    '# The register as of a moment and a version\'s files: export benchmark (issue 19)',
    '',
    'Written by `bench/asof.ts` (`npm run bench -- --only asof`). A generated register (bench/register.ts) with a history: a create',
    'entry per record, and an update of every fifth activity (renamed) after the moment the asOf export is taken at; version 1',
    'proposed through the API. Each export is served by a process of its own, downloaded by a client process of its own. The',
    'longest event-loop delay (`monitorEventLoopDelay`, p100) is the longest time the server could answer no one else; RSS added',
    'is the peak over the warmed-up process. Time is compared with the live export of the same format in the same run.',
    `Machine: ${machineName}; shared with other work while measured (the load average says how much), so single figures are noisy.`,
    '',
    '| database | export | format | time | live export | ratio (≤ 2) | CPU time | live CPU | CPU ratio | longest delay (≤ 100 ms) | delay p99 | RSS added (≤ 64 MB) | result | measured |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ]
  for (const [dialect, m] of Object.entries(results)) {
    if (!m) continue
    for (const e of m.data) {
      const ratio = e.baselineMs ? e.ms / e.baselineMs : null
      const ok = e.name === 'live' ? null : (ratio === null || ratio <= 2) && e.delayMaxMs <= 100 && e.rssAddedMb <= 64
      lines.push(`| ${dialect} | ${e.name} | ${e.format} | ${(e.ms / 1000).toFixed(2)} s | ${e.baselineMs ? `${(e.baselineMs / 1000).toFixed(2)} s` : ''} | ${ratio === null ? '' : `${ratio.toFixed(2)}×`} | ${(e.cpuMs / 1000).toFixed(2)} s | ${e.baselineCpuMs ? `${(e.baselineCpuMs / 1000).toFixed(2)} s` : ''} | ${e.baselineCpuMs ? `${(e.cpuMs / e.baselineCpuMs).toFixed(2)}×` : ''} | ${e.delayMaxMs} ms | ${e.delayP99Ms} ms | ${e.rssAddedMb} MB | ${ok === null ? 'baseline' : met(ok)} | ${m.at}, load ${m.load}, ${m.activities} activities |`)
    }
  }
  return lines.join('\n') + '\n'
}

/** This part alone: a scratch database per dialect, a register of BENCH_ACTIVITIES (10,000). */
async function main(): Promise<void> {
  const activities = Number(process.env.BENCH_ACTIVITIES ?? 10_000)
  const dialects = (process.argv.slice(2).filter((a) => a === 'sqlite' || a === 'postgres') as Dialect[])
  const results: Partial<Record<Dialect, { at: string; load: number; activities: number; data: AsOfMeasurement[] }>> = {}
  for (const dialect of dialects.length ? dialects : ['sqlite', 'postgres'] as Dialect[]) {
    const scratch = await scratchDatabase(dialect)
    try {
      await generate(scratch.url, activities)
      await buildViews(scratch.url)
      const load = Math.round((await import('node:os')).loadavg()[0] * 10) / 10
      results[dialect] = { at: new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC', load, activities, data: await benchAsOf(scratch) }
    } finally {
      await scratch.drop()
    }
  }
  writeFileSync(RESULTS, asOfReport(results))
  console.log(`written ${RESULTS}`)
}

if (require.main === module && process.argv[2] === '--child') runChild(() => measure(process.argv[3], process.argv[4], process.argv[5], process.argv[6], process.argv[7]))
else if (require.main === module && process.argv[2] === '--propose') runChild(() => propose(process.argv[3]))
else if (require.main === module) main().catch((err) => { console.error(err); process.exit(1) })
