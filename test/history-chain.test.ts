import { expect } from 'chai'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { DataSource } from 'typeorm'
import { createDataSource, dataSourceOptions, dialectOf, migrationsDir } from '../src/db/data-source'
import { Database } from '../src/db/database'
import { verifyHistory } from '../src/register/accountability/history'
import { buildTestApp, freshDatabase, onPostgres, TestApp } from './helper'

type Row = Record<string, any>

/** Runs SQL on the database file or server behind the app, as someone holding the database would: not through the service. */
async function directly(databaseUrl: string, statements: string[]): Promise<void> {
  const own = dialectOf(databaseUrl) === 'sqlite'
    ? new DataSource({ type: 'better-sqlite3', database: databaseUrl.slice('sqlite:'.length) })
    : new DataSource({ type: 'postgres', url: databaseUrl })
  await own.initialize()
  try {
    for (const s of statements) await own.query(s)
  } finally {
    await own.destroy()
  }
}

/** Lifting the append-only triggers, as an attacker with the database would first. */
const liftTriggers = (databaseUrl: string): string[] => dialectOf(databaseUrl) === 'sqlite'
  ? ['DROP TRIGGER IF EXISTS history_append_only_update', 'DROP TRIGGER IF EXISTS history_append_only_delete']
  : ['ALTER TABLE history DISABLE TRIGGER history_append_only']

/** Tamper-evident history: one SHA-256 chain per workspace, verified by GET /api/v1/history/verify. */
describe('history hash chain', () => {
  let t: TestApp
  const verify = async (app: TestApp = t, ws = 'test') => {
    const res = await app.http.get('/api/v1/history/verify').set('authorization', await app.auth('reader', ws))
    expect(res.status).to.equal(200)
    return res.body
  }
  const history = async (ws = 'test'): Promise<Row[]> =>
    (await t.http.get('/api/v1/history?limit=500').set('authorization', await t.auth('reader', ws))).body.items

  before(async () => { t = await buildTestApp() })
  after(async () => t.close())

  it('chains every entry to the one before, and verifies as valid with the latest hash as head', async () => {
    const editor = await t.auth('editor')
    const c = await t.http.post('/api/v1/controllers').set('authorization', editor).send({ name: 'Klinik AB' })
    await t.http.patch(`/api/v1/controllers/${c.body.id}`).set('authorization', editor).send({ email: 'info@klinik.se' }).expect(200)
    await t.http.post('/api/v1/purposes').set('authorization', editor).send({ name: 'Vård' }).expect(201)
    const entries = await history()
    expect(entries.length).to.be.greaterThan(3)
    expect(entries.every((e) => /^[0-9a-f]{64}$/.test(e.hash))).to.equal(true)
    expect(new Set(entries.map((e) => e.hash)).size).to.equal(entries.length)
    const result = await verify()
    expect(result).to.deep.equal({ valid: true, entries: entries.length, head: entries[entries.length - 1].hash, firstBroken: null, versionsWithoutHead: [], checkpoints: 0, redacted: 0 })
    // another workspace has a chain of its own
    await t.http.post('/api/v1/purposes').set('authorization', await t.auth('editor', 'other')).send({ name: 'Annat' }).expect(201)
    const other = await verify(t, 'other')
    expect(other.valid).to.equal(true)
    expect(other.entries).to.equal((await history('other')).length)
    expect((await verify()).entries).to.equal(entries.length)
  })

  it('stays one valid chain when two instances write to one database at once, an import among them', async function () {
    this.timeout(120_000) // two apps and fifty writes; slow on a loaded machine
    const shared = await freshDatabase()
    // Each instance waits for the other's write lock up to DB_BUSY_TIMEOUT_MS (5 s by default, then 503), on
    // timers, so the two, in one process, do not stop each other (Database.againIfBusy). On a loaded CI machine,
    // running two test files at once, the twenty writes and the import may take longer than 5 s in all.
    // What this test holds is the chain, not how long a writer waits.
    const options = { DATABASE_URL: shared.url, DB_BUSY_TIMEOUT_MS: '30000' }
    const [one, two] = [await buildTestApp(options), await buildTestApp(options)]
    try {
      const ws = 'busy'
      // a refusal names the driver's codes both instances logged (SQLITE_BUSY_SNAPSHOT, _RECOVERY…)
      const busy = (): string => JSON.stringify([...one.logs, ...two.logs].filter((l) => l.msg === 'database busy').map((l) => l.code))
      const writes: Promise<unknown>[] = []
      for (let i = 0; i < 20; i++) {
        const app = i % 2 ? one : two
        writes.push(app.http.post('/api/v1/purposes').set('authorization', await app.auth('editor', ws)).send({ name: `Ändamål ${i}` }).then((r) => expect(r.status, `${JSON.stringify(r.body)} ${busy()}`).to.equal(201)))
      }
      const doc0 = new Date().toISOString()
      const doc = { format: 'gdpr-art30-register', formatVersion: 1, generatedAt: new Date().toISOString(), workspace: ws, record: 'controller', filters: { controllerId: null, status: null, asOf: null },
        controllers: [], processors: [], legalBases: [], dataSubjectCategories: [], dataCategories: [], recipients: [], retentionRules: [], securityMeasures: [], processingActivities: [],
        purposes: Array.from({ length: 30 }, (_, i) => ({ id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, name: `Importerat ${i}`, description: null, createdAt: doc0, updatedAt: doc0, version: 1 })) }
      writes.push(one.http.post('/api/v1/register/import').set('authorization', await one.auth('editor', ws)).send(doc).then((r) => expect(r.status, `${JSON.stringify(r.body)} ${busy()}`).to.equal(200)))
      await Promise.all(writes)
      const result = await verify(one, ws)
      expect(result.valid, JSON.stringify(result.firstBroken)).to.equal(true)
      const total = (await one.http.get('/api/v1/history?limit=1').set('authorization', await one.auth('reader', ws))).body.total
      expect(result.entries).to.equal(total)
      expect(total).to.be.greaterThanOrEqual(50)
      expect(await verify(two, ws)).to.deep.equal(result)
    } finally {
      await one.close()
      await two.close()
      await shared.drop()
    }
  })

  it('shows an entry edited directly in the database, after its triggers were dropped, as the first that fails', async () => {
    const editor = await t.auth('editor')
    for (const name of ['Bokföring', 'Marknadsföring', 'Rekrytering']) await t.http.post('/api/v1/purposes').set('authorization', editor).send({ name }).expect(201)
    const before = await verify()
    expect(before.valid).to.equal(true)
    const entries = await history()
    const victim = entries[entries.length - 2]
    const forged = JSON.stringify({ ...victim.state, name: 'Något helt annat' }).replace(/'/g, "''")
    await directly(t.config.databaseUrl, [...liftTriggers(t.config.databaseUrl), `UPDATE history SET state = '${forged}' WHERE seq = ${victim.seq}`])
    expect((await history()).find((e) => e.seq === victim.seq)!.state.name).to.equal('Något helt annat')
    const after = await verify()
    expect(after.valid).to.equal(false)
    expect(after.entries).to.equal(before.entries)
    expect(after.firstBroken).to.deep.include({ seq: victim.seq, recordType: victim.recordType, recordId: victim.recordId, version: victim.version, at: victim.at })
    // recomputing the forged entry's hash does not help: the next entry no longer follows from it
    await directly(t.config.databaseUrl, [`UPDATE history SET hash = '${'0'.repeat(64)}' WHERE seq = ${victim.seq}`])
    expect((await verify()).firstBroken.seq).to.equal(victim.seq)
  })

  it('shows an entry removed directly from the database at the entry after it, and the latest entries removed by the version that recorded them', async () => {
    const fresh = await buildTestApp()
    try {
      const editor = await fresh.auth('editor')
      for (const name of ['Ett', 'Två', 'Tre']) await fresh.http.post('/api/v1/purposes').set('authorization', editor).send({ name }).expect(201)
      const version = await fresh.http.post('/api/v1/register/versions').set('authorization', editor).send({})
      expect(version.status).to.equal(201)
      await fresh.http.post('/api/v1/purposes').set('authorization', editor).send({ name: 'Fyra' }).expect(201)
      const entries: Row[] = (await fresh.http.get('/api/v1/history?limit=500').set('authorization', await fresh.auth('reader'))).body.items
      // the head it froze, then the proposal's own entry, then Fyra
      expect(entries[entries.length - 2]).to.deep.include({ recordType: 'register-version', operation: 'propose' })
      expect(entries[entries.length - 3].hash).to.equal(version.body.historyHead)
      const removed = entries[entries.length - 4]
      await directly(fresh.config.databaseUrl, [...liftTriggers(fresh.config.databaseUrl), `DELETE FROM history WHERE seq = ${removed.seq}`])
      const result = await verify(fresh)
      expect(result.valid).to.equal(false)
      expect(result.entries).to.equal(entries.length - 1)
      expect(result.firstBroken.seq).to.equal(entries[entries.length - 3].seq)
      expect(result.versionsWithoutHead).to.deep.equal([])
      // the latest entries removed leave no break, but version 1 recorded the head they led to
      await directly(fresh.config.databaseUrl, [`DELETE FROM history WHERE seq >= ${entries[entries.length - 3].seq}`])
      const truncated = await verify(fresh)
      expect(truncated).to.deep.include({ valid: false, entries: entries.length - 4, versionsWithoutHead: [1] })
      // and the checkpoints signed at the proposal name entries the chain no longer reaches
      expect(truncated.firstBroken.seq).to.equal(entries[entries.length - 5].seq)
      expect(truncated.firstBroken.reason).to.match(/were removed/)
    } finally {
      await fresh.close()
    }
  })
})

describe('history hash chain migration', () => {
  it('chains the entries written before it, per workspace, so that they verify', async () => {
    const db = await freshDatabase()
    try {
      const dir = migrationsDir(dialectOf(db.url))
      const files = readdirSync(dir).filter((f) => f.endsWith('.js')).sort()
      const chaining = files.findIndex((f) => f.includes('-Versions'))
      expect(chaining).to.be.greaterThan(0)
      const earlier = new DataSource({ ...dataSourceOptions({ databaseUrl: db.url }), migrations: files.slice(0, chaining).map((f) => join(dir, f)) } as any)
      await earlier.initialize()
      await earlier.runMigrations()
      for (let i = 0; i < 5; i++) {
        for (const ws of ['one', 'two']) {
          const state = JSON.stringify({ id: `00000000-0000-4000-8000-00000000000${i}`, name: `Ändamål ${i} i ${ws}`, version: 1 }).replace(/'/g, "''")
          await earlier.query(`INSERT INTO history (workspace_id, record_type, record_id, version, operation, actor, at, state)
            VALUES ('${ws}', 'purpose', '00000000-0000-4000-8000-00000000000${i}', 1, 'create', 'alice', '2026-01-0${i + 1}T00:00:00.000Z', '${state}')`)
        }
      }
      await earlier.destroy()

      const all = createDataSource({ databaseUrl: db.url })
      await all.initialize()
      try {
        await all.runMigrations()
        const database = new Database(all, dialectOf(db.url))
        for (const ws of ['one', 'two']) {
          const result = await verifyHistory(database, ws)
          expect(result.valid, JSON.stringify(result.firstBroken)).to.equal(true)
          expect(result.entries).to.equal(5)
          expect(result.head).to.match(/^[0-9a-f]{64}$/)
        }
        // the triggers are back: history is append-only again
        let refused = false
        try {
          await all.query("UPDATE history SET actor = 'mallory'")
        } catch {
          refused = true
        }
        expect(refused).to.equal(true)
      } finally {
        await all.destroy()
      }
    } finally {
      await db.drop()
    }
  })
})

if (onPostgres) describe('history hash chain on PostgreSQL', () => {
  it('uses a lock per workspace, so writers of other workspaces do not wait for each other', async () => {
    const t = await buildTestApp()
    try {
      const runner = t.app.db.dataSource.createQueryRunner()
      await runner.connect()
      try {
        await runner.query('BEGIN')
        // hold workspace a's chain: a write to b still goes through
        await runner.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [3030_2017, 'a'])
        await t.http.post('/api/v1/purposes').set('authorization', await t.auth('editor', 'b')).send({ name: 'B' }).expect(201)
        await runner.query('COMMIT')
      } finally {
        await runner.release()
      }
    } finally {
      await t.close()
    }
  })
})
