import 'reflect-metadata'
import Fastify, { FastifyInstance } from 'fastify'
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto'
import { Writable } from 'node:stream'
import { Client } from 'pg'
import supertest from 'supertest'
import app, { fastifyOptions, loggerOptions } from '../src/app'
import { Config, loadConfig } from '../src/config'
import { createDataSource, migrationsDir } from '../src/db/data-source'
import { SignOptions, signToken } from './tokens'

export const SECRET = 'test-secret-that-is-long-enough-0123456789'

/** The history checkpoints' signing key of every test app that names none (production needs one). */
export const HISTORY_KEY_FILE = join(mkdtempSync(join(tmpdir(), 'ropa-history-key-')), 'history-signing-key.pem')
writeFileSync(HISTORY_KEY_FILE, generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }))
export type Role = 'reader' | 'editor' | 'admin'

/**
 * The database tests run against: a fresh SQLite file per app by default, or, with
 * TEST_DATABASE_URL=postgres://…, a fresh PostgreSQL database per app on that server.
 */
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? ''
export const onPostgres = TEST_DATABASE_URL.startsWith('postgres')

export interface TestDatabase {
  url: string
  drop(): Promise<void>
}

/** An empty database: for the tests that migrate it themselves (upgrades, concurrent migrations). */
export async function freshDatabase(): Promise<TestDatabase> {
  if (onPostgres) return freshPostgres()
  const dir = mkdtempSync(join(tmpdir(), 'ropa-test-'))
  return { url: `sqlite:${join(dir, 'register.sqlite')}`, drop: async () => rmSync(dir, { recursive: true, force: true }) }
}

async function pgAdmin<T>(work: (admin: Client) => Promise<T>): Promise<T> {
  const admin = new Client({ connectionString: TEST_DATABASE_URL })
  await admin.connect()
  try {
    return await work(admin)
  } finally {
    await admin.end()
  }
}

function pgUrl(name: string): string {
  const url = new URL(TEST_DATABASE_URL)
  url.pathname = `/${name}`
  return url.toString()
}

async function freshPostgres(template?: string): Promise<TestDatabase> {
  const name = `ropa_test_${randomBytes(6).toString('hex')}`
  await pgAdmin(async (admin) => {
    // several test processes copy one template at once; PostgreSQL refuses a copy while another
    // session is connected to the template, which is brief, so try again
    for (let attempt = 0; ; attempt++) {
      try {
        return await admin.query(`CREATE DATABASE ${name}${template ? ` TEMPLATE ${template}` : ''}`)
      } catch (err) {
        if (!template || attempt >= 50 || !/being accessed by other users/.test(String(err))) throw err
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
    }
  })
  return {
    url: pgUrl(name),
    drop: () => pgAdmin(async (admin) => { await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) }),
  }
}

async function migrateEmpty(db: TestDatabase): Promise<void> {
  const dataSource = createDataSource({ databaseUrl: db.url })
  await dataSource.initialize()
  try {
    await dataSource.runMigrations({ transaction: 'each' })
  } finally {
    await dataSource.destroy()
  }
}

/**
 * The migrated schema is made once and copied for every app: migrating a new PostgreSQL database
 * takes most of a second, and the suite builds about a hundred apps. The template is named by
 * the migrations it holds, so a changed migration makes a new one.
 */
let template: Promise<string> | undefined
function migratedTemplate(): Promise<string> {
  template ??= (async () => {
    const dir = migrationsDir(onPostgres ? 'postgres' : 'sqlite')
    const hash = createHash('sha256')
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.js')).sort()) hash.update(file).update(readFileSync(join(dir, file)))
    // and by the ICU of this Node.js: the template records the collation its sort keys are in
    hash.update(`${process.versions.icu} ${process.versions.unicode}`)
    const tag = hash.digest('hex').slice(0, 16)
    if (!onPostgres) {
      const db = await freshDatabase()
      await migrateEmpty(db)
      return db.url.slice('sqlite:'.length)
    }
    const name = `ropa_template_${tag}`
    const exists = await pgAdmin(async (admin) => (await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount)
    if (exists) return name
    // built under another name and renamed when complete, so no process copies a half-made one
    const scratch = await freshPostgres()
    await migrateEmpty(scratch)
    const scratchName = new URL(scratch.url).pathname.slice(1)
    try {
      await pgAdmin(async (admin) => { await admin.query(`ALTER DATABASE ${scratchName} RENAME TO ${name}`) })
    } catch (err) {
      await scratch.drop()
      if (!/already exists/.test(String(err))) throw err
    }
    return name
  })()
  return template
}

/** A database already migrated to the latest schema, copied from the template. */
export async function migratedDatabase(): Promise<TestDatabase> {
  const source = await migratedTemplate()
  if (onPostgres) return freshPostgres(source)
  const db = await freshDatabase()
  copyFileSync(source, db.url.slice('sqlite:'.length))
  return db
}

export interface TestApp {
  app: FastifyInstance
  config: Config
  /** supertest against the running app */
  http: ReturnType<typeof supertest>
  /** Authorization header value for a role in a workspace (default workspace: "test"). */
  auth(role: Role, ws?: string, sub?: string): Promise<string>
  /** Log lines written so far (JSON objects). */
  logs: Record<string, any>[]
  close(): Promise<void>
}

/** A token for a role in a workspace, signed by jose as the identity provider would (HS256 with the test secret). */
export function token(role: Role, ws = 'test', sub = `${role}-user`, options: SignOptions = {}, secret = SECRET): Promise<string> {
  return signToken({ role, ws }, secret, { subject: sub, expiresIn: 3600, ...options })
}

/**
 * Headers of tokens signed in the last minute, reused: the suite asks for thousands (a request
 * each, the fuzz most), and signing each anew (WebCrypto's HMAC through jose) was 10 s of processor
 * a run. Each still lives an hour, so a reused one is always current; tests about a token's own
 * times sign theirs with `token()`.
 */
const signedHeaders = new Map<string, { header: Promise<string>; at: number }>()
function authHeader(role: Role, ws: string, sub: string | undefined): Promise<string> {
  const key = JSON.stringify([role, ws, sub])
  const held = signedHeaders.get(key)
  if (held && Date.now() - held.at < 60_000) return held.header
  const header = token(role, ws, sub).then((signed) => `Bearer ${signed}`)
  signedHeaders.set(key, { header, at: Date.now() })
  header.catch(() => signedHeaders.delete(key))
  return header
}

/** Builds the app on a fresh database, as the server does, with a log captured in memory. */
export async function buildTestApp(env: Record<string, string> = {}): Promise<TestApp> {
  // an app given a database (shared with another app, or one a test prepared) does not own it
  const db: TestDatabase = env.DATABASE_URL ? { url: env.DATABASE_URL, drop: async () => undefined } : await migratedDatabase()
  const config = loadConfig({ NODE_ENV: 'test', DATABASE_URL: db.url, JWT_SECRET: SECRET, LOG_LEVEL: 'info', AUTH_FAILURES_PER_MINUTE: '1000000', REQUESTS_PER_MINUTE: '100000000', HISTORY_SIGNING_KEY_FILE: HISTORY_KEY_FILE, ...env })
  const logs: Record<string, any>[] = []
  const stream = new Writable({
    write(chunk, _enc, cb) {
      for (const line of String(chunk).split('\n')) if (line.trim()) logs.push(JSON.parse(line))
      cb()
    },
  })
  const instance = Fastify(fastifyOptions(config, loggerOptions(config, stream)))
  await instance.register(app, { config })
  await instance.ready()
  return {
    app: instance,
    config,
    http: supertest(instance.server),
    auth: (role, ws = 'test', sub) => authHeader(role, ws, sub),
    logs,
    close: async () => {
      await instance.close()
      await db.drop()
    },
  }
}
