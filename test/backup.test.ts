import { expect } from 'chai'
import { createHash } from 'node:crypto'
import { buildTestApp, TestApp } from './helper'
import { buildRegister, Fixture } from './export-fixture'

type Row = Record<string, any>

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex')

/**
 * The backup round trip: a workspace with register versions and history, backed up
 * (GET /register/backup) and imported into an empty workspace, keeps its versions (numbers,
 * statuses, contentHash, byte-identical exports) and a history chain that verifies, with every
 * historyHead the versions recorded.
 */
describe('register backup with history and versions', function () {
  this.timeout(120_000)
  let t: TestApp
  let f: Fixture
  let backup: Row
  const editor = (ws = 'test'): Promise<string> => t.auth('editor', ws, 'alice')
  const admin = (ws = 'test'): Promise<string> => t.auth('admin', ws, 'carol')
  const otherAdmin = (ws = 'test'): Promise<string> => t.auth('admin', ws, 'dave')
  const reader = (ws: string): Promise<string> => t.auth('reader', ws)

  const VARIANTS = ['format=json', 'format=csv', 'format=csv&lang=sv', 'format=csv&record=processor', 'format=xlsx']

  async function download(ws: string, query: string): Promise<Buffer> {
    const res = await t.http.get(`/api/v1/register/export?${query}`).set('authorization', await reader(ws)).buffer(true).parse((r, cb) => {
      const chunks: Buffer[] = []
      r.on('data', (c: Buffer) => chunks.push(c))
      r.on('end', () => cb(null, Buffer.concat(chunks)))
    })
    expect(res.status, `${ws} ${query}`).to.equal(200)
    return res.body as Buffer
  }
  const versionsOf = async (ws: string): Promise<Row[]> => (await t.http.get('/api/v1/register/versions').set('authorization', await reader(ws)).expect(200)).body.items
  const verify = async (ws: string): Promise<Row> => (await t.http.get('/api/v1/history/verify').set('authorization', await reader(ws)).expect(200)).body
  const history = async (ws: string): Promise<Row[]> => (await t.http.get('/api/v1/history?limit=500').set('authorization', await reader(ws)).expect(200)).body.items
  const importInto = async (ws: string, doc: Row) => t.http.post('/api/v1/register/import').set('authorization', await admin(ws)).send(doc)

  before(async () => {
    t = await buildTestApp()
    f = await buildRegister(t)
    const post = (path: string, auth: string, body: Row = {}) => t.http.post(`/api/v1/register/versions${path}`).set('authorization', auth).send(body)
    expect((await post('', await editor(), { note: 'Årlig genomgång' })).status).to.equal(201)
    expect((await post('/1/approve', await otherAdmin(), { note: 'Styrelsen § 12' })).status).to.equal(200)
    await t.http.patch(`/api/v1/processing-activities/${f.activities.records.id}`).set('authorization', await editor()).send({ name: 'Journalföring (ny)' }).expect(200)
    expect((await post('', await editor())).status).to.equal(201)
    expect((await post('/2/reject', await otherAdmin(), { reason: 'Lagringstid saknas' })).status).to.equal(200)
    expect((await post('', await editor())).status).to.equal(201)
    expect((await post('/3/approve', await admin())).status).to.equal(200)
  })
  after(async () => t?.close())

  it('backs up the register, its whole history as stored and every version with its frozen document (admin only)', async () => {
    expect((await t.http.get('/api/v1/register/backup').set('authorization', await t.auth('editor'))).status).to.equal(403)
    const res = await t.http.get('/api/v1/register/backup').set('authorization', await admin()).buffer(true)
    expect(res.status).to.equal(200)
    expect(res.headers['content-type']).to.equal('application/json; charset=utf-8')
    expect(res.headers['content-disposition']).to.match(/^attachment; filename="register-backup-\d{4}-\d{2}-\d{2}\.json"$/)
    backup = JSON.parse(res.text)
    expect(backup).to.include({ format: 'gdpr-art30-register', record: 'all', workspace: 'test' })
    expect(backup.processingActivities.map((a: Row) => a.id).sort()).to.deep.equal(Object.values(f.activities).map((a) => a.id).sort())
    const entries = await history('test')
    expect(backup.history.map((h: Row) => h.hash)).to.deep.equal(entries.map((h) => h.hash))
    expect(backup.history.map((h: Row) => JSON.parse(h.state))).to.deep.equal(entries.map((h) => h.state))
    expect(backup.registerVersions.map((v: Row) => [v.number, v.status])).to.deep.equal([[1, 'superseded'], [2, 'rejected'], [3, 'approved']])
    for (const v of backup.registerVersions) expect(sha256(Buffer.from(v.document, 'utf8'))).to.equal(v.contentHash)
  })

  it('imports into an empty workspace: the versions list, their exports and hashes, and the history chain all hold', async () => {
    const res = await importInto('restored', backup)
    expect(res.status, JSON.stringify(res.body)).to.equal(200)
    expect(res.body.created.processingActivities).to.equal(Object.keys(f.activities).length)

    // versions: the same list, field for field
    expect(await versionsOf('restored')).to.deep.equal(await versionsOf('test'))
    // every export of every version, byte for byte; the JSON's SHA-256 is its contentHash
    for (const v of backup.registerVersions) {
      for (const q of VARIANTS.filter((x) => x !== 'format=xlsx')) {
        const [before, after] = [await download('test', `${q}&version=${v.number}`), await download('restored', `${q}&version=${v.number}`)]
        expect(after.equals(before), `version ${v.number} ${q}`).to.equal(true)
      }
      expect(sha256(await download('restored', `format=json&version=${v.number}`))).to.equal(v.contentHash)
    }
    expect((await download('restored', 'format=json&version=approved')).equals(await download('test', 'format=json&version=approved'))).to.equal(true)

    // the chain verifies, every version's historyHead is in it
    const checked = await verify('restored')
    expect(checked).to.include({ valid: true, firstBroken: null })
    expect(checked.versionsWithoutHead).to.deep.equal([])
    const entries = await history('restored')
    const anchor = entries.findIndex((e) => e.recordType === 'history-restore')
    expect(entries[anchor]).to.deep.include({ operation: 'restore', actor: 'carol', version: backup.history.length })
    expect(entries[anchor].state).to.deep.equal({ workspace: 'test', entries: backup.history.length, head: backup.history[backup.history.length - 1].hash })
    // before it only the workspace's own catalogue; after it the backed-up entries, hashes and all; then the import's own writes
    expect(entries.slice(0, anchor).every((e) => e.actor === 'system' && e.recordType === 'legal-basis')).to.equal(true)
    const restored = entries.slice(anchor + 1, anchor + 1 + backup.history.length)
    expect(restored.map((e) => [e.hash, e.actor, e.operation, e.at])).to.deep.equal(backup.history.map((h: Row) => [h.hash, h.actor, h.operation, h.at]))
    // the closing entry names the anchor; then the import's own writes
    const closing = entries[anchor + 1 + backup.history.length]
    expect(closing).to.deep.include({ recordType: 'history-restore', operation: 'restored', actor: 'carol' })
    expect(closing.state).to.deep.equal({ anchor: entries[anchor].hash, head: backup.history[backup.history.length - 1].hash })
    expect(entries.slice(anchor + 2 + backup.history.length).every((e) => e.actor === 'carol' && e.operation === 'create')).to.equal(true)
    // the proposals, approvals and the rejection came along
    expect(restored.filter((e) => e.recordType === 'register-version').map((e) => [e.version, e.operation])).to.deep.equal([[1, 'propose'], [1, 'approve'], [2, 'propose'], [2, 'reject'], [3, 'propose'], [3, 'approve'], [1, 'supersede']])

    // the restored register is the register backed up
    const [a, b] = [JSON.parse((await download('test', 'format=json')).toString()), JSON.parse((await download('restored', 'format=json')).toString())]
    const names = (doc: Row) => doc.processingActivities.map((x: Row) => [x.id, x.name, x.status])
    expect(names(b)).to.deep.equal(names(a))

    // and it goes on: a change and a new version chain after the restored entries
    await t.http.patch(`/api/v1/processing-activities/${f.activities.records.id}`).set('authorization', await editor('restored')).send({ name: 'Journalföring 2027' }).expect(200)
    const next = await t.http.post('/api/v1/register/versions').set('authorization', await editor('restored')).send({})
    expect(next.body.number).to.equal(4)
    const after = await verify('restored')
    expect(after).to.include({ valid: true })
    // the head is the proposal's own entry, which the version's checkpoint signs
    expect(after.head).to.equal(next.body.checkpoint.head)
    expect(after.head).to.not.equal(next.body.historyHead)
  })

  it('finds a restored entry changed in the database afterwards', async () => {
    const entries = await history('restored')
    const victim = entries.find((e) => e.recordType === 'register-version' && e.operation === 'reject')!
    const db = t.app.db.dataSource
    const sqlite = db.options.type !== 'postgres'
    // lifting the append-only triggers, as an attacker with the database would first (this test's database is thrown away after)
    if (sqlite) await db.query('DROP TRIGGER IF EXISTS history_append_only_update')
    else await db.query('ALTER TABLE history DISABLE TRIGGER history_append_only')
    try {
      await db.query(sqlite ? 'UPDATE history SET actor = ? WHERE seq = ?' : 'UPDATE history SET actor = $1 WHERE seq = $2', ['mallory', victim.seq])
      const checked = await verify('restored')
      expect(checked.valid).to.equal(false)
      expect(checked.firstBroken.seq).to.equal(victim.seq)
    } finally {
      await db.query(sqlite ? 'UPDATE history SET actor = ? WHERE seq = ?' : 'UPDATE history SET actor = $1 WHERE seq = $2', ['dave', victim.seq])
      if (!sqlite) await db.query('ALTER TABLE history ENABLE TRIGGER history_append_only')
    }
    expect((await verify('restored')).valid).to.equal(true)
  })

  it('refuses a backup whose history or versions were changed, and a workspace that has a register of its own', async () => {
    const edited = structuredClone(backup)
    const i = edited.history.findIndex((h: Row) => h.operation === 'approve')
    edited.history[i].state = edited.history[i].state.replace('Styrelsen § 12', 'Styrelsen § 13')
    const res = await importInto('tampered', edited)
    expect(res.status).to.equal(400)
    expect(res.body.details.map((d: Row) => d.field)).to.deep.equal([`history[${i}]`])

    const forged = structuredClone(backup)
    forged.registerVersions[0].document = forged.registerVersions[0].document.replace('Årlig genomgång', 'Årlig genomgång!')
    const res2 = await importInto('tampered', forged)
    expect(res2.status).to.equal(400)
    expect(res2.body.details.map((d: Row) => d.field)).to.deep.equal(['registerVersions[0].contentHash'])
    // nothing of either was kept
    expect(await versionsOf('tampered')).to.deep.equal([])

    const again = await importInto('restored', backup)
    expect(again.status).to.equal(400)
    expect(again.body.details.map((d: Row) => d.field)).to.include.members(['history', 'registerVersions'])
  })
})
