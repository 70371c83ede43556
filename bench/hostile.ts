import 'reflect-metadata'
import { ChildProcess, spawn } from 'node:child_process'
import { appendFileSync, existsSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import { loadavg } from 'node:os'
import { join } from 'node:path'
import { once } from 'node:events'
import { Client } from 'pg'
import { Dialect, READ_POOL_NAME, WRITE_POOL_NAME } from '../src/db/data-source'
import { benchToken, buildViews, generate, machine, scratchDatabase, Scratch, serve } from './register'
import { SERVICE_NODE_FLAGS } from '../src/cli/node-flags'

/**
 * Hostile readers (issue 19): a register of ACTIVITIES activities; SLOW clients download its CSV
 * export at 2 KB/s and STALLED more open it and stop reading, while a mixed load (GET one, a list
 * page, a PATCH) runs for DURATION_S. Baseline: the same mixed load on the quiet server, just before.
 * The server runs in a child process, as in production; the clients in this one, on 127.0.0.1.
 *
 *   npm run build && node dist/bench/hostile.js [sqlite] [postgres]    (or npm run bench -- --only hostile)
 */

const ACTIVITIES = Number(process.env.BENCH_HOSTILE_ACTIVITIES ?? 5000)
const WS = 'bench-hostile'
const SLOW = 20
const STALLED = 20
const SLOW_BYTES_PER_SECOND = 2048
const DURATION_S = Number(process.env.BENCH_HOSTILE_DURATION ?? 30)
const QUIET_S = Number(process.env.BENCH_HOSTILE_QUIET ?? 10)
/** Mixed-load clients, each one request after another. */
const MIXED_CLIENTS = 8
/** A mixed-load request not answered within this counts as a timeout. */
const TIMEOUT_MS = 10_000
const RESULTS = join(__dirname, '..', '..', 'bench', 'RESULTS-hostile.md')

export interface HostileMeasurement {
  dialect: Dialect
  activities: number
  quiet: LoadFigures
  hostile: LoadFigures
  ready: { polls: number; not200: number; maxMs: number }
  exports: { slow: Record<string, number>; stalled: Record<string, number>; slowBytes: number }
  connections: { max: number; limit: number; what: string }
  load: number
}

interface LoadFigures {
  requests: number
  p50: number
  p99: number
  max: number
  timeouts: number
  status5xx: number
  other: number
  /** Answers other than 200 by request kind and status ("get 503": …), timeouts as status 0. */
  failures: Record<string, number>
}

function request(port: number, method: string, path: string, token: string, body?: string): Promise<{ status: number; ms: number }> {
  const started = performance.now()
  return new Promise((resolve) => {
    const req = http.request({ host: '127.0.0.1', port, path, method, headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) } }, (res) => {
      res.resume()
      res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - started }))
    })
    req.setTimeout(TIMEOUT_MS, () => req.destroy(new Error('timeout')))
    req.on('error', () => resolve({ status: 0, ms: performance.now() - started }))
    req.end(body)
  })
}

const percentile = (sorted: number[], p: number): number => (sorted.length ? Math.round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] * 10) / 10 : 0)

/** GET one, a list page and a PATCH, in turn, from MIXED_CLIENTS clients, for `seconds`. */
async function mixedLoad(port: number, ids: string[], seconds: number): Promise<LoadFigures> {
  const reader = await benchToken('reader', WS, 'mixed-reader')
  const editor = await benchToken('editor', WS, 'mixed-editor')
  const until = Date.now() + seconds * 1000
  const latencies: number[] = []
  let timeouts = 0
  let status5xx = 0
  let other = 0
  const failures: Record<string, number> = {}
  let n = 0
  await Promise.all(Array.from({ length: MIXED_CLIENTS }, async (_, client) => {
    while (Date.now() < until) {
      const id = ids[(n++ * 7919 + client) % ids.length]
      const kind = n % 3
      const r = kind === 0 ? await request(port, 'GET', `/api/v1/processing-activities/${id}`, reader)
        : kind === 1 ? await request(port, 'GET', `/api/v1/processing-activities?limit=50&offset=${(n * 50) % ids.length}`, reader)
          : await request(port, 'PATCH', `/api/v1/processing-activities/${id}`, editor, JSON.stringify({ description: `Changed under load ${n}` }))
      latencies.push(r.ms)
      if (r.status !== 200) failures[`${['get', 'list', 'patch'][kind]} ${r.status}`] = (failures[`${['get', 'list', 'patch'][kind]} ${r.status}`] ?? 0) + 1
      if (r.status === 0) timeouts++
      else if (r.status >= 500) status5xx++
      else if (r.status !== 200) other++
    }
  }))
  latencies.sort((a, b) => a - b)
  return { requests: latencies.length, p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: percentile(latencies, 100), timeouts, status5xx, other, failures }
}

/** The hostile clients: SLOW reading at 2 KB/s, STALLED reading nothing after the headers. */
function hostileClients(port: number, token: string): { statuses: () => { slow: Record<string, number>; stalled: Record<string, number>; slowBytes: number }; stop: () => void } {
  const slow: string[] = []
  const stalled: string[] = []
  let slowBytes = 0
  const requests: http.ClientRequest[] = []
  const timers: NodeJS.Timeout[] = []
  for (let i = 0; i < SLOW + STALLED; i++) {
    const isSlow = i < SLOW
    const list = isSlow ? slow : stalled
    const index = list.push('pending') - 1
    const req = http.get({ host: '127.0.0.1', port, path: '/api/v1/register/export?format=csv', headers: { authorization: `Bearer ${token}` }, agent: false }, (res) => {
      list[index] = String(res.statusCode)
      res.pause()
      res.on('error', () => undefined)
      res.on('close', () => { if (list[index] === '200') list[index] = res.complete ? '200 complete' : '200 closed' })
      if (!isSlow) return
      // 2 KB/s: a chunk, then a pause as long as the chunk takes at that rate
      res.on('data', (chunk: Buffer) => {
        slowBytes += chunk.length
        res.pause()
        timers.push(setTimeout(() => res.resume(), (chunk.length / SLOW_BYTES_PER_SECOND) * 1000))
      })
      res.resume()
    })
    req.on('error', () => { if (list[index] === 'pending') list[index] = 'error' })
    requests.push(req)
  }
  const count = (list: string[]): Record<string, number> => list.reduce((c, s) => ({ ...c, [s]: (c[s] ?? 0) + 1 }), {} as Record<string, number>)
  return {
    statuses: () => ({ slow: count(slow), stalled: count(stalled), slowBytes }),
    stop: () => {
      for (const t of timers) clearTimeout(t)
      for (const r of requests) r.destroy()
    },
  }
}

/** Database connections of the server: PostgreSQL sessions of its pools, or SQLite file descriptors of its process. */
async function connectionsInUse(scratch: Scratch, pid: number): Promise<number> {
  if (scratch.dialect === 'postgres') {
    const client = new Client({ connectionString: scratch.url })
    await client.connect()
    try {
      const { rows } = await client.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = ANY($1) AND state <> 'idle'", [[READ_POOL_NAME, WRITE_POOL_NAME]])
      return rows[0].n
    } finally {
      await client.end()
    }
  }
  let n = 0
  const file = scratch.file!
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      if (readlinkSync(`/proc/${pid}/fd/${fd}`) === file) n++
    } catch {
      // closed meanwhile
    }
  }
  return n
}

async function startServer(url: string): Promise<{ port: number; child: ChildProcess }> {
  const child = spawn(process.execPath, [...SERVICE_NODE_FLAGS, __filename, '--serve', url], { stdio: ['ignore', 'pipe', 'inherit'] })
  const [line] = await once(child.stdout!, 'data') as [Buffer]
  return { port: Number(String(line).trim()), child }
}

/** The benchmark on a scratch database (a workspace of its own is generated in it). */
export async function benchHostile(scratch: Scratch): Promise<HostileMeasurement> {
  await generate(scratch.url, ACTIVITIES, WS)
  await buildViews(scratch.url, WS)
  const { port, child } = await startServer(scratch.url)
  try {
    const reader = await benchToken('reader', WS)
    const ids: string[] = []
    for (let offset = 0; offset < ACTIVITIES; offset += 500) {
      const page = await new Promise<{ items: { id: string }[] }>((resolve, reject) => {
        http.get({ host: '127.0.0.1', port, path: `/api/v1/processing-activities?limit=500&offset=${offset}`, headers: { authorization: `Bearer ${reader}` } }, (res) => {
          let body = ''
          res.on('data', (c) => (body += c))
          res.on('end', () => resolve(JSON.parse(body)))
        }).on('error', reject)
      })
      ids.push(...page.items.map((i) => i.id))
    }
    await mixedLoad(port, ids, 2) // warm-up
    const quiet = await mixedLoad(port, ids, QUIET_S)

    const load = Math.round(loadavg()[0] * 10) / 10
    const hostile = hostileClients(port, await benchToken('reader', WS, 'shell-loop'))
    const ready = { polls: 0, not200: 0, maxMs: 0 }
    let maxConnections = 0
    let sampling = true
    const sampler = (async () => {
      while (sampling) {
        const r = await request(port, 'GET', '/ready', reader)
        ready.polls++
        if (r.status !== 200) ready.not200++
        ready.maxMs = Math.max(ready.maxMs, Math.round(r.ms))
        maxConnections = Math.max(maxConnections, await connectionsInUse(scratch, child.pid!).catch(() => 0))
        await new Promise((resolve) => setTimeout(resolve, 500))
      }
    })()
    const during = await mixedLoad(port, ids, DURATION_S)
    sampling = false
    await sampler
    const exports = hostile.statuses()
    hostile.stop()
    return {
      dialect: scratch.dialect,
      activities: ACTIVITIES,
      quiet,
      hostile: during,
      ready,
      exports,
      connections: scratch.dialect === 'postgres'
        ? { max: maxConnections, limit: 14, what: 'PostgreSQL sessions of the server not idle (read pool 10 + write pool 4)' }
        : { max: maxConnections, limit: 8, what: 'SQLite connections the server holds open (writer, single statements, 4 short reads, 2 on one snapshot)' },
      load,
    }
  } finally {
    child.kill('SIGTERM')
    await once(child, 'exit')
  }
}

const counts = (c: Record<string, number>): string => Object.entries(c).map(([k, v]) => `${v} × ${k}`).join(', ')

/** Appends one run's figures to bench/RESULTS-hostile.md. */
export function writeHostile(m: HostileMeasurement): void {
  if (!existsSync(RESULTS)) {
    writeFileSync(RESULTS, [
      '# Hostile readers (issue 19)',
      '',
      `Written by bench/hostile.ts, one section per run. A register of ${ACTIVITIES} activities; ${SLOW} clients download the CSV export at`,
      `2 KB/s and ${STALLED} more open it and read nothing, while ${MIXED_CLIENTS} clients run a mixed load (GET one activity, a list page of 50,`,
      `a PATCH, in turn) for ${DURATION_S} s. Baseline: the same mixed load on the quiet server just before (${QUIET_S} s). Server in a child`,
      'process with the default limits, clients in the bench process, all on 127.0.0.1. The machine is shared (2 cores, several',
      'engineers building and testing at once): its load average is given, and figures vary from run to run.',
      '',
      '',
    ].join('\n'))
  }
  const ratio = m.hostile.p99 / Math.max(1, m.quiet.p99)
  const met = (ok: boolean): string => (ok ? 'met' : '**missed**')
  appendFileSync(RESULTS, [
    '',
    `## ${m.dialect}, ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, load ${m.load}`,
    '',
    `Machine: ${machine()}.`,
    '',
    '| figure | quiet | with 40 hostile readers | target | result |',
    '|---|---:|---:|---|---|',
    `| mixed load p99 (ms) | ${m.quiet.p99} | ${m.hostile.p99} (${ratio.toFixed(2)}×) | ≤ 3 × quiet | ${met(ratio <= 3)} |`,
    `| mixed load p50 / max (ms) | ${m.quiet.p50} / ${m.quiet.max} | ${m.hostile.p50} / ${m.hostile.max} | – | – |`,
    `| requests answered | ${m.quiet.requests} | ${m.hostile.requests} | – | – |`,
    `| timeouts (${TIMEOUT_MS / 1000} s) | ${m.quiet.timeouts} | ${m.hostile.timeouts} | 0 | ${met(m.hostile.timeouts === 0)} |`,
    `| 5xx | ${m.quiet.status5xx} | ${m.hostile.status5xx} | 0 | ${met(m.hostile.status5xx === 0)} |`,
    `| other non-200 | ${m.quiet.other} | ${m.hostile.other} | – | – |`,
    `| /ready polls not 200 (every 0.5 s) | – | ${m.ready.not200} of ${m.ready.polls}, slowest ${m.ready.maxMs} ms | 0 | ${met(m.ready.not200 === 0)} |`,
    `| database connections in use, most seen | – | ${m.connections.max} | ≤ ${m.connections.limit} (${m.connections.what}) | ${met(m.connections.max <= m.connections.limit)} |`,
    '',
    `Mixed-load answers other than 200 by kind and status (0: no answer within ${TIMEOUT_MS / 1000} s): quiet ${counts(m.quiet.failures) || 'none'}; with hostile readers ${counts(m.hostile.failures) || 'none'}.`,
    '',
    `The hostile downloads: slow ${counts(m.exports.slow)} (${m.exports.slowBytes} bytes read in all); stalled ${counts(m.exports.stalled)}.`,
    '',
  ].join('\n'))
}

async function main(): Promise<void> {
  const dialects = process.argv.slice(2).filter((a): a is Dialect => a === 'sqlite' || a === 'postgres')
  for (const dialect of dialects.length ? dialects : ['sqlite', 'postgres'] as Dialect[]) {
    const scratch = await scratchDatabase(dialect)
    try {
      const m = await benchHostile(scratch)
      console.log(JSON.stringify(m))
      writeHostile(m)
    } finally {
      await scratch.drop()
    }
  }
}

if (require.main === module) {
  if (process.argv[2] === '--serve') {
    serve(process.argv[3], WS).then((served) => {
      process.once('SIGTERM', () => void served.close().then(() => process.exit(0)))
      process.stdout.write(`${served.port}\n`)
    }, (err) => {
      console.error(err)
      process.exit(1)
    })
  } else {
    main().catch((err) => {
      console.error(err)
      process.exit(1)
    })
  }
}
