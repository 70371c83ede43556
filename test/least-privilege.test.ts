import { expect } from 'chai'
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { Client } from 'pg'
import { buildTestApp, freshDatabase, onPostgres } from './helper'

const run = promisify(execFile)
const root = join(__dirname, '..', '..')

/**
 * Migrations by a separate command with the owner's URL (`npm run migrate`), and the service under a
 * role that owns nothing, as the README's "Proving the register to an auditor" sets it up: the
 * service works, and cannot lift the triggers that keep history, versions and checkpoints append-only.
 */
describe('npm run migrate, and the service under a role that owns nothing', function () {
  this.timeout(180_000)

  it('migrates a database and exits; run again, finds nothing to do', async () => {
    const db = await freshDatabase()
    try {
      const first = await run('node', ['dist/src/cli/migrate.js'], { cwd: root, env: { ...process.env, DATABASE_URL: db.url } })
      expect(first.stdout).to.match(/^migrated: .*ProofCheckpoints1796600000000/)
      const again = await run('node', ['dist/src/cli/migrate.js'], { cwd: root, env: { ...process.env, DATABASE_URL: db.url } })
      expect(again.stdout.trim()).to.equal('the schema is current: nothing to migrate')
    } finally {
      await db.drop()
    }
  })

  if (onPostgres) {
    it('PostgreSQL: the README\'s grants let the service work, and do not let it lift a trigger or truncate', async () => {
      const db = await freshDatabase()
      const role = `ropa_app_${randomBytes(4).toString('hex')}`
      const owner = new Client({ connectionString: db.url })
      await owner.connect()
      try {
        await run('node', ['dist/src/cli/migrate.js'], { cwd: root, env: { ...process.env, DATABASE_URL: db.url } })
        // the README's statements, word for word but the role's name
        for (const sql of [
          `CREATE ROLE ${role} LOGIN PASSWORD 'secret'`,
          `GRANT USAGE ON SCHEMA public TO ${role}`,
          `GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ${role}`,
          `REVOKE UPDATE, DELETE ON history, history_checkpoints FROM ${role}`,
          `GRANT UPDATE (state, actor, redacted) ON history TO ${role}`,
          `REVOKE DELETE ON register_versions FROM ${role}`,
          `GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO ${role}`,
        ]) await owner.query(sql)
        const url = new URL(db.url)
        url.username = role
        url.password = 'secret'
        const t = await buildTestApp({ DATABASE_URL: url.toString() })
        try {
          const editor = await t.auth('editor', 'test', 'alice')
          await t.http.post('/api/v1/purposes').set('authorization', editor).send({ name: 'Bokföring' }).expect(201)
          await t.http.post('/api/v1/register/versions').set('authorization', editor).send({}).expect(201)
          await t.http.post('/api/v1/register/versions/1/approve').set('authorization', await t.auth('admin', 'test', 'bertil')).send({}).expect(200)
          const backup = JSON.parse((await t.http.get('/api/v1/register/backup').set('authorization', await t.auth('admin')).expect(200)).text)
          const restored = await t.http.post('/api/v1/register/import').set('authorization', await t.auth('admin', 'copy')).send(backup)
          expect(restored.status, JSON.stringify(restored.body)).to.equal(200)
          expect((await t.http.get('/api/v1/history/verify').set('authorization', await t.auth('reader', 'copy'))).body.valid).to.equal(true)
          // a redaction: the one change of history entries, through the columns granted
          const purpose = (await t.http.post('/api/v1/purposes').set('authorization', editor).send({ name: 'Kundtjänst', description: 'Frågor till Anna Bergström' }).expect(201)).body
          await t.http.patch(`/api/v1/purposes/${purpose.id}`).set('authorization', editor).send({ description: 'Frågor till kundtjänst' }).expect(200)
          const proposed = await t.http.post('/api/v1/redactions').set('authorization', await t.auth('admin', 'test', 'bertil')).send({ values: ['Anna Bergström'], reason: 'Art. 17' }).expect(201)
          await t.http.post(`/api/v1/redactions/${proposed.body.id}/approve`).set('authorization', await t.auth('admin', 'test', 'cecilia')).send({}).expect(200)
          expect((await t.http.get('/api/v1/history/verify').set('authorization', await t.auth('reader'))).body).to.include({ valid: true, redacted: 1 })
          // what an attacker holding the service's credentials would try first
          const as = async (sql: string): Promise<string> => t.app.db.dataSource.query(sql).then(() => 'accepted', (err) => String(err))
          expect(await as('ALTER TABLE history DISABLE TRIGGER history_append_only')).to.match(/must be owner/)
          expect(await as('DROP TRIGGER register_versions_allowed_steps ON register_versions')).to.match(/must be owner/)
          expect(await as('DELETE FROM history')).to.match(/permission denied/)
          expect(await as(`UPDATE history SET hash = '${'0'.repeat(64)}'`)).to.match(/permission denied/)
          expect(await as('TRUNCATE history_checkpoints')).to.match(/permission denied|append-only/)
        } finally {
          await t.close()
        }
      } finally {
        await owner.end()
        await db.drop()
        const admin = new Client({ connectionString: process.env.TEST_DATABASE_URL })
        await admin.connect()
        await admin.query(`DROP ROLE IF EXISTS ${role}`).catch(() => undefined)
        await admin.end()
      }
    })
  }
})
