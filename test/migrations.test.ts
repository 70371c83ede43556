import { expect } from 'chai'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { createDataSource, dataSourceOptions, dialectOf, migrationsDir } from '../src/db/data-source'
import { DataSource } from 'typeorm'
import { searchFold } from '../src/register/wording/collation'
import { entryHash } from '../src/register/records/journal'
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
    // a row in every other table of the first schema
    const id = (n: number): string => `00000000-0000-4000-8000-0000000001${String(n).padStart(2, '0')}`
    const rec = `workspace_id, id, created_at, updated_at, version`
    const at2 = '2026-02-01T00:00:00.000Z'
    const vals = (n: number, version = 1): string => `'${ws}', '${id(n)}', '${at}', '${version === 1 ? at : at2}', ${version}`
    await first.query(`INSERT INTO processors (${rec}, name, country, service) VALUES (${vals(1)}, 'Molnet i Umeå AB', 'SE', 'Drift')`)
    await first.query(`INSERT INTO processors (${rec}, name) VALUES (${vals(2, 3)}, 'Underbiträde AB')`)
    await first.query(`INSERT INTO processor_sub_processors (workspace_id, owner_id, position, sub_processor_id) VALUES ('${ws}', '${id(1)}', 0, '${id(2)}')`)
    await first.query(`INSERT INTO legal_bases (${rec}, code, kind, article_reference, name, built_in) VALUES (${vals(3)}, 'SE-X', 'national-law', 'Lag (2000:1) 1 §', 'Lokal lag', false)`)
    await first.query(`INSERT INTO data_subject_categories (${rec}, name) VALUES (${vals(4)}, 'Patienter')`)
    await first.query(`INSERT INTO data_categories (${rec}, name, classification, special_category) VALUES (${vals(5)}, 'Hälsouppgifter', 'special', 'health')`)
    await first.query(`INSERT INTO recipients (${rec}, name, country) VALUES (${vals(6)}, 'Försäkringskassan', 'SE')`)
    await first.query(`INSERT INTO retention_rules (${rec}, name, period) VALUES (${vals(7)}, 'Journal', 'P10Y')`)
    await first.query(`INSERT INTO security_measures (${rec}, name, type, category) VALUES (${vals(8)}, 'Behörighet', 'technical', 'access-control')`)
    await first.query(`INSERT INTO activity_on_behalf_of_controllers (workspace_id, owner_id, position, controller_id) VALUES ('${ws}', '${a}', 0, '${c3}')`)
    await first.query(`INSERT INTO activity_purpose_legal_bases (workspace_id, owner_id, position, parent_position, legal_basis_id) VALUES ('${ws}', '${a}', 0, 0, '${id(3)}')`)
    await first.query(`INSERT INTO activity_data_subject_categories (workspace_id, owner_id, position, data_subject_category_id) VALUES ('${ws}', '${a}', 0, '${id(4)}')`)
    await first.query(`INSERT INTO activity_data_categories (workspace_id, owner_id, position, data_category_id) VALUES ('${ws}', '${a}', 0, '${id(5)}')`)
    await first.query(`INSERT INTO activity_recipients (workspace_id, owner_id, position, recipient_id) VALUES ('${ws}', '${a}', 0, '${id(6)}')`)
    await first.query(`INSERT INTO activity_processors (workspace_id, owner_id, position, processor_id) VALUES ('${ws}', '${a}', 0, '${id(1)}')`)
    await first.query(`INSERT INTO activity_transfers (workspace_id, owner_id, position, country, processor_id, mechanism) VALUES ('${ws}', '${a}', 0, 'US', '${id(1)}', 'A46-2-c')`)
    await first.query(`INSERT INTO activity_retention (workspace_id, owner_id, position, retention_rule_id) VALUES ('${ws}', '${a}', 0, '${id(7)}')`)
    await first.query(`INSERT INTO activity_retention_data_categories (workspace_id, owner_id, position, parent_position, data_category_id) VALUES ('${ws}', '${a}', 0, 0, '${id(5)}')`)
    await first.query(`INSERT INTO activity_security_measures (workspace_id, owner_id, position, security_measure_id) VALUES ('${ws}', '${a}', 0, '${id(8)}')`)
    const records = 3 + 1 + 8 + 1 // controllers, purpose, the eight above, the activity
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
      // every record got a first history entry: its state at the upgrade, by system, chained
      const history: Record<string, any>[] = await all.query(`SELECT * FROM history WHERE workspace_id = '${ws}' ORDER BY seq`)
      expect(history).to.have.length(records)
      expect(new Set(history.map((h) => `${h.record_type}:${h.record_id}`)).size).to.equal(records)
      expect(history.every((h) => h.actor === 'system')).to.equal(true)
      let previous: string | null = null
      for (const h of history) {
        const expected = entryHash(previous, { recordType: h.record_type, recordId: h.record_id, version: Number(h.version), operation: h.operation, actor: h.actor, at: h.at, state: h.state })
        expect(h.hash).to.equal(expected)
        previous = h.hash
      }
      const sub = history.find((h) => h.record_id === id(2))!
      expect(sub).to.include({ operation: 'update', at: at2 })
      expect(Number(sub.version)).to.equal(3)
      const activity = JSON.parse(history.find((h) => h.record_id === a)!.state)
      expect(activity.name).to.equal('Records')
      expect(activity.jointControllers.map((j: any) => j.id)).to.deep.equal([c])
      expect(activity.transfers[0].country).to.equal('US')
      // the DPIA screening's facts unanswered after the upgrade: the view and its filter column say undetermined
      const [stored] = await all.query(`SELECT resolved_view, dpia_screening FROM processing_activities WHERE id = '${a}'`)
      expect(stored.dpia_screening).to.equal('undetermined')
      expect(JSON.parse(stored.resolved_view)).to.deep.include({ riskFactors: null, individualProfessional: null, dataSubjectsApprox: null })
      expect(JSON.parse(stored.resolved_view).dpiaScreening.met).to.deep.equal(['WP248-4'])
      expect(JSON.parse(stored.resolved_view).dataSubjectCategories[0]).to.deep.equal({ id: id(4), name: 'Patienter', vulnerable: null })
      const log = await all.driver.createSchemaBuilder().log()
      expect(log.upQueries.map((q) => q.query)).to.deep.equal([])
    } finally {
      await all.destroy()
    }
  })

  it('keep the versions and their stored files when files are stored in parts (each is its part 0) and the document is put last', async () => {
    const fresh = await freshDatabase()
    try {
      const dir = migrationsDir(dialectOf(fresh.url))
      const files = readdirSync(dir).filter((f) => f.endsWith('.js')).sort()
      const parts = files.findIndex((f) => /-VersionFileParts\.js$/.test(f))
      expect(parts).to.be.greaterThan(0)
      const before = new DataSource({ ...dataSourceOptions({ databaseUrl: fresh.url }), migrations: files.slice(0, parts).map((f) => join(dir, f)) } as any)
      await before.initialize()
      await before.runMigrations()
      const gzip = gzipSync('{"registerVersion":1}\n').toString('base64')
      await before.query(`INSERT INTO register_version_files (workspace_id, number, file, rendered_at, bytes, gzip) VALUES ('upgrade', 1, 'json', '2026-01-01T00:00:00.000Z', 22, '${gzip}')`)
      await before.query(`INSERT INTO register_version_files (workspace_id, number, file, rendered_at, bytes, gzip) VALUES ('upgrade', 1, 'xlsx:sv', '2026-01-01T00:00:00.000Z', 5, 'AAAA')`)
      const version = {
        workspace_id: 'upgrade', number: 1, status: 'proposed', note: 'Årlig', proposed_by: 'alice', proposed_at: '2026-01-01T00:00:00.000Z', approved_by: null, approved_at: null,
        approval_note: null, rejected_by: null, rejected_at: null, rejection_reason: null, superseded_at: null, superseded_by: null, content_hash: 'ab'.repeat(32),
        history_head: 'cd'.repeat(32), counts: '{"processingActivities":1}', findings: '[]', document: '{"processingActivities":[]}\n', checkpoint: '{"seq":1}', redactions: null,
      }
      await before.query(`INSERT INTO register_versions (${Object.keys(version).join(', ')}) VALUES (${Object.keys(version).map((_, i) => (dialectOf(fresh.url) === 'postgres' ? `$${i + 1}` : '?')).join(', ')})`, Object.values(version))
      await before.destroy()
      const all = createDataSource({ databaseUrl: fresh.url })
      await all.initialize()
      try {
        await all.runMigrations()
        const rows = await all.query('SELECT workspace_id, number, file, part, rendered_at, bytes, gzip FROM register_version_files ORDER BY file')
        expect(rows.map((r: any) => ({ ...r, number: Number(r.number), part: Number(r.part), bytes: Number(r.bytes) }))).to.deep.equal([
          { workspace_id: 'upgrade', number: 1, file: 'json', part: 0, rendered_at: '2026-01-01T00:00:00.000Z', bytes: 22, gzip },
          { workspace_id: 'upgrade', number: 1, file: 'xlsx:sv', part: 0, rendered_at: '2026-01-01T00:00:00.000Z', bytes: 5, gzip: 'AAAA' },
        ])
        const [kept] = await all.query('SELECT * FROM register_versions')
        expect({ ...kept, number: Number(kept.number) }).to.deep.equal(version)
        // the append-only triggers are there still
        let refused = 0
        await all.query('UPDATE register_versions SET document = \'{}\'').catch(() => refused++)
        await all.query('DELETE FROM register_versions').catch(() => refused++)
        expect(refused).to.equal(2)
        expect((await all.query('SELECT document FROM register_versions'))[0].document).to.equal(version.document)
        if (dialectOf(fresh.url) === 'sqlite') {
          // a column after the document is found by walking its overflow pages: it is last
          const columns = (await all.query('PRAGMA table_info("register_versions")')).map((c: any) => c.name)
          expect(columns.slice(-3)).to.deep.equal(['checkpoint', 'redactions', 'document'])
        }
        const log = await all.driver.createSchemaBuilder().log()
        expect(log.upQueries.map((q) => q.query)).to.deep.equal([])
      } finally {
        await all.destroy()
      }
    } finally {
      await fresh.drop()
    }
  })
})
