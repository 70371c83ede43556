import 'reflect-metadata'
import { execFileSync } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Fastify from 'fastify'
import jwt from 'jsonwebtoken'
import app, { fastifyOptions } from '../src/app'
import { loadConfig } from '../src/config'
import { createDataSource } from '../src/db/data-source'
import { BUILT_IN_LEGAL_BASES, catalogueId } from '../src/register/catalogue'

/**
 * Export benchmark: a register of 10,000 and 50,000 processing activities (each linked to about
 * four entries of each kind), generated straight into SQLite, exported as CSV and JSON over HTTP.
 * Each export runs in a child process of its own, which samples its memory while the response
 * streams through a real socket. Results go to bench/RESULTS-export.md.
 *
 *   npm run bench:export             (10,000 and 50,000)
 *   npm run bench:export -- 2000     (other sizes)
 */

const WS = 'bench'
const SECRET = 'bench-secret-that-is-long-enough-0123456789'
const LINKS = 4

async function generate(file: string, activities: number): Promise<void> {
  const ds = createDataSource({ databaseUrl: `sqlite:${file}` })
  await ds.initialize()
  await ds.runMigrations()
  const db = (ds.driver as any).databaseConnection as { prepare(sql: string): { run(...values: unknown[]): unknown }; transaction(fn: () => void): () => void }
  const at = new Date().toISOString()
  const insert = (table: string, row: Record<string, unknown>) => {
    const cols = Object.keys(row)
    return db.prepare(`INSERT INTO ${table} (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`)
  }
  const records = (table: string, n: number, make: (i: number) => Record<string, unknown>): string[] => {
    const ids: string[] = []
    let stmt: any
    for (let i = 0; i < n; i++) {
      const row = { workspace_id: WS, id: randomUUID(), created_at: at, updated_at: at, version: 1, ...make(i) }
      stmt ??= insert(table, row)
      stmt.run(Object.values(row))
      ids.push(row.id as string)
    }
    return ids
  }
  const rows = new Map<string, any>()
  const child = (table: string, row: Record<string, unknown>) => {
    if (!rows.has(table)) rows.set(table, insert(table, row))
    rows.get(table).run(Object.values(row))
  }
  const pick = (ids: string[], i: number, k: number) => ids[(i * 7 + k * 13) % ids.length]
  db.transaction(() => {
    for (const b of BUILT_IN_LEGAL_BASES) {
      db.prepare('INSERT INTO legal_bases (workspace_id, id, created_at, updated_at, version, code, kind, article_reference, name, name_sv, description, url, built_in) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)')
        .run(WS, catalogueId(b.code), at, at, 1, b.code, b.kind, b.articleReference, b.name, b.nameSv, b.description, b.url, 1)
    }
  })()
  db.transaction(() => {
    const controllers = records('controllers', 20, (i) => ({ name: `Personuppgiftsansvarig ${i} AB`, organisation_number: `556000-${String(i).padStart(4, '0')}`, email: `info${i}@example.se`, address: `Storgatan ${i}, Östersund`, dpo_name: `Dataskyddsombud ${i}`, dpo_email: `dso${i}@example.se` }))
    const processors = records('processors', 100, (i) => ({ name: `Biträde ${i} AB`, country: i % 5 ? 'SE' : 'US', service: 'Drift', dpa_signed_at: '2025-01-01', dpa_reference: `DPA-${i}` }))
    const purposes = records('purposes', 200, (i) => ({ name: `Ändamål ${i}`, description: 'Beskrivning av ändamålet' }))
    const subjects = records('data_subject_categories', 200, (i) => ({ name: `Registrerade ${i}` }))
    const categories = records('data_categories', 200, (i) => ({ name: `Personuppgifter ${i}`, classification: i % 10 ? 'ordinary' : 'special', special_category: i % 10 ? null : 'health' }))
    const recipients = records('recipients', 100, (i) => ({ name: `Mottagare ${i}`, country: i % 4 ? null : 'US' }))
    const rules = records('retention_rules', 50, (i) => ({ name: `Gallring ${i}`, period: i % 10 ? `P${i + 1}M` : null, trigger: 'efter senaste besök', legal_reference: 'Bokföringslagen 7 kap. 2 §' }))
    const measures = records('security_measures', 50, (i) => ({ name: `Säkerhetsåtgärd ${i}`, type: i % 2 ? 'technical' : 'organisational', category: 'access-control' }))
    const bases = ['A6-1-a', 'A6-1-b', 'A6-1-c', 'A6-1-f', 'A9-2-h', 'SE-BFL-7-2'].map(catalogueId)
    const ids = records('processing_activities', activities, (i) => ({
      name: `Behandling ${i}`, description: 'En behandling av personuppgifter med en beskrivning av rimlig längd, som i ett verkligt register.',
      role: 'controller', controller_id: controllers[i % controllers.length], data_sources: JSON.stringify(['Den registrerade']),
      systems: JSON.stringify(['Affärssystem', 'E-post']), dpia_required: 0, dpia_status: 'not-required', dpia_reference: null,
      automated_decision_making: 0, automated_decision_making_description: null, status: 'active', owner: 'Kundtjänst',
      last_reviewed_at: '2026-01-15', next_review_at: '2027-01-15',
    }))
    ids.forEach((owner, i) => {
      const base = { workspace_id: WS, owner_id: owner }
      child('activity_joint_controllers', { ...base, position: 0, controller_id: pick(controllers.filter((c) => c !== controllers[i % controllers.length]), i, 0) })
      for (let k = 0; k < LINKS; k++) {
        child('activity_purposes', { ...base, position: k, purpose_id: pick(purposes, i, k), legitimate_interest: null, lia_reference: null })
        child('activity_purpose_legal_bases', { ...base, parent_position: k, position: 0, legal_basis_id: pick(bases, i, k) })
        child('activity_data_subject_categories', { ...base, position: k, data_subject_category_id: pick(subjects, i, k) })
        child('activity_data_categories', { ...base, position: k, data_category_id: pick(categories, i, k) })
        child('activity_recipients', { ...base, position: k, recipient_id: pick(recipients, i, k) })
        child('activity_processors', { ...base, position: k, processor_id: pick(processors, i, k) })
        child('activity_security_measures', { ...base, position: k, security_measure_id: pick(measures, i, k) })
      }
      child('activity_transfers', { ...base, position: 0, country: 'US', recipient_id: null, processor_id: pick(processors, i, 0), mechanism: 'A46-2-c', safeguards: 'Kryptering', documentation: null })
      child('activity_retention', { ...base, position: 0, retention_rule_id: pick(rules, i, 0) })
      child('activity_retention', { ...base, position: 1, retention_rule_id: pick(rules, i, 1) })
      child('activity_retention_data_categories', { ...base, parent_position: 1, position: 0, data_category_id: pick(categories, i, 0) })
    })
  })()
  await ds.destroy()
}

interface Measurement {
  format: string
  ms: number
  bytes: number
  rows: number
  baselineRssMb: number
  peakRssMb: number
  baselineHeapMb: number
  peakHeapMb: number
  maxRssMb: number
}

const mb = (n: number): number => Math.round((n / 1048576) * 10) / 10

/** In the child: serve the app on 127.0.0.1, download one export, sampling memory meanwhile. */
async function measure(file: string, format: string): Promise<Measurement> {
  const config = loadConfig({ NODE_ENV: 'test', DATABASE_URL: `sqlite:${file}`, JWT_SECRET: SECRET, LOG_LEVEL: 'warn' })
  const instance = Fastify(fastifyOptions(config))
  await instance.register(app, { config })
  await instance.listen({ host: '127.0.0.1', port: 0 })
  const { port } = instance.server.address() as AddressInfo
  const token = jwt.sign({ role: 'reader', ws: WS }, SECRET, { algorithm: 'HS256', subject: 'bench', expiresIn: '1h' })
  const get = (query: string) => new Promise<{ bytes: number; newlines: number }>((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: `/api/v1/register/export?${query}`, headers: { authorization: `Bearer ${token}` } }, (res) => {
      if (res.statusCode !== 200) reject(new Error(`status ${res.statusCode}`))
      let bytes = 0
      let newlines = 0
      res.on('data', (c: Buffer) => {
        bytes += c.length
        for (const b of c) if (b === 10) newlines++
      })
      res.on('end', () => resolve({ bytes, newlines }))
      res.on('error', reject)
    }).on('error', reject)
  })
  await get('format=json&status=retired') // warm up: catalogue, compiled queries
  global.gc?.()
  const baseline = process.memoryUsage()
  let peakRss = baseline.rss
  let peakHeap = baseline.heapUsed
  const sampler = setInterval(() => {
    const m = process.memoryUsage()
    peakRss = Math.max(peakRss, m.rss)
    peakHeap = Math.max(peakHeap, m.heapUsed)
  }, 5)
  const started = process.hrtime.bigint()
  const { bytes, newlines } = await get(`format=${format}`)
  const ms = Number(process.hrtime.bigint() - started) / 1e6
  clearInterval(sampler)
  await instance.close()
  return {
    format, ms: Math.round(ms), bytes, rows: newlines,
    baselineRssMb: mb(baseline.rss), peakRssMb: mb(peakRss), baselineHeapMb: mb(baseline.heapUsed), peakHeapMb: mb(peakHeap),
    maxRssMb: mb(process.resourceUsage().maxRSS * 1024),
  }
}

async function main(): Promise<void> {
  if (process.argv[2] === '--child') {
    process.stdout.write(JSON.stringify(await measure(process.argv[3], process.argv[4])))
    return
  }
  const sizes = process.argv.slice(2).map(Number).filter((n) => n > 0)
  const runs: { size: number; generateMs: number; results: Measurement[] }[] = []
  for (const size of sizes.length ? sizes : [10_000, 50_000]) {
    const dir = mkdtempSync(join(tmpdir(), 'ropa-bench-'))
    try {
      const file = join(dir, 'register.sqlite')
      const t0 = Date.now()
      await generate(file, size)
      const generateMs = Date.now() - t0
      const results: Measurement[] = []
      for (const format of ['csv', 'json']) {
        const out = execFileSync(process.execPath, ['--expose-gc', __filename, '--child', file, format], { encoding: 'utf8', maxBuffer: 1 << 20 })
        results.push(JSON.parse(out))
        console.log(size, JSON.stringify(results[results.length - 1]))
      }
      runs.push({ size, generateMs, results })
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }
  writeFileSync(join(__dirname, '..', '..', 'bench', 'RESULTS-export.md'), report(runs))
}

function report(runs: { size: number; generateMs: number; results: Measurement[] }[]): string {
  const lines = [
    '# Export benchmark',
    '',
    `Generated by \`npm run bench:export\` on ${new Date().toISOString().slice(0, 10)}: Node ${process.version}, ${process.platform}/${process.arch}, SQLite (better-sqlite3, WAL), one workspace.`,
    `Each activity links to one joint controller, ${LINKS} purposes (one legal basis each), ${LINKS} data subject categories, ${LINKS} data categories,`,
    `${LINKS} recipients, ${LINKS} processors, ${LINKS} security measures, one transfer and two retention rules. Each export runs in a child process`,
    'and is downloaded over a socket on 127.0.0.1; memory is sampled every 5 ms during the download (after one warm-up export and a GC).',
    '',
    '| activities | format | time (s) | size (MB) | lines | RSS before (MB) | peak RSS (MB) | heap before (MB) | peak heap (MB) | maxRSS of process (MB) |',
    '|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ]
  for (const run of runs) {
    for (const r of run.results) {
      lines.push(`| ${run.size} | ${r.format} | ${(r.ms / 1000).toFixed(1)} | ${mb(r.bytes)} | ${r.rows} | ${r.baselineRssMb} | ${r.peakRssMb} | ${r.baselineHeapMb} | ${r.peakHeapMb} | ${r.maxRssMb} |`)
    }
  }
  const small = runs[0]
  const large = runs[runs.length - 1]
  if (runs.length > 1) {
    lines.push('', `Memory ratio ${large.size / 1000}k / ${small.size / 1000}k (target ≤ 1.5):`, '')
    for (const format of ['csv', 'json']) {
      const a = small.results.find((r) => r.format === format)!
      const b = large.results.find((r) => r.format === format)!
      lines.push(`- ${format}: peak RSS ${(b.peakRssMb / a.peakRssMb).toFixed(2)}x, peak heap ${(b.peakHeapMb / a.peakHeapMb).toFixed(2)}x, growth over the baseline RSS ${(b.peakRssMb - b.baselineRssMb).toFixed(1)} MB vs ${(a.peakRssMb - a.baselineRssMb).toFixed(1)} MB`)
    }
  }
  lines.push('', `Generating the registers (bulk inserts): ${runs.map((r) => `${r.size}: ${(r.generateMs / 1000).toFixed(1)} s`).join(', ')}.`, '')
  return lines.join('\n')
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
