import { expect } from 'chai'
import http from 'node:http'
import { AddressInfo, Socket } from 'node:net'
import { readdirSync, readlinkSync } from 'node:fs'
import { Client } from 'pg'
import { buildTestApp, migratedDatabase, onPostgres, TestApp, TestDatabase, token } from './helper'
import { buildViews, generate } from '../bench/register'
import { READ_POOL_NAME } from '../src/db/data-source'
import type { ReadSeries } from '../src/db/database'
import Fastify from 'fastify'
import { loadConfig } from '../src/config'
import { fastifyOptions } from '../src/app'

/** Activities in the register: its JSON export (about 10 MB) is larger than what loopback socket buffers hold. */
const ACTIVITIES = 2000
const WS = 'hostile'

/** A download on a socket of its own, that reads as the test says. */
interface Download {
  request: http.ClientRequest
  response: Promise<http.IncomingMessage>
  /** Resolves when the connection is closed (by either side). */
  closed: Promise<void>
}

function download(port: number, path: string, auth: string): Download {
  const request = http.get({ host: '127.0.0.1', port, path, headers: { authorization: auth }, agent: false })
  const closed = new Promise<void>((resolve) => request.once('close', () => resolve()))
  const response = new Promise<http.IncomingMessage>((resolve, reject) => {
    request.once('response', (res) => {
      res.pause() // reads nothing until the test says
      res.on('error', () => undefined)
      resolve(res)
    })
    request.once('error', reject)
  })
  request.on('error', () => undefined)
  return { request, response, closed }
}

/** Reads at about `bytesPerSecond`, as a client on a slow line does, until stopped. */
function trickle(res: http.IncomingMessage, bytesPerSecond = 40_000): () => void {
  let stopped = false
  res.on('data', (chunk: Buffer) => {
    res.pause()
    setTimeout(() => { if (!stopped) res.resume() }, (chunk.length / bytesPerSecond) * 1000)
  })
  res.resume()
  return () => {
    stopped = true
    res.pause()
  }
}

/** Open descriptors of this process whose target matches (Linux: /proc/self/fd). */
function openFiles(matches: (target: string) => boolean): number {
  let n = 0
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (matches(readlinkSync(`/proc/self/fd/${fd}`))) n++
    } catch {
      // closed meanwhile
    }
  }
  return n
}

async function eventually(check: () => boolean | Promise<boolean>, ms = 5000): Promise<boolean> {
  const until = Date.now() + ms
  for (;;) {
    if (await check()) return true
    if (Date.now() > until) return false
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

async function pgSessions(url: string): Promise<{ state: string; application_name: string; query: string }[]> {
  const client = new Client({ connectionString: url })
  await client.connect()
  try {
    return (await client.query('SELECT state, application_name, query FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()')).rows
  } finally {
    await client.end()
  }
}

describe('hostile readers', function () {
  this.timeout(120000)
  let db: TestDatabase
  let activityId: string

  before(async () => {
    db = await migratedDatabase()
    await generate(db.url, ACTIVITIES, WS)
    await buildViews(db.url, WS)
  })
  after(async () => db?.drop())

  /** The app on the prepared register, listening on loopback. */
  async function serve(env: Record<string, string> = {}): Promise<TestApp & { port: number }> {
    // the budget of expensive operations per workspace (test/budgets) would refuse most of these
    // downloads at once; what is tested here is what the downloads it lets through may hold
    const t = await buildTestApp({ DATABASE_URL: db.url, EXPENSIVE_PER_WORKSPACE: '1000', ...env })
    await t.app.listen({ host: '127.0.0.1', port: 0 })
    const { port } = t.app.server.address() as AddressInfo
    if (!activityId) {
      const list = await t.http.get('/api/v1/processing-activities?limit=1').set('authorization', await t.auth('reader', WS))
      activityId = list.body.items[0].id
    }
    return Object.assign(t, { port })
  }

  it('lets twelve readers that read an export very slowly or not at all hold no database resource: reads, writes and /ready go on answering', async () => {
    // the exports take turns two at a time: on a loaded machine the twelfth may wait longer than the default
    const t = await serve({ LONG_READ_WAIT: '100s' })
    const reader = `Bearer ${await token('reader', WS, 'shell-loop')}`
    const editor = await t.auth('editor', WS)
    const downloads = Array.from({ length: 12 }, (_, i) => download(t.port, `/api/v1/register/export?format=${i % 2 ? 'csv' : 'json'}`, reader))
    const stops: (() => void)[] = []
    try {
      const responses = await Promise.all(downloads.map((d) => d.response))
      for (const [i, res] of responses.entries()) {
        expect(res.statusCode).to.equal(200)
        // the whole answer was read from the database before its first byte was sent
        expect(Number(res.headers['content-length'])).to.be.greaterThan(i % 2 ? 1_000_000 : 5_000_000)
        if (i % 4 === 1) stops.push(trickle(res))
      }

      const ready = await t.http.get('/ready').timeout(10000)
      expect(ready.status).to.equal(200)
      const one = await t.http.get(`/api/v1/processing-activities/${activityId}`).set('authorization', reader).timeout(10000)
      expect(one.status).to.equal(200)
      const page = await t.http.get('/api/v1/processing-activities?limit=50&sort=name').set('authorization', reader).timeout(10000)
      expect(page.status).to.equal(200)
      expect(page.body.total).to.equal(ACTIVITIES)
      const patched = await t.http.patch(`/api/v1/processing-activities/${activityId}`).set('authorization', editor)
        .send({ description: 'Changed while twelve downloads stall' }).timeout(10000)
      expect(patched.status, JSON.stringify(patched.body)).to.equal(200)

      if (onPostgres) {
        const sessions = await pgSessions(db.url)
        expect(sessions.filter((s) => s.state === 'idle in transaction'), 'sessions idle in transaction').to.deep.equal([])
        expect(sessions.filter((s) => s.application_name === READ_POOL_NAME && s.state === 'active' && /export|stored_view/i.test(s.query))).to.deep.equal([])
      } else {
        // no connection holds a snapshot: the write just made can be copied into the database
        // file and the log emptied, which SQLite refuses while any reader is inside the log
        const Sqlite = require('better-sqlite3')
        const file = db.url.slice('sqlite:'.length)
        const probe = new Sqlite(file)
        try {
          const [result] = probe.pragma('wal_checkpoint(TRUNCATE)') as { busy: number }[]
          expect(result.busy, 'a reader still holds a snapshot').to.equal(0)
        } finally {
          probe.close()
        }
        // and twelve exports did not open twelve connections (writer, single statements, 4 short reads, 2 on one snapshot)
        expect(openFiles((target) => target === file)).to.be.at.most(8)
      }
    } finally {
      for (const stop of stops) stop()
      for (const d of downloads) d.request.destroy()
      await Promise.all(downloads.map((d) => d.closed))
    }
    // the spool files went with the downloads
    const spoolDir = await t.app.spool.path()
    expect(await eventually(() => openFiles((target) => target.startsWith(spoolDir)) === 0), 'spool files still open').to.equal(true)
    expect(readdirSync(spoolDir)).to.deep.equal([])
    await t.close()
  })

  it('closes a download that makes no progress for DOWNLOAD_IDLE_TIMEOUT, and not one that keeps reading', async () => {
    // 2 s, not less: on a busy machine (CI runs four suites on two cores) the reader's own timer can
    // stall for a second, and the service would rightly see no progress
    const t = await serve({ DOWNLOAD_IDLE_TIMEOUT: '2s' })
    const serverSockets = new Map<number, Socket>()
    t.app.server.on('connection', (socket: Socket) => serverSockets.set(socket.remotePort!, socket))
    const reader = await t.auth('reader', WS)
    const stalled = download(t.port, '/api/v1/register/export?format=json', reader)
    const slow = download(t.port, '/api/v1/register/export?format=json', reader)
    try {
      const [stalledResponse, slowResponse] = await Promise.all([stalled.response, slow.response])
      expect(stalledResponse.statusCode).to.equal(200)
      // progress is what the connection takes: the system's buffers take a few hundred KB at a time
      const stop = trickle(slowResponse, 1_000_000)
      const serverSide = (d: Download): Socket => serverSockets.get(d.request.socket!.localPort!)!
      // the service closes its end: what the client had not read is all it gets
      expect(await eventually(() => serverSide(stalled).destroyed, 10000), 'the stalled download is closed').to.equal(true)
      let received = 0
      stalledResponse.on('data', (chunk: Buffer) => { received += chunk.length })
      stalledResponse.resume()
      await stalled.closed
      expect(received).to.be.below(Number(stalledResponse.headers['content-length']))
      // the one reading on is still open, longer than the idle timeout after its first byte
      await new Promise((resolve) => setTimeout(resolve, 2500))
      stop()
      expect(serverSide(slow).destroyed, 'the slow download is kept').to.equal(false)
    } finally {
      stalled.request.destroy()
      slow.request.destroy()
      await Promise.all([stalled.closed, slow.closed])
      await t.close()
    }
  })

  it('answers 503 busy with Retry-After when no connection is free within DB_POOL_WAIT_MS, and writes keep connections of their own', async () => {
    const t = await serve({ DB_POOL_WAIT_MS: '300', LONG_READ_WAIT: '300ms', DB_POOL_SIZE: '2' })
    const reader = await t.auth('reader', WS)
    const held: ReadSeries[] = []
    try {
      // snapshots for exports: a bounded number, then a refusal after the wait
      let refused: unknown = null
      for (let i = 0; i < 20 && !refused; i++) {
        try {
          held.push(await t.app.db.snapshot())
        } catch (err) {
          refused = err
        }
      }
      expect(refused, 'snapshots are bounded').to.be.an('error')
      expect(held.length).to.be.at.most(2)
      const started = Date.now()
      const refusedExport = await t.http.get('/api/v1/register/export?format=csv').set('authorization', reader)
      expect(refusedExport.status).to.equal(503)
      expect(refusedExport.body.code).to.equal('busy')
      expect(refusedExport.headers['retry-after']).to.match(/^\d+$/)
      expect(refusedExport.headers['content-disposition']).to.equal(undefined)
      expect(Date.now() - started).to.be.below(5000)
      for (const series of held.splice(0)) await series.close()

      if (onPostgres) {
        // the read pool taken whole: a GET waits, then 503; a write still has its own connections
        const sleeping = [1, 2].map(() => t.app.db.read((m) => m.query('SELECT pg_sleep(1.5)')))
        await new Promise((resolve) => setTimeout(resolve, 100))
        const one = await t.http.get(`/api/v1/processing-activities/${activityId}`).set('authorization', reader)
        expect(one.status).to.equal(503)
        expect(one.body.code).to.equal('busy')
        expect(one.headers['retry-after']).to.match(/^\d+$/)
        const patched = await t.http.patch(`/api/v1/processing-activities/${activityId}`).set('authorization', await t.auth('editor', WS))
          .send({ description: 'Written while every read connection is taken' })
        expect(patched.status, JSON.stringify(patched.body)).to.equal(200)
        await Promise.all(sleeping)
      } else {
        const patched = await t.http.patch(`/api/v1/processing-activities/${activityId}`).set('authorization', await t.auth('editor', WS))
          .send({ description: 'Written while every export connection is taken' })
        expect(patched.status, JSON.stringify(patched.body)).to.equal(200)
      }
    } finally {
      for (const series of held) await series.close()
    }
    const after = await t.http.get('/api/v1/register/export?format=csv').set('authorization', reader)
    expect(after.status).to.equal(200)
    await t.close()
  })

  it('answers an export larger than SPOOL_MAX_BYTES with a JSON error, its snapshot closed', async () => {
    const t = await serve({ SPOOL_MAX_BYTES: '100000' })
    const res = await t.http.get('/api/v1/register/export?format=csv').set('authorization', await t.auth('reader', WS))
    expect(res.status).to.equal(507)
    expect(res.headers['content-type']).to.match(/^application\/json/)
    expect(res.headers['content-disposition']).to.equal(undefined)
    expect(res.body).to.include({ code: 'answer_too_large' })
    expect(res.body.message).to.include('SPOOL_MAX_BYTES')
    if (onPostgres) {
      expect(await eventually(async () => (await pgSessions(db.url)).every((s) => s.state !== 'idle in transaction'))).to.equal(true)
    }
    // the snapshot went back: as many exports as there are snapshots still fit, one after another
    for (let i = 0; i < 6; i++) {
      const again = await t.http.get('/api/v1/register/export?format=csv&status=retired').set('authorization', await t.auth('reader', WS))
      expect(again.status).to.be.oneOf([200, 507])
    }
    await t.close()
  })

  it('runs PostgreSQL reads with a statement timeout and an idle-in-transaction timeout, and writes without', async function () {
    if (!onPostgres) {
      // SQLite has neither setting; its reads are bounded by the connections above
      const t = await serve()
      expect(await t.app.db.read(async () => 'read')).to.equal('read')
      await t.close()
      return
    }
    const t = await serve({ DB_STATEMENT_TIMEOUT: '400ms', DB_IDLE_IN_TRANSACTION_TIMEOUT: '7s' })
    const [{ statement_timeout: statementTimeout }] = await t.app.db.read((m) => m.query('SHOW statement_timeout'))
    const [{ idle_in_transaction_session_timeout: idle }] = await t.app.db.read((m) => m.query('SHOW idle_in_transaction_session_timeout'))
    expect([statementTimeout, idle]).to.deep.equal(['400ms', '7s'])
    const [{ statement_timeout: writeTimeout }] = await t.app.db.write((m) => m.query('SHOW statement_timeout'))
    expect(writeTimeout).to.equal('0')
    let err: any = null
    await t.app.db.read((m) => m.query('SELECT pg_sleep(2)')).catch((e) => { err = e })
    expect(err?.driverError?.code ?? err?.code).to.equal('57014')
    await t.close()
  })
})

describe('limits configuration', () => {
  it('gives every limit a default a normal team never meets, and names the variable at fault', () => {
    const base = { NODE_ENV: 'test', JWT_SECRET: 'x'.repeat(40) }
    const { limits } = loadConfig(base)
    expect(limits).to.deep.include({
      spoolMaxBytes: 2 * 1024 ** 3, downloadIdleTimeoutMs: 60_000, requestTimeoutMs: 120_000, headersTimeoutMs: 20_000,
      keepAliveTimeoutMs: 72_000, dbPoolWaitMs: 5000, longReadWaitMs: 30_000, dbPoolSize: 10, dbWritePoolSize: 4,
      dbStatementTimeoutMs: 30_000, dbIdleInTransactionTimeoutMs: 30_000,
    })
    expect(loadConfig({ ...base, DOWNLOAD_IDLE_TIMEOUT: '90s', DB_STATEMENT_TIMEOUT: '1m' }).limits).to.deep.include({ downloadIdleTimeoutMs: 90_000, dbStatementTimeoutMs: 60_000 })
    const cases: [Record<string, string>, RegExp][] = [
      [{ DOWNLOAD_IDLE_TIMEOUT: 'forever' }, /DOWNLOAD_IDLE_TIMEOUT must be a duration such as 30s/],
      [{ DB_POOL_WAIT_MS: '5s' }, /DB_POOL_WAIT_MS must be an integer/],
      [{ DB_POOL_SIZE: '1' }, /DB_POOL_SIZE must be an integer between 2/],
      [{ SPOOL_MAX_BYTES: '-1' }, /SPOOL_MAX_BYTES must be an integer/],
      [{ REQUEST_TIMEOUT: '10s', HEADERS_TIMEOUT: '20s' }, /HEADERS_TIMEOUT must not be longer than REQUEST_TIMEOUT/],
    ]
    for (const [env, message] of cases) expect(() => loadConfig({ ...base, ...env })).to.throw(message)
  })

  it('sets the request, header and keep-alive timeouts on the HTTP server', () => {
    const config = loadConfig({ NODE_ENV: 'test', JWT_SECRET: 'x'.repeat(40), REQUEST_TIMEOUT: '90s', HEADERS_TIMEOUT: '15s', KEEP_ALIVE_TIMEOUT: '61s' })
    const server = Fastify(fastifyOptions(config)).server
    expect([server.requestTimeout, server.headersTimeout, server.keepAliveTimeout]).to.deep.equal([90_000, 15_000, 61_000])
  })
})
