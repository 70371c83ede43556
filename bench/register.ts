import 'reflect-metadata'
import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto'
import { fillLookupColumns } from '../migrations/lookup-columns'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { AddressInfo } from 'node:net'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import Fastify, { FastifyInstance } from 'fastify'
import { Client } from 'pg'
import app, { fastifyOptions } from '../src/app'
import { loadConfig } from '../src/config'
import { createDataSource, Dialect, dialectOf } from '../src/db/data-source'
import { BUILT_IN_LEGAL_BASES, catalogueId } from '../src/register/records/catalogue'
import { openWorkspace } from '../src/register/records/workspaces'
import { rebuildAllViews } from '../src/register/records/stored-views'
import { signToken } from '../test/tokens'

/**
 * What every benchmark shares: a scratch database per run (a temporary SQLite file, or a database
 * of its own on the local PostgreSQL server), a register generated straight into it by bulk
 * insert, and the app served on 127.0.0.1.
 */

export const WS = 'bench'
export const SECRET = 'bench-secret-that-is-long-enough-0123456789'
export const LINKS = 4
export const POSTGRES_URL = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'

export interface Scratch {
  url: string
  dialect: Dialect
  /** The SQLite file, for the sqlite3 command-line baseline. */
  file?: string
  /** The PostgreSQL connection string of the scratch database, for psql. */
  drop(): Promise<void>
}

export async function scratchDatabase(dialect: Dialect): Promise<Scratch> {
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'ropa-bench-'))
    const file = join(dir, 'register.sqlite')
    return { url: `sqlite:${file}`, dialect, file, drop: async () => rmSync(dir, { recursive: true, force: true }) }
  }
  const name = `ropa_bench_${randomBytes(6).toString('hex')}`
  const admin = new Client({ connectionString: POSTGRES_URL })
  await admin.connect()
  await admin.query(`CREATE DATABASE ${name}`)
  await admin.end()
  const url = new URL(POSTGRES_URL)
  url.pathname = `/${name}`
  return {
    url: url.toString(),
    dialect,
    drop: async () => {
      const c = new Client({ connectionString: POSTGRES_URL })
      await c.connect()
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      await c.end()
    },
  }
}

type Values = Record<string, unknown>

/** Rows go in by prepared statement (SQLite) or multi-row INSERTs of a few hundred (PostgreSQL). */
interface Sink {
  add(table: string, row: Values): void
  flush(): Promise<void>
}

function sqliteSink(db: any): Sink {
  const statements = new Map<string, any>()
  return {
    add(table, row) {
      if (!statements.has(table)) {
        const cols = Object.keys(row)
        statements.set(table, db.prepare(`INSERT INTO ${table} (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`))
      }
      statements.get(table).run(Object.values(row).map((v) => (typeof v === 'boolean' ? Number(v) : v)))
    },
    flush: async () => undefined,
  }
}

function postgresSink(client: Client): Sink {
  const pending = new Map<string, Values[]>()
  // one statement at a time on the connection, sent while the next ones are being generated
  let queue: Promise<unknown> = Promise.resolve()
  const send = (table: string, rows: Values[]): void => {
    const cols = Object.keys(rows[0])
    const params: unknown[] = []
    const tuples = rows.map((r) => `(${cols.map((c) => { params.push(r[c]); return `$${params.length}` }).join(', ')})`)
    queue = queue.then(() => client.query(`INSERT INTO ${table} (${cols.join(', ')}) VALUES ${tuples.join(', ')}`, params))
  }
  return {
    add(table, row) {
      if (!pending.has(table)) pending.set(table, [])
      const rows = pending.get(table)!
      rows.push(row)
      if (rows.length >= 500) {
        send(table, rows)
        pending.set(table, [])
      }
    },
    async flush() {
      // parents before children: the foreign keys check each statement
      for (const [table, rows] of pending) if (rows.length) send(table, rows)
      pending.clear()
      await queue
    },
  }
}

/**
 * A register of `activities` processing activities in workspace `ws`, each linked to about four
 * entries of each kind: one joint controller, LINKS purposes (one legal basis each), LINKS data
 * subject categories, data categories, recipients, processors and security measures, one transfer
 * and two retention rules. Migrations are run first.
 */
export async function generate(url: string, activities: number, ws = WS): Promise<void> {
  const ds = createDataSource({ databaseUrl: url })
  await ds.initialize()
  await ds.runMigrations()
  await ds.destroy()
  const at = new Date().toISOString()
  let sink: Sink
  let finish: () => Promise<void>
  let sqlite: any = null
  let pg: Client | null = null
  if (dialectOf(url) === 'sqlite') {
    const Sqlite = require('better-sqlite3')
    sqlite = new Sqlite(url.slice('sqlite:'.length))
    sqlite.pragma('journal_mode = WAL')
    sqlite.exec('BEGIN')
    sink = sqliteSink(sqlite)
    finish = async () => {
      sqlite.exec('COMMIT')
      sqlite.close()
    }
  } else {
    pg = new Client({ connectionString: url })
    await pg.connect()
    await pg.query('BEGIN')
    sink = postgresSink(pg)
    finish = async () => {
      await pg!.query('COMMIT')
      // the statistics autovacuum would gather on a server in use; without them the planner takes
      // the freshly filled tables for empty ones and scans them
      await pg!.query('ANALYZE')
      await pg!.end()
    }
  }
  for (const b of BUILT_IN_LEGAL_BASES) {
    sink.add('legal_bases', {
      workspace_id: ws, id: catalogueId(b.code), created_at: at, updated_at: at, version: 1, code: b.code, kind: b.kind,
      article_reference: b.articleReference, name: b.name, name_sv: b.nameSv, description: b.description, url: b.url, built_in: true,
    })
  }
  const records = (table: string, n: number, make: (i: number) => Values): string[] => {
    const ids: string[] = []
    for (let i = 0; i < n; i++) {
      const row = { workspace_id: ws, id: randomUUID(), created_at: at, updated_at: at, version: 1, ...make(i) }
      sink.add(table, row)
      ids.push(row.id)
    }
    return ids
  }
  const pick = (ids: string[], i: number, k: number): string => ids[(i * 7 + k * 13) % ids.length]
  const controllers = records('controllers', 20, (i) => ({ name: `Personuppgiftsansvarig ${i} AB`, organisation_number: `556000-${String(i).padStart(4, '0')}`, email: `info${i}@example.se`, address: `Storgatan ${i}, Östersund`, dpo_name: `Dataskyddsombud ${i}`, dpo_email: `dso${i}@example.se` }))
  const processors = records('processors', 100, (i) => ({ name: `Biträde ${i} AB`, country: i % 5 ? 'SE' : 'US', service: 'Drift', dpa_signed_at: '2025-01-01', dpa_reference: `DPA-${i}` }))
  const purposes = records('purposes', 200, (i) => ({ name: `Ändamål ${i}`, description: 'Beskrivning av ändamålet' }))
  const subjects = records('data_subject_categories', 200, (i) => ({ name: `Registrerade ${i}` }))
  const categories = records('data_categories', 200, (i) => ({ name: `Personuppgifter ${i}`, classification: i % 10 ? 'ordinary' : 'special', special_category: i % 10 ? null : 'health' }))
  const recipients = records('recipients', 100, (i) => ({ name: `Mottagare ${i}`, country: i % 4 ? null : 'US' }))
  const rules = records('retention_rules', 50, (i) => ({ name: `Gallring ${i}`, period: i % 10 ? `P${i + 1}M` : null, trigger: 'efter senaste besök', legal_reference: 'Bokföringslagen 7 kap. 2 §' }))
  const measures = records('security_measures', 50, (i) => ({ name: `Säkerhetsåtgärd ${i}`, type: i % 2 ? 'technical' : 'organisational', category: 'access-control' }))
  const bases = ['A6-1-a', 'A6-1-b', 'A6-1-c', 'A6-1-f', 'A9-2-h', 'SE-BFL-7-2'].map(catalogueId)
  await sink.flush()
  const ids = records('processing_activities', activities, (i) => ({
    name: `Behandling ${i}`, description: 'En behandling av personuppgifter med en beskrivning av rimlig längd, som i ett verkligt register.',
    role: 'controller', controller_id: controllers[i % controllers.length], data_sources: JSON.stringify(['Den registrerade']),
    systems: JSON.stringify(['Affärssystem', 'E-post']), dpia_required: false, dpia_status: 'not-required', dpia_reference: null,
    automated_decision_making: false, automated_decision_making_description: null, status: 'active', owner: 'Kundtjänst',
    last_reviewed_at: '2026-01-15', next_review_at: '2027-01-15',
  }))
  await sink.flush()
  ids.forEach((owner, i) => {
    const base = { workspace_id: ws, owner_id: owner }
    sink.add('activity_joint_controllers', { ...base, position: 0, controller_id: pick(controllers.filter((c) => c !== controllers[i % controllers.length]), i, 0) })
    for (let k = 0; k < LINKS; k++) {
      sink.add('activity_purposes', { ...base, position: k, purpose_id: pick(purposes, i, k), legitimate_interest: null, lia_reference: null })
      sink.add('activity_purpose_legal_bases', { ...base, parent_position: k, position: 0, legal_basis_id: pick(bases, i, k) })
      sink.add('activity_data_subject_categories', { ...base, position: k, data_subject_category_id: pick(subjects, i, k) })
      sink.add('activity_data_categories', { ...base, position: k, data_category_id: pick(categories, i, k) })
      sink.add('activity_recipients', { ...base, position: k, recipient_id: pick(recipients, i, k) })
      sink.add('activity_processors', { ...base, position: k, processor_id: pick(processors, i, k) })
      sink.add('activity_security_measures', { ...base, position: k, security_measure_id: pick(measures, i, k) })
    }
    sink.add('activity_transfers', { ...base, position: 0, country: 'US', recipient_id: null, processor_id: pick(processors, i, 0), mechanism: 'A46-2-c', safeguards: 'Kryptering', documentation: null })
    sink.add('activity_retention', { ...base, position: 0, retention_rule_id: pick(rules, i, 0) })
    sink.add('activity_retention', { ...base, position: 1, retention_rule_id: pick(rules, i, 1) })
    sink.add('activity_retention_data_categories', { ...base, parent_position: 1, position: 0, data_category_id: pick(categories, i, 0) })
  })
  await sink.flush()
  await finish()
}

/**
 * The generated rows went in by bulk insert, beside the write path: builds their stored views as
 * the StoredViews migration does for an upgraded database (timed apart from the bulk insert).
 */
export async function buildViews(url: string, ws = WS): Promise<void> {
  const views = createDataSource({ databaseUrl: url })
  await views.initialize()
  try {
    await views.transaction(async (m) => {
      await rebuildAllViews(m, ws)
      // and what searches and name sorts compare, as the SearchAndSortKeys migration fills them
      await fillLookupColumns(m, views.options.type === 'postgres' ? (n) => `$${n}` : () => '?', ws)
    })
    // What autovacuum does to a table after a bulk load, and the bench's server has autovacuum off:
    // without it every row of the register is there three times (inserted, then updated twice above),
    // the planner has no statistics, and a list's count reads the whole heap (17 ms for 10,000
    // activities) instead of an index.
    if (views.options.type === 'postgres') await views.query('VACUUM ANALYZE')
  } finally {
    await views.destroy()
  }
}

export interface Served {
  app: FastifyInstance
  port: number
  token(role?: 'reader' | 'editor' | 'admin', ws?: string): Promise<string>
  close(): Promise<void>
}

const BENCH_ISSUER = 'https://idp.bench.invalid'
const BENCH_AUDIENCE = 'ropa-register'

/** A token the served app accepts (its issuer and audience), for processes that have no Served at hand. */
export const benchToken = (role: 'reader' | 'editor' | 'admin', ws = WS, subject = 'bench'): Promise<string> =>
  signToken({ role, ws }, SECRET, { subject, expiresIn: 3600, issuer: BENCH_ISSUER, audience: BENCH_AUDIENCE })

/** The key that signs the served app's history checkpoints: production requires one, held in a file. */
let historyKeyFile: string | undefined
function benchHistoryKeyFile(): string {
  if (historyKeyFile) return historyKeyFile
  const dir = mkdtempSync(join(tmpdir(), 'ropa-bench-key-'))
  historyKeyFile = join(dir, 'history-signing-key.pem')
  writeFileSync(historyKeyFile, generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 })
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }))
  return historyKeyFile
}

/** The app, as the server runs it, on 127.0.0.1 (port chosen by the system), tokens for workspace `ws`. */
export async function serve(url: string, ws = WS): Promise<Served> {
  const config = loadConfig({ NODE_ENV: 'production', HISTORY_SIGNING_KEY_FILE: benchHistoryKeyFile(), DATABASE_URL: url, JWT_SECRET: SECRET, JWT_ISSUER: BENCH_ISSUER, JWT_AUDIENCE: BENCH_AUDIENCE, LOG_LEVEL: 'warn', BODY_LIMIT: String(100 * 1024 * 1024), AUTH_FAILURES_PER_MINUTE: '1000000', REQUESTS_PER_MINUTE: '100000000' })
  const instance = Fastify(fastifyOptions(config))
  await instance.register(app, { config })
  await instance.ready()
  // production refuses unregistered workspaces; the bench filled its own with SQL
  await openWorkspace(instance.db, ws, true)
  await instance.listen({ host: '127.0.0.1', port: 0 })
  const { port } = instance.server.address() as AddressInfo
  return {
    app: instance,
    port,
    token: (role = 'reader', tokenWs = ws) => benchToken(role, tokenWs),
    close: () => instance.close(),
  }
}

/** The machine, for the results. */
export function machine(): string {
  const cpu = cpus()
  return `${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown CPU'}, Node ${process.version}, ${process.platform}/${process.arch}`
}

export const mb = (n: number): number => Math.round((n / 1048576) * 10) / 10
export const ratio = (a: number, b: number): string => `${(a / b).toFixed(2)}x`

/** A measurement run in a child process: its result as JSON on stdout, so its memory is its own. */
export function runChild(measure: () => Promise<unknown>): void {
  measure().then((m) => {
    process.stdout.write(JSON.stringify(m))
    process.exit(0)
  }, (err) => {
    console.error(err)
    process.exit(1)
  })
}
