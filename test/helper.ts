import 'reflect-metadata'
import Fastify, { FastifyInstance } from 'fastify'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { Writable } from 'node:stream'
import jwt from 'jsonwebtoken'
import { Client } from 'pg'
import supertest from 'supertest'
import app, { fastifyOptions, loggerOptions } from '../src/app'
import { Config, loadConfig } from '../src/config'

export const SECRET = 'test-secret-that-is-long-enough-0123456789'
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

export async function freshDatabase(): Promise<TestDatabase> {
  if (onPostgres) {
    const name = `ropa_test_${randomBytes(6).toString('hex')}`
    const admin = new Client({ connectionString: TEST_DATABASE_URL })
    await admin.connect()
    await admin.query(`CREATE DATABASE ${name}`)
    await admin.end()
    const url = new URL(TEST_DATABASE_URL)
    url.pathname = `/${name}`
    return {
      url: url.toString(),
      drop: async () => {
        const c = new Client({ connectionString: TEST_DATABASE_URL })
        await c.connect()
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
        await c.end()
      },
    }
  }
  const dir = mkdtempSync(join(tmpdir(), 'ropa-test-'))
  return { url: `sqlite:${join(dir, 'register.sqlite')}`, drop: async () => rmSync(dir, { recursive: true, force: true }) }
}

export interface TestApp {
  app: FastifyInstance
  config: Config
  /** supertest against the running app */
  http: ReturnType<typeof supertest>
  /** Authorization header value for a role in a workspace (default workspace: "test"). */
  auth(role: Role, ws?: string, sub?: string): string
  /** Log lines written so far (JSON objects). */
  logs: Record<string, any>[]
  close(): Promise<void>
}

export function token(role: Role, ws = 'test', sub = `${role}-user`, options: jwt.SignOptions = {}, secret = SECRET): string {
  return jwt.sign({ role, ws }, secret, { algorithm: 'HS256', subject: sub, expiresIn: '1h', ...options })
}

/** Builds the app on a fresh database, as the server does, with a log captured in memory. */
export async function buildTestApp(env: Record<string, string> = {}): Promise<TestApp> {
  const db = await freshDatabase()
  const config = loadConfig({ NODE_ENV: 'test', DATABASE_URL: db.url, JWT_SECRET: SECRET, LOG_LEVEL: 'info', AUTH_FAILURES_PER_MINUTE: '1000000', ...env })
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
    auth: (role, ws = 'test', sub) => `Bearer ${token(role, ws, sub)}`,
    logs,
    close: async () => {
      await instance.close()
      await db.drop()
    },
  }
}
