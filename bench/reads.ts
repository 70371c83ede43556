import 'reflect-metadata'
import { ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { once } from 'node:events'
import Fastify from 'fastify'
import { randomUUID } from 'node:crypto'
import { EXPORT_FORMAT, EXPORT_FORMAT_VERSION, SECTIONS } from '../src/register/exchange/export-document'
import { benchToken, Scratch, serve, WS } from './register'
import { SERVICE_NODE_FLAGS } from '../src/cli/node-flags'

/**
 * Read benchmark: autocannon on 127.0.0.1 against a fully resolved GET of one processing activity
 * and a 50-item list page, and against a bare Fastify route serving the same payloads (captured
 * from the app in the same run) as the baseline. Each server runs in a child process of its own;
 * autocannon runs in this one.
 */

// autocannon ships no types; what is used of it here
interface CannonResult {
  requests: { average: number; total: number }; latency: { p50: number; p99: number; max: number }; errors: number; timeouts: number; non2xx: number
}
const autocannon: (options: Record<string, unknown>) => Promise<CannonResult> & { stop(): void } = require('autocannon')

export const CONNECTIONS = 50
const DURATION_S = Number(process.env.BENCH_DURATION ?? 5)

export interface ReadMeasurement {
  name: string
  path: string
  bytes: number
  app: { rps: number; p50: number; p99: number; errors: number; non2xx: number }
  bare: { rps: number; p50: number; p99: number; errors: number; non2xx: number }
}

/** A server in a child process: the app on the register, or the bare route over captured payloads. */
async function startChild(args: string[]): Promise<{ port: number; child: ChildProcess }> {
  const profile = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : []
  const child = spawn(process.execPath, [...SERVICE_NODE_FLAGS, ...profile, __filename, '--serve', ...args], { stdio: ['ignore', 'pipe', 'inherit'] })
  const [line] = await once(child.stdout!, 'data') as [Buffer]
  return { port: Number(String(line).trim()), child }
}

async function stopChild(child: ChildProcess): Promise<void> {
  const exited = once(child, 'exit')
  child.kill('SIGTERM')
  await exited
}

function get(port: number, path: string, token: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path, headers: { authorization: `Bearer ${token}` } }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => (body += c))
      res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`${path}: status ${res.statusCode} ${body}`))))
    }).on('error', reject)
  })
}

async function cannon(port: number, path: string, token: string): Promise<ReadMeasurement['app']> {
  const options = { url: `http://127.0.0.1:${port}${path}`, connections: CONNECTIONS, headers: { authorization: `Bearer ${token}` } }
  await autocannon({ ...options, duration: 2 }) // warm up: JIT, statement caches
  const r = await autocannon({ ...options, duration: DURATION_S })
  return { rps: Math.round(r.requests.average), p50: r.latency.p50, p99: r.latency.p99, errors: r.errors + r.timeouts, non2xx: r.non2xx }
}

/** GET one activity while a 3,000-activity import runs in the same server. */
export interface DuringImportMeasurement {
  activities: number
  importMs: number
  requests: number
  p50: number
  p99: number
  max: number
  failed: number
}

export const IMPORTED_DURING_READS = 3000

/**
 * Reads during an import: autocannon on GET one activity for as long as an import of 3,000 new
 * activities (clones of a list page's activities, under new ids, referring to the records already
 * in the workspace) runs through POST /api/v1/register/import.
 */
async function readsDuringImport(port: number, path: string, token: string, page: { items: Record<string, unknown>[] }): Promise<DuringImportMeasurement> {
  const editor = await benchToken('editor', WS, 'bench-import')
  const doc = {
    format: EXPORT_FORMAT, formatVersion: EXPORT_FORMAT_VERSION, generatedAt: new Date().toISOString(), workspace: WS, record: 'controller',
    filters: { controllerId: null, status: null, asOf: null },
    ...Object.fromEntries(SECTIONS.map((section) => [section.key, []])),
    processingActivities: Array.from({ length: IMPORTED_DURING_READS }, (_, i) => ({ ...page.items[i % page.items.length], id: randomUUID(), name: `Importerad behandling ${i}` })),
  }
  const body = JSON.stringify(doc)
  const started = Date.now()
  const reads = autocannon({ url: `http://127.0.0.1:${port}${path}`, connections: CONNECTIONS, headers: { authorization: `Bearer ${token}` }, duration: 600 })
  const importMs = await fetch(`http://127.0.0.1:${port}/api/v1/register/import`, {
    method: 'POST', headers: { authorization: `Bearer ${editor}`, 'content-type': 'application/json' }, body,
  }).then(async (res) => {
    if (!res.ok) throw new Error(`import answered ${res.status}: ${(await res.text()).slice(0, 500)}`)
    return Date.now() - started
  })
  reads.stop()
  const r = await reads
  return { activities: IMPORTED_DURING_READS, importMs, requests: r.requests.total, p50: r.latency.p50, p99: r.latency.p99, max: r.latency.max, failed: r.errors + r.timeouts + r.non2xx }
}

/**
 * `reads`: GET one and a list page, against the bare route; `duringImport`: GET one while an
 * import runs (it adds IMPORTED_DURING_READS activities to the register: run it last).
 */
export async function benchReads(scratch: Scratch, parts: { reads: boolean; duringImport: boolean }): Promise<{ reads: ReadMeasurement[]; duringImport: DuringImportMeasurement | null }> {
  const token = await benchToken('reader')
  const dir = mkdtempSync(join(tmpdir(), 'ropa-bench-reads-'))
  try {
    const app = await startChild(['app', scratch.url])
    let paths: { name: string; path: string }[]
    const payloads: Record<string, string> = {}
    const results: ReadMeasurement[] = []
    let duringImport: DuringImportMeasurement | null = null
    try {
      const page = JSON.parse(await get(app.port, '/api/v1/processing-activities?limit=50', token))
      paths = [
        { name: 'GET one processing activity', path: `/api/v1/processing-activities/${page.items[0].id}` },
        { name: 'GET a list page of 50', path: '/api/v1/processing-activities?limit=50' },
      ]
      for (const { path } of paths) payloads[path] = await get(app.port, path, token)
      for (const { name, path } of parts.reads ? paths : []) {
        results.push({ name, path, bytes: Buffer.byteLength(payloads[path]), app: await cannon(app.port, path, token), bare: null as never })
      }
      // last: it adds activities to the register the other benchmarks read
      if (parts.duringImport) duringImport = await readsDuringImport(app.port, paths[0].path, token, page)
    } finally {
      await stopChild(app.child)
    }
    const file = join(dir, 'payloads.json')
    writeFileSync(file, JSON.stringify(payloads))
    if (!results.length) return { reads: results, duringImport }
    const bare = await startChild(['bare', file])
    try {
      for (const r of results) r.bare = await cannon(bare.port, r.path, token)
    } finally {
      await stopChild(bare.child)
    }
    return { reads: results, duringImport }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** In the child: serve, print the port, close on SIGTERM. */
async function child(kind: string, arg: string): Promise<void> {
  let close: () => Promise<void>
  let port: number
  if (kind === 'app') {
    const served = await serve(arg)
    port = served.port
    close = served.close
  } else {
    // the baseline: Fastify with one route answering each captured payload as an object, serialised per request
    const payloads = JSON.parse(readFileSync(arg, 'utf8')) as Record<string, string>
    const objects = new Map(Object.entries(payloads).map(([path, body]) => [path, JSON.parse(body)]))
    const bare = Fastify()
    bare.get('/*', async (request) => objects.get(request.url))
    await bare.listen({ host: '127.0.0.1', port: 0 })
    port = (bare.server.address() as AddressInfo).port
    close = () => bare.close()
  }
  process.once('SIGTERM', () => void close().then(() => process.exit(0)))
  process.stdout.write(`${port}\n`)
}

if (require.main === module && process.argv[2] === '--serve') {
  child(process.argv[3], process.argv[4]).catch((err) => {
    console.error(err)
    process.exit(1)
  })
}
