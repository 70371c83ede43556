import { expect } from 'chai'
import { buildTestApp, migratedDatabase, onPostgres, TestApp, TestDatabase } from './helper'
import { addWorkspace } from '../src/register/records/workspaces'
import { BUILT_IN_LEGAL_BASES } from '../src/register/records/catalogue'

/** Counts the write transactions the app's database opens from now on. */
function countWrites(t: TestApp): { readonly count: number } {
  const db = t.app.db
  const original = db.write.bind(db)
  const counter = { count: 0 }
  db.write = ((...args: Parameters<typeof original>) => {
    counter.count++
    return original(...args)
  }) as typeof db.write
  return counter
}

/**
 * A workspace's built-in catalogue exists before its first read: registered with the workspace, or
 * completed when the service starts, so a read never writes and never waits behind a write.
 */
describe('no write on a read path: a workspace holds its catalogue before its first read', function () {
  this.timeout(180_000)
  let db: TestDatabase
  const apps: TestApp[] = []
  /** The service (again) on the shared database: a restart. */
  const start = async (env: Record<string, string> = {}): Promise<TestApp> => {
    const t = await buildTestApp({ DATABASE_URL: db.url, ...env })
    apps.push(t)
    return t
  }
  const legalBases = async (t: TestApp, ws: string) => t.http.get('/api/v1/legal-bases?limit=500').set('authorization', await t.auth('reader', ws))

  beforeEach(async () => { db = await migratedDatabase() })
  afterEach(async () => {
    for (const t of apps.splice(0)) await t.close()
    await db.drop()
  })

  it('registers a workspace with its whole catalogue, seen by its first read, which writes nothing', async () => {
    const first = await start()
    await addWorkspace(first.app.db, 'acme', 'Acme AB')
    const restarted = await start()
    const writes = countWrites(restarted)
    const res = await legalBases(restarted, 'acme')
    expect(res.status).to.equal(200)
    expect(res.body.items.map((l: { code: string }) => l.code).sort()).to.deep.equal(BUILT_IN_LEGAL_BASES.map((b) => b.code).sort())
    expect(writes.count, 'write transactions opened by the first read').to.equal(0)
  })

  it('creates a workspace on its first use in development with its catalogue, and after a restart reads it without writing', async () => {
    const first = await start()
    const created = await legalBases(first, 'fresh')
    expect(created.status).to.equal(200)
    expect(created.body.total).to.equal(BUILT_IN_LEGAL_BASES.length)
    const restarted = await start()
    const writes = countWrites(restarted)
    expect((await legalBases(restarted, 'fresh')).body.total).to.equal(BUILT_IN_LEGAL_BASES.length)
    expect(writes.count).to.equal(0)
  })

  it('completes, when the service starts, the catalogue of a workspace registered without one (an older release)', async () => {
    const first = await start()
    await first.app.db.write((m) => m.query(`INSERT INTO workspaces (id, name, created_at) VALUES ('older', 'Older release', '2025-01-01T00:00:00.000Z')`))
    const restarted = await start()
    expect(restarted.logs.find((l) => l.msg === 'built-in catalogue completed')).to.deep.include({ workspaces: ['older'] })
    const writes = countWrites(restarted)
    expect((await legalBases(restarted, 'older')).body.total).to.equal(BUILT_IN_LEGAL_BASES.length)
    expect(writes.count).to.equal(0)
    // the catalogue entries are in the history, as every record is
    const history = await restarted.http.get('/api/v1/history?recordType=legal-basis&limit=100').set('authorization', await restarted.auth('reader', 'older'))
    expect(history.body.total).to.equal(BUILT_IN_LEGAL_BASES.length)
  })

  if (!onPostgres) it('answers a workspace\'s first read after a restart while another connection holds SQLite\'s write lock', async () => {
    const first = await start()
    await addWorkspace(first.app.db, 'acme', 'Acme AB')
    const restarted = await start({ DB_BUSY_TIMEOUT_MS: '3000' })
    // another process's writer, e.g. an import in another instance
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const other = new (require('better-sqlite3'))(db.url.slice('sqlite:'.length))
    try {
      other.exec('BEGIN IMMEDIATE')
      const started = Date.now()
      const res = await legalBases(restarted, 'acme')
      const tookMs = Date.now() - started
      expect(res.status, JSON.stringify(res.body)).to.equal(200)
      expect(res.body.total).to.equal(BUILT_IN_LEGAL_BASES.length)
      // a write would have waited for the lock: up to the 3 s busy timeout, then 503
      expect(tookMs, 'the read did not wait for the write lock').to.be.lessThan(2000)
      expect(other.inTransaction).to.equal(true)
    } finally {
      if (other.inTransaction) other.exec('ROLLBACK')
      other.close()
    }
  })
})
