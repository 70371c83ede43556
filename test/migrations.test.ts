import { expect } from 'chai'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { createDataSource, dataSourceOptions, dialectOf, migrationsDir } from '../src/db/data-source'
import { DataSource } from 'typeorm'
import { searchFold } from '../src/register/collation'
import { freshDatabase, TestDatabase } from './helper'

/** Upgrading must never lose a register: each migration keeps the rows written before it. */
describe('migrations', () => {
  let db: TestDatabase
  before(async () => { db = await freshDatabase() })
  after(async () => db.drop())

  it('keep every row written under the first schema when the later ones are applied', async () => {
    const dir = migrationsDir(dialectOf(db.url))
    const files = readdirSync(dir).filter((f) => f.endsWith('.js')).sort()
    expect(files.length).to.be.greaterThan(1)

    const first = new DataSource({ ...dataSourceOptions({ databaseUrl: db.url }), migrations: [join(dir, files[0])] } as any)
    await first.initialize()
    await first.runMigrations()
    const at = '2026-01-01T00:00:00.000Z'
    const ws = 'upgrade'
    const c = '00000000-0000-4000-8000-0000000000c1'
    const a = '00000000-0000-4000-8000-0000000000a1'
    const p = '00000000-0000-4000-8000-0000000000b1'
    const c2 = '00000000-0000-4000-8000-0000000000c2'
    const c3 = '00000000-0000-4000-8000-0000000000c3'
    await first.query(`INSERT INTO controllers (workspace_id, id, created_at, updated_at, version, name) VALUES ('${ws}', '${c}', '${at}', '${at}', 1, 'Clinic AB')`)
    await first.query(`INSERT INTO purposes (workspace_id, id, created_at, updated_at, version, name) VALUES ('${ws}', '${p}', '${at}', '${at}', 1, 'Care')`)
    // Swedish names, one typed in decomposed form: found and sorted after the upgrade
    await first.query(`INSERT INTO controllers (workspace_id, id, created_at, updated_at, version, name, address) VALUES ('${ws}', '${c2}', '${at}', '${at}', 1, '${'Örebro Läns Hälsocenter'.normalize('NFD')}', 'Årevägen 1, Åre')`)
    await first.query(`INSERT INTO controllers (workspace_id, id, created_at, updated_at, version, name) VALUES ('${ws}', '${c3}', '${at}', '${at}', 1, 'Zebra AB')`)
    await first.query(`INSERT INTO processing_activities (workspace_id, id, created_at, updated_at, version, name, role, controller_id, data_sources, systems, automated_decision_making, status)
      VALUES ('${ws}', '${a}', '${at}', '${at}', 1, 'Records', 'controller', '${c}', '[]', '[]', false, 'active')`)
    await first.query(`INSERT INTO activity_purposes (workspace_id, owner_id, position, purpose_id) VALUES ('${ws}', '${a}', 0, '${p}')`)
    await first.query(`INSERT INTO activity_joint_controllers (workspace_id, owner_id, position, controller_id) VALUES ('${ws}', '${a}', 0, '${c}')`)
    await first.destroy()

    const all = createDataSource({ databaseUrl: db.url })
    await all.initialize()
    try {
      const applied = await all.runMigrations()
      expect(applied.length).to.equal(files.length - 1)
      expect(await all.query(`SELECT name FROM processing_activities WHERE id = '${a}'`)).to.deep.equal([{ name: 'Records' }])
      expect((await all.query(`SELECT purpose_id FROM activity_purposes WHERE owner_id = '${a}'`)).map((r: any) => r.purpose_id)).to.deep.equal([p])
      expect((await all.query(`SELECT controller_id FROM activity_joint_controllers WHERE owner_id = '${a}'`)).length).to.equal(1)
      // search and sort keys were filled for the rows that were there
      const found = await all.query(`SELECT id FROM controllers WHERE workspace_id = '${ws}' AND search_text LIKE '%${searchFold('ÅREVÄGEN')}%'`)
      expect(found.map((r: any) => r.id)).to.deep.equal([c2])
      const sorted = await all.query(`SELECT id FROM controllers WHERE workspace_id = '${ws}' ORDER BY sort_key, id`)
      expect(sorted.map((r: any) => r.id)).to.deep.equal([c, c3, c2])
      const log = await all.driver.createSchemaBuilder().log()
      expect(log.upQueries.map((q) => q.query)).to.deep.equal([])
    } finally {
      await all.destroy()
    }
  })
})
