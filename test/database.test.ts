import { expect } from 'chai'
import { statSync } from 'node:fs'
import { QueryFailedError } from 'typeorm'
import { buildTestApp, freshDatabase, onPostgres, TestApp } from './helper'

describe('database', () => {
  let t: TestApp
  before(async () => { t = await buildTestApp() })
  after(async () => t.close())

  it('is migrated to exactly the schema the entities describe (no pending change)', async () => {
    const log = await t.app.db.dataSource.driver.createSchemaBuilder().log()
    expect(log.upQueries.map((q) => q.query)).to.deep.equal([])
  })

  // (on PostgreSQL the same guarantees come from the server itself)
  if (!onPostgres) it('runs SQLite with WAL and foreign keys', async () => {
    const ds = t.app.db.dataSource
    expect((await ds.query('PRAGMA journal_mode'))[0].journal_mode).to.equal('wal')
    expect((await ds.query('PRAGMA foreign_keys'))[0].foreign_keys).to.equal(1)
  })

  if (!onPostgres) it("waits for another process's write lock without stopping: reads are answered meanwhile, the write lands once the lock is free", async () => {
    // (the workspace's first request writes its catalogue: it is opened before the lock is taken)
    await t.http.get('/api/v1/purposes').set('authorization', await t.auth('reader')).expect(200)
    // another connection to the file (as another instance would hold) keeps the write lock for a while
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const other = new (require('better-sqlite3'))(String(t.app.db.dataSource.options.database))
    try {
      other.exec('BEGIN IMMEDIATE')
      let freed = 0
      const free = (): void => {
        if (freed) return
        other.exec('COMMIT')
        freed = Date.now()
      }
      // the lock is given up once the read is answered, or after 3 s (within the 5 s busy timeout)
      const fallback = setTimeout(free, 3000)
      const write = t.http.post('/api/v1/purposes').set('authorization', await t.auth('editor')).send({ name: 'Efter ett annat lås' })
        .then((r) => ({ status: r.status, at: Date.now() }))
      await new Promise((resolve) => setTimeout(resolve, 100))
      const read = await t.http.get('/api/v1/purposes').set('authorization', await t.auth('reader'))
      const answeredWhileHeld = freed === 0
      free()
      clearTimeout(fallback)
      const written = await write
      expect(read.status).to.equal(200)
      expect(answeredWhileHeld, 'the read was answered while the other connection held the lock').to.equal(true)
      expect(written.status, 'the write, once the lock was free').to.equal(201)
      expect(written.at).to.be.at.least(freed)
    } finally {
      if (other.inTransaction) other.exec('ROLLBACK')
      other.close()
    }
  })

  if (!onPostgres) it('gives a bulk write (an import) a larger page cache and checkpoints its log aside, and puts the settings back', async () => {
    const db = t.app.db
    const ds = db.dataSource
    const settings = async (q: (sql: string) => Promise<any[]>): Promise<number[]> =>
      [(await q('PRAGMA cache_size'))[0].cache_size, (await q('PRAGMA wal_autocheckpoint'))[0].wal_autocheckpoint]
    const before = await settings((sql) => ds.query(sql))
    const file = String(ds.options.database)
    await ds.query('CREATE TABLE bulk_probe (x TEXT)')
    try {
      await db.checkpointed()
      const sizeBefore = statSync(file).size
      let inside: number[] = []
      await db.write(async (m) => {
        inside = await settings((sql) => m.query(sql))
        // about 6 MB: well past the automatic checkpoint's 1,000 pages
        for (let i = 0; i < 30; i++) await m.query(`INSERT INTO bulk_probe (x) SELECT hex(randomblob(100)) FROM (WITH RECURSIVE n(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM n WHERE k < 1000) SELECT k FROM n)`)
      }, { bulk: true })
      expect(inside).to.deep.equal([-64 * 1024, 0])
      expect(await settings((sql) => ds.query(sql))).to.deep.equal(before)
      await db.checkpointed()
      expect(statSync(file).size - sizeBefore).to.be.greaterThan(5_000_000)
      expect((await ds.query('SELECT count(*) AS n FROM bulk_probe'))[0].n).to.equal(30_000)
      // a rolled-back one puts them back too
      let failed = false
      await db.write(async (m) => {
        await m.query(`INSERT INTO bulk_probe (x) VALUES ('y')`)
        throw new Error('no')
      }, { bulk: true }).catch(() => { failed = true })
      expect(failed).to.equal(true)
      expect(await settings((sql) => ds.query(sql))).to.deep.equal(before)
      expect((await ds.query('SELECT count(*) AS n FROM bulk_probe'))[0].n).to.equal(30_000)
    } finally {
      await ds.query('DROP TABLE bulk_probe')
    }
  })

  if (!onPostgres) it('starts a write again when SQLite refuses it as busy, at BEGIN or within it, within the busy timeout and no longer', async () => {
    const db = t.app.db
    const ds = db.dataSource
    const original = ds.createQueryRunner.bind(ds)
    // SQLite may answer BEGIN IMMEDIATE with SQLITE_BUSY without waiting in its busy handler (WAL
    // mode, while another connection resets or checkpoints the log): the first `refusals` BEGINs do;
    // `within`: the purpose's INSERT, in a transaction begun, is refused (as a read recovering the log may be)
    let refusals = 3
    let within = 0
    let atCommit = 0
    let begins = 0
    ds.createQueryRunner = ((...args: Parameters<typeof original>) => {
      const runner = original(...args)
      const query = runner.query.bind(runner)
      runner.query = (async (sql: string, ...rest: unknown[]) => {
        if (sql === 'BEGIN IMMEDIATE') {
          begins++
          if (refusals-- > 0) throw new QueryFailedError(sql, [], Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY_SNAPSHOT' }))
        }
        if (sql === 'COMMIT' && atCommit-- > 0) throw new QueryFailedError(sql, [], Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' }))
        if (/^INSERT INTO "purposes"/.test(sql) && within-- > 0) throw new QueryFailedError(sql, [], Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY_RECOVERY' }))
        return (query as any)(sql, ...rest)
      }) as typeof runner.query
      return runner
    }) as typeof ds.createQueryRunner
    try {
      const res = await t.http.post('/api/v1/purposes').set('authorization', await t.auth('editor')).send({ name: 'Efter ett upptaget lås' })
      expect(res.status, JSON.stringify(res.body)).to.equal(201)
      expect(begins, "BEGINs after the three refusals").to.be.greaterThan(3)
      // refused within: the whole transaction again, rolled back first, so nothing is written twice
      within = 2
      const again = await t.http.post('/api/v1/purposes').set('authorization', await t.auth('editor')).send({ name: 'Efter en vägrad rad' })
      expect(again.status, JSON.stringify(again.body)).to.equal(201)
      expect(within).to.be.lessThan(0)
      const entries = (await t.http.get(`/api/v1/purposes/${again.body.id}/history`).set('authorization', await t.auth('reader'))).body
      expect((entries.items ?? entries).map((e: { version: number }) => e.version)).to.deep.equal([1])
      // an import refused at its COMMIT, started again, counts each record once and writes it once
      await t.http.get('/api/v1/purposes').set('authorization', await t.auth('reader', 'retry')).expect(200) // the workspace's catalogue first
      atCommit = 1
      const at = new Date().toISOString()
      const doc = { format: 'gdpr-art30-register', formatVersion: 1, generatedAt: at, workspace: 'retry', record: 'controller', filters: { controllerId: null, status: null, asOf: null },
        controllers: [], processors: [], legalBases: [], dataSubjectCategories: [], dataCategories: [], recipients: [], retentionRules: [], securityMeasures: [], processingActivities: [],
        purposes: Array.from({ length: 3 }, (_, i) => ({ id: `00000000-0000-4000-8000-${String(i + 1).padStart(12, '0')}`, name: `Återförsök ${i}`, description: null, createdAt: at, updatedAt: at, version: 1 })) }
      const imported = await t.http.post('/api/v1/register/import').set('authorization', await t.auth('editor', 'retry')).send(doc)
      expect(imported.status, JSON.stringify(imported.body)).to.equal(200)
      expect(atCommit).to.be.lessThan(0)
      expect(imported.body.created.purposes).to.equal(3)
      const listed = (await t.http.get('/api/v1/purposes?limit=500').set('authorization', await t.auth('reader', 'retry'))).body
      expect(listed.total).to.equal(3)
      // a refusal that lasts answers 503 once the busy timeout (5 s here) is spent, not before
      refusals = Infinity
      const started = Date.now()
      const busy = await t.http.post('/api/v1/purposes').set('authorization', await t.auth('editor')).send({ name: 'Aldrig' })
      expect(busy.status).to.equal(503)
      expect(busy.body.code).to.equal('busy')
      expect(Date.now() - started).to.be.within(4900, 15000)
    } finally {
      ds.createQueryRunner = original
    }
    const names = (await t.http.get('/api/v1/purposes?limit=500').set('authorization', await t.auth('reader'))).body.items.map((p: { name: string }) => p.name)
    expect(names).to.include('Efter ett upptaget lås').and.not.include('Aldrig')
    expect(names.filter((n: string) => n === 'Efter en vägrad rad')).to.have.length(1)
  })

  if (onPostgres) it('stores views and history states compressed with lz4 where the server has it', async () => {
    const ds = t.app.db.dataSource
    const lz4 = (await ds.query(`SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression' AND 'lz4' = ANY (enumvals)`)).length > 0
    const rows = await ds.query(`SELECT c.relname AS "table", a.attcompression AS compression FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
      WHERE c.relname IN ('processing_activities', 'purposes', 'history') AND a.attname IN ('resolved_view', 'state') ORDER BY c.relname`)
    expect(rows).to.deep.equal(['history', 'processing_activities', 'purposes'].map((table) => ({ table, compression: lz4 ? 'l' : '' })))
  })

  it('enforces references in the database itself, across workspaces too', async () => {
    const ds = t.app.db.dataSource
    const at = new Date().toISOString()
    let refused = false
    try {
      await ds.query(
        `INSERT INTO processing_activities (workspace_id, id, created_at, updated_at, version, name, role, controller_id, data_sources, systems, automated_decision_making, status)
         VALUES ('test', '00000000-0000-4000-8000-00000000000a', '${at}', '${at}', 1, 'x', 'controller', '00000000-0000-4000-8000-00000000000b', '[]', '[]', false, 'draft')`,
      )
    } catch {
      refused = true
    }
    expect(refused).to.equal(true)
  })

  if (onPostgres) it('lets several instances start at once against one PostgreSQL database: one migrates, the others wait', async () => {
    const db = await freshDatabase()
    const apps: TestApp[] = []
    try {
      apps.push(...await Promise.all([1, 2, 3].map(() => buildTestApp({ DATABASE_URL: db.url }))))
      const rows = await apps[0].app.db.dataSource.query('SELECT name FROM schema_migrations')
      expect(rows.length).to.equal(apps[0].app.db.dataSource.migrations.length)
      const created = await apps[1].http.post('/api/v1/purposes').set('authorization', await apps[1].auth('editor')).send({ name: 'Delad' })
      expect((await apps[2].http.get(`/api/v1/purposes/${created.body.id}`).set('authorization', await apps[2].auth('reader'))).status).to.equal(200)
    } finally {
      for (const a of apps) await a.close()
      await db.drop()
    }
  })

  it('answers /health and /ready without authentication', async () => {
    expect((await t.http.get('/health')).body).to.deep.equal({ status: 'ok' })
    expect((await t.http.get('/ready')).body).to.deep.equal({ status: 'ready' })
  })
})
