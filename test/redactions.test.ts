import { expect } from 'chai'
import { createHash } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import ExcelJS from 'exceljs'
import { buildTestApp, migratedDatabase, TestApp, TestDatabase } from './helper'
import { entryHash } from '../src/register/records/journal'
import { exec } from './command'

type Row = Record<string, any>
const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex')


const NAME = 'Anna Bergström'
const EMAIL = 'anna.bergstrom@example.se'
const PHONE = '+46 70 123 45 67'

/** Every text of a workbook, cell by cell. */
async function workbookText(bytes: Buffer): Promise<string> {
  const workbook = new ExcelJS.Workbook()
  await workbook.xlsx.load(bytes as any)
  const out: string[] = []
  workbook.eachSheet((sheet) => sheet.eachRow((row) => row.eachCell((cell) => { out.push(cell.text) })))
  return out.join('\n')
}

/**
 * Erasure that keeps the proof (issue 21): a DPO's name and e-mail address, changed away from, are
 * redacted with four eyes from history and register versions; afterwards they appear in no output,
 * and the chain (online and offline), the version's hash and the redaction's own entry still hold.
 */
describe('redactions: erasing personal data from history and versions, the proof intact', function () {
  this.timeout(180_000)
  let t: TestApp
  let db: TestDatabase
  const dir = mkdtempSync(join(tmpdir(), 'ropa-redactions-'))
  const file = (name: string, content: string | Buffer): string => {
    const path = join(dir, name)
    writeFileSync(path, content)
    return path
  }
  const editor = (): Promise<string> => t.auth('editor', 'test', 'alice')
  const admin = (): Promise<string> => t.auth('admin', 'test', 'bertil')
  const otherAdmin = (): Promise<string> => t.auth('admin', 'test', 'cecilia')
  const reader = (): Promise<string> => t.auth('reader', 'test', 'auditor')
  let controllerId: string
  let purposeId: string
  let asOfMoment: string
  let contentHash: string
  let frozenFile: string

  /** Every output the issue lists, as text (the workbooks' cells read with exceljs). */
  async function everyOutput(): Promise<Record<string, string>> {
    const get = async (url: string, as?: string): Promise<string> => {
      const auth = as ?? await reader()
      const res = await t.http.get(url).set('authorization', auth).buffer(true).parse((r, cb) => {
        const chunks: Buffer[] = []
        r.on('data', (c: Buffer) => chunks.push(c))
        r.on('end', () => cb(null, Buffer.concat(chunks)))
      })
      expect(res.status, url).to.equal(200)
      const body = res.body as Buffer
      return /spreadsheetml/.test(String(res.headers['content-type'])) ? workbookText(body) : body.toString('utf8')
    }
    const asOf = encodeURIComponent(asOfMoment)
    const out: Record<string, string> = {
      history: await get('/api/v1/history?limit=500'),
      recordHistory: await get(`/api/v1/controllers/${controllerId}/history`),
      purposeHistory: await get(`/api/v1/purposes/${purposeId}/history`),
      changes: await get(`/api/v1/register/changes?since=${encodeURIComponent(new Date(0).toISOString())}`),
      backup: await get('/api/v1/register/backup', await admin()),
      report: await get('/api/v1/register/report'),
      reportSv: await get('/api/v1/register/report?lang=sv'),
      versions: await get('/api/v1/register/versions'),
    }
    for (const format of ['json', 'csv', 'xlsx']) {
      for (const lang of ['en', 'sv']) {
        out[`asOf ${format} ${lang}`] = await get(`/api/v1/register/export?format=${format}&lang=${lang}&asOf=${asOf}`)
        out[`version ${format} ${lang}`] = await get(`/api/v1/register/export?version=1&format=${format}&lang=${lang}`)
      }
    }
    out['version csv processor'] = await get('/api/v1/register/export?version=1&format=csv&record=processor')
    return out
  }

  before(async () => {
    db = await migratedDatabase()
    t = await buildTestApp({ DATABASE_URL: db.url })
    const controller = await t.http.post('/api/v1/controllers').set('authorization', await editor()).send({
      name: 'Haltea AB', email: 'info@haltea.se', dataProtectionOfficer: { name: NAME, email: EMAIL, phone: PHONE },
    }).expect(201)
    controllerId = controller.body.id
    // free text naming her, written by her own account (her subject is her address)
    const purpose = await t.http.post('/api/v1/purposes').set('authorization', await t.auth('editor', 'test', EMAIL))
      .send({ name: 'Kundtjänst', description: `Frågor besvaras av ${NAME} (${EMAIL})` }).expect(201)
    purposeId = purpose.body.id
    await t.http.post('/api/v1/processing-activities').set('authorization', await editor()).send({
      name: 'Kundtjänst', role: 'controller', controllerId, purposes: [{ purposeId }],
    }).expect(201)
    // a version frozen while she was the DPO, established, and its files rendered (and stored)
    const proposed = await t.http.post('/api/v1/register/versions').set('authorization', await editor()).send({ note: `Granskad av ${NAME}` }).expect(201)
    contentHash = proposed.body.contentHash
    await t.http.post('/api/v1/register/versions/1/approve').set('authorization', await admin()).send({}).expect(200)
    const frozen = await t.http.get('/api/v1/register/export?version=1&format=json').set('authorization', await reader()).expect(200)
    frozenFile = frozen.text
    expect(sha256(frozenFile)).to.equal(contentHash)
    await t.http.get('/api/v1/register/export?version=1&format=csv&lang=sv').set('authorization', await reader()).expect(200)
    asOfMoment = new Date().toISOString()
    await new Promise((r) => setTimeout(r, 5))
  })
  after(async () => {
    await t?.close()
    await db?.drop()
    rmSync(dir, { recursive: true, force: true })
  })

  it('is refused while the live register holds a value (409 naming the record), and for an editor (403)', async () => {
    const refused = await t.http.post('/api/v1/redactions').set('authorization', await admin()).send({ values: [EMAIL, NAME], reason: 'Art. 17 request 2026-14' })
    expect(refused.status).to.equal(409)
    expect(refused.body.code).to.equal('values_in_register')
    expect(refused.body.message).to.contain(controllerId)
    expect(refused.body.message).to.contain('Haltea AB')
    expect((await t.http.post('/api/v1/redactions').set('authorization', await editor()).send({ values: [EMAIL], reason: 'x' })).status).to.equal(403)
    expect((await t.http.get('/api/v1/redactions').set('authorization', await editor())).status).to.equal(403)
    // bad input names the field
    const bad = await t.http.post('/api/v1/redactions').set('authorization', await admin()).send({ values: ['ab'], reason: 'x' })
    expect(bad.status).to.equal(400)
    expect(JSON.stringify(bad.body)).to.contain('values')
  })

  it('erases the values everywhere once another admin approves, and the proof still holds', async () => {
    // the DPO leaves: the controller and the purpose are changed away from her
    await t.http.patch(`/api/v1/controllers/${controllerId}`).set('authorization', await editor())
      .send({ dataProtectionOfficer: { name: 'Karl Lind', email: 'dpo@haltea.se' } }).expect(200)
    await t.http.patch(`/api/v1/purposes/${purposeId}`).set('authorization', await editor()).send({ description: 'Frågor besvaras av dataskyddsombudet' }).expect(200)

    const outputsBefore = await everyOutput()
    expect(outputsBefore.history).to.contain(EMAIL)
    expect(outputsBefore['version json en']).to.contain(NAME)

    const proposed = await t.http.post('/api/v1/redactions').set('authorization', await admin()).send({ values: [EMAIL, NAME], reason: 'Art. 17 request 2026-14' })
    expect(proposed.status, JSON.stringify(proposed.body)).to.equal(201)
    expect(proposed.body).to.include({ status: 'proposed', proposedBy: 'bertil', reason: 'Art. 17 request 2026-14' })
    expect(proposed.body.occurrences.history).to.be.greaterThan(2)
    expect(proposed.body.occurrences.versions).to.equal(1)
    const id = proposed.body.id

    // four eyes: not by its proposer, not by an editor
    const alone = await t.http.post(`/api/v1/redactions/${id}/approve`).set('authorization', await admin()).send({})
    expect(alone.status).to.equal(403)
    expect((await t.http.post(`/api/v1/redactions/${id}/approve`).set('authorization', await editor()).send({})).status).to.equal(403)
    expect(JSON.stringify((await everyOutput()).history)).to.contain(EMAIL)

    const approved = await t.http.post(`/api/v1/redactions/${id}/approve`).set('authorization', await otherAdmin()).send({})
    expect(approved.status, JSON.stringify(approved.body)).to.equal(200)
    expect(approved.body).to.include({ status: 'applied', decidedBy: 'cecilia', values: null })
    expect(approved.body.fields).to.include('controller:/dataProtectionOfficer/email').and.include('actor')

    // nowhere any more: histories, changes, asOf and version exports in every format and language, backup, reports
    const outputs = await everyOutput()
    for (const [name, text] of Object.entries(outputs)) {
      expect(text, name).not.to.contain(EMAIL)
      expect(text, name).not.to.contain(NAME)
      expect(text, name).not.to.contain('anna.bergstrom')
    }
    expect(outputs.recordHistory).to.contain('[redacted]')
    expect(outputs['version csv sv']).to.contain('[raderad]').and.not.to.contain('[redacted]')
    expect(outputs['version json en']).to.contain('[redacted]')
    // what was not erased is still there
    expect(outputs.recordHistory).to.contain('Karl Lind')

    // the redaction is listed, without its values
    const listed = (await t.http.get('/api/v1/redactions').set('authorization', await admin()).expect(200)).body
    expect(listed.items).to.have.length(1)
    expect(listed.items[0]).to.include({ id, status: 'applied', values: null })

    // the chain verifies, with the erased entries counted
    const verified = (await t.http.get('/api/v1/history/verify').set('authorization', await reader()).expect(200)).body
    expect(verified, JSON.stringify(verified.firstBroken)).to.include({ valid: true })
    expect(verified.redacted).to.equal(approved.body.occurrences.history)

    // the version keeps its hash (the file handed out before is still shown to be it) and lists the redaction
    const version = (await t.http.get('/api/v1/register/versions/1').set('authorization', await reader()).expect(200)).body
    expect(version.contentHash).to.equal(contentHash).and.to.equal(sha256(frozenFile))
    expect(version.redactions).to.have.length(1)
    expect(version.redactions[0]).to.include({ id })
    expect(version.redactions[0].documentHash).to.equal(sha256(outputs['version json en']))
    expect(version.note).to.equal('Granskad av [redacted]')

    // the redaction is a history entry: who proposed and approved it, why, how many, where; never the values
    const entries = JSON.parse(outputs.history).items as Row[]
    const redaction = entries.find((h) => h.recordType === 'redaction')!
    expect(redaction).to.include({ operation: 'redact', actor: 'cecilia', recordId: id })
    expect(redaction.state).to.include({ proposedBy: 'bertil', approvedBy: 'cecilia', reason: 'Art. 17 request 2026-14' })
    expect(redaction.state.occurrences).to.deep.equal(approved.body.occurrences)
    expect(redaction.state.versions).to.deep.equal([{ number: 1, contentHash, documentHash: version.redactions[0].documentHash }])

    // a backup taken after the redaction verifies offline: ours and the independent verifier
    const keys = (await t.http.get('/api/v1/history/keys').expect(200)).body
    const backupFile = file('backup.json', outputs.backup)
    const keysFile = file('keys.json', JSON.stringify(keys))
    const ours = await exec('node', ['dist/src/cli/verify.js', backupFile, '--jwks', keysFile])
    expect(ours.code, ours.out).to.equal(0)
    expect(ours.out).to.match(/^valid: \d+ entries, .* \d+ entries redacted/)
    const independent = await exec('python3', ['test/independent-verifier.py', backupFile, keysFile])
    expect(independent.code, independent.out).to.equal(0)
    expect(independent.out.trim()).to.match(new RegExp(`^valid: \\d+ entries, \\d+ checkpoints, ${verified.redacted} redacted$`))

    // an erased value put back, or a kept value changed, breaks it; and no salt of an erased value is left to confirm a guess
    const backup = JSON.parse(outputs.backup)
    const i = backup.history.findIndex((h: Row) => h.redacted && h.recordType === 'controller')
    const erasedPaths = Object.keys(backup.history[i].redacted)
    expect(erasedPaths).to.include('/dataProtectionOfficer/email')
    expect(backup.history[i].saltKey).to.equal(undefined)
    for (const path of erasedPaths) expect(backup.history[i].salts).not.to.have.property(path)
    const restored = structuredClone(backup)
    const state = JSON.parse(restored.history[i].state)
    state.name = 'Haltea Holding AB'
    restored.history[i].state = JSON.stringify(state)
    const tampered = file('tampered.json', JSON.stringify(restored))
    const refused = await exec('node', ['dist/src/cli/verify.js', tampered, '--jwks', keysFile])
    expect(refused.code).to.equal(1)
    expect(refused.out.trim()).to.equal(`invalid: history[${i}]: the hash does not follow from the previous entry's hash and this entry's content`)
    expect((await exec('python3', ['test/independent-verifier.py', tampered, keysFile])).out.trim()).to.equal(`invalid: history[${i}]: hash does not follow`)

    // the erased value put back under its kept commitment: the redaction's entry says the entry read otherwise
    const putBack = structuredClone(backup)
    const dpo = JSON.parse(putBack.history[i].state)
    dpo.dataProtectionOfficer.email = EMAIL
    putBack.history[i].state = JSON.stringify(dpo)
    const unerased = file('unerased.json', JSON.stringify(putBack))
    const caught = await exec('node', ['dist/src/cli/verify.js', unerased, '--jwks', keysFile])
    expect(caught.code).to.equal(1)
    expect(caught.out.trim()).to.equal(`invalid: history[${i}]: the entry does not read as its redaction left it`)
    expect((await exec('python3', ['test/independent-verifier.py', unerased, keysFile])).out.trim()).to.equal(`invalid: history[${i}]: redacted, but not as a redaction entry states`)

    // the backup taken after the redaction restores into a fresh workspace, and keeps verifying there
    const restored2 = await t.http.post('/api/v1/register/import').set('authorization', await t.auth('admin', 'copy', 'bertil')).send(backup)
    expect(restored2.status, JSON.stringify(restored2.body)).to.equal(200)
    const copied = (await t.http.get('/api/v1/history/verify').set('authorization', await t.auth('reader', 'copy'))).body
    expect(copied, JSON.stringify(copied.firstBroken)).to.include({ valid: true, redacted: verified.redacted })
    expect((await t.http.get('/api/v1/register/versions/1').set('authorization', await t.auth('reader', 'copy'))).body.redactions).to.deep.equal(version.redactions)

    // the database allows the redaction's change and nothing else
    const q = (sql: string) => t.app.db.dataSource.query(sql).then(() => 'accepted', (err) => String(err))
    const seq = entries.find((h) => h.recordType === 'controller')!.seq
    expect(await q(`UPDATE history SET state = '{}' WHERE seq = ${redaction.seq}`)).to.match(/append-only/)
    expect(await q(`UPDATE history SET redacted = '{}', hash = '${'0'.repeat(64)}' WHERE seq = ${seq}`)).to.match(/append-only/)
    expect(await q(`UPDATE history SET redacted = '{}', operation = 'delete' WHERE seq = ${seq}`)).to.match(/append-only/)
    expect(await q(`DELETE FROM history WHERE seq = ${seq}`)).to.match(/append-only/)
    expect(await q(`UPDATE register_versions SET document = '{}' WHERE number = 1`)).to.match(/changes only by/)
    expect(await q(`UPDATE register_versions SET document = '{}', redactions = '[]', content_hash = '${'0'.repeat(64)}' WHERE number = 1`)).to.match(/changes only by/)

    // applied once: it cannot be approved or rejected again
    expect((await t.http.post(`/api/v1/redactions/${id}/reject`).set('authorization', await otherAdmin()).send({ reason: 'late' })).status).to.equal(409)

    // under the marker, the database lets state and actor change (a later redaction may erase more), but the chain does not
    const stored = (await t.app.db.dataSource.query(`SELECT state FROM history WHERE seq = ${seq}`))[0].state as string
    expect(await q(`UPDATE history SET state = '${stored.replace('[redacted]', 'mallory@example.se').replace(/'/g, "''")}' WHERE seq = ${seq}`)).to.equal('accepted')
    const broken = (await t.http.get('/api/v1/history/verify').set('authorization', await reader()).expect(200)).body
    expect(broken.valid).to.equal(false)
    expect(broken.firstBroken).to.include({ seq, reason: 'the entry does not read as its redaction left it' })
  })

  it('a rejected redaction keeps no values and changes nothing', async () => {
    const proposed = await t.http.post('/api/v1/redactions').set('authorization', await admin()).send({ values: ['Karl Lind'], reason: 'Fel person' })
    // Karl Lind is the DPO now: refused while live
    expect(proposed.status).to.equal(409)
    await t.http.patch(`/api/v1/purposes/${purposeId}`).set('authorization', await editor()).send({ description: 'Svar inom två dagar' }).expect(200)
    const other = await t.http.post('/api/v1/redactions').set('authorization', await admin()).send({ values: ['dataskyddsombudet'], reason: 'Test' }).expect(201)
    const rejected = await t.http.post(`/api/v1/redactions/${other.body.id}/reject`).set('authorization', await otherAdmin()).send({ reason: 'Inte en person' }).expect(200)
    expect(rejected.body).to.include({ status: 'rejected', values: null, rejectionReason: 'Inte en person' })
    const history = (await t.http.get(`/api/v1/purposes/${purposeId}/history`).set('authorization', await reader()).expect(200)).text
    expect(history).to.contain('dataskyddsombudet')
  })

  it('erases from entries written before commitments (scheme 1): taken at their hash, the chain still valid online and offline', async () => {
    const ws = 'legacy'
    const as = (role: 'reader' | 'editor' | 'admin', sub: string): Promise<string> => t.auth(role, ws, sub)
    await t.http.get('/api/v1/purposes').set('authorization', await as('reader', 'auditor')).expect(200)
    // two entries as the service wrote them before scheme 2: a controller with her as DPO, created by her, then deleted
    const source = t.app.db.dataSource
    const pg = source.options.type === 'postgres'
    const head = await source.query(`SELECT hash FROM history WHERE workspace_id = ${pg ? '$1' : '?'} ORDER BY seq DESC LIMIT 1`, [ws])
    let previous: string | null = head[0]?.hash ?? null
    const id = '6f1c2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b'
    const state = JSON.stringify({ id, name: 'Gamla AB', dataProtectionOfficer: { name: NAME, email: EMAIL }, version: 1, createdAt: '2025-01-01T00:00:00.000Z', updatedAt: '2025-01-01T00:00:00.000Z' })
    for (const [operation, at] of [['create', '2025-01-01T00:00:00.000Z'], ['delete', '2025-02-01T00:00:00.000Z']]) {
      const e = { recordType: 'controller', recordId: id, version: 1, operation, actor: EMAIL, at, state }
      previous = entryHash(previous, e)
      const p = (n: number) => (pg ? `$${n}` : '?')
      await source.query(`INSERT INTO history (workspace_id, record_type, record_id, version, operation, actor, at, state, hash, hash_version)
        VALUES (${[1, 2, 3, 4, 5, 6, 7, 8, 9].map(p).join(', ')}, 1)`, [ws, e.recordType, id, 1, operation, EMAIL, at, state, previous])
    }
    await t.http.post('/api/v1/purposes').set('authorization', await as('editor', 'alice')).send({ name: 'Bokföring' }).expect(201)
    expect((await t.http.get('/api/v1/history/verify').set('authorization', await as('reader', 'auditor')).expect(200)).body).to.include({ valid: true, redacted: 0 })

    const proposed = await t.http.post('/api/v1/redactions').set('authorization', await as('admin', 'bertil')).send({ values: [EMAIL, NAME], reason: 'Art. 17' }).expect(201)
    expect(proposed.body.occurrences).to.deep.equal({ history: 2, versions: 0 })
    await t.http.post(`/api/v1/redactions/${proposed.body.id}/approve`).set('authorization', await as('admin', 'cecilia')).send({}).expect(200)
    expect((await t.http.get('/api/v1/history/verify').set('authorization', await as('reader', 'auditor')).expect(200)).body).to.include({ valid: true, redacted: 2 })
    const history = (await t.http.get(`/api/v1/history?recordId=${id}`).set('authorization', await as('reader', 'auditor')).expect(200)).body.items as Row[]
    expect(history.map((h) => h.actor)).to.deep.equal(['[redacted]', '[redacted]'])
    expect(history[0].state.dataProtectionOfficer).to.deep.equal({ name: '[redacted]', email: '[redacted]' })

    const backup = (await t.http.get('/api/v1/register/backup').set('authorization', await as('admin', 'bertil')).expect(200)).text
    expect(backup).not.to.contain(EMAIL)
    const keysFile = file('legacy-keys.json', JSON.stringify((await t.http.get('/api/v1/history/keys').expect(200)).body))
    const backupFile = file('legacy.json', backup)
    const ours = await exec('node', ['dist/src/cli/verify.js', backupFile, '--jwks', keysFile])
    expect(ours.code, ours.out).to.equal(0)
    const independent = await exec('python3', ['test/independent-verifier.py', backupFile, keysFile])
    expect(independent.out.trim()).to.match(/^valid: \d+ entries, \d+ checkpoints, 2 redacted$/)
    // a scheme-1 entry's text changed under the marker: its redaction's entry says otherwise
    const doc = JSON.parse(backup)
    const i = doc.history.findIndex((h: Row) => h.recordId === id)
    doc.history[i].state = doc.history[i].state.replace('Gamla AB', 'Nya AB')
    const changed = await exec('node', ['dist/src/cli/verify.js', file('legacy-changed.json', JSON.stringify(doc)), '--jwks', keysFile])
    expect(changed.out.trim()).to.equal(`invalid: history[${i}]: the entry does not read as its redaction left it`)
  })

  it('with VERSIONS_FOUR_EYES=false (one-person organisations), the proposer approves alone', async () => {
    const solo = await buildTestApp({ VERSIONS_FOUR_EYES: 'false' })
    try {
      const only = await solo.auth('admin', 'test', 'bertil')
      const purpose = (await solo.http.post('/api/v1/purposes').set('authorization', only).send({ name: 'Kundtjänst', description: `Frågor till ${NAME}` }).expect(201)).body
      await solo.http.patch(`/api/v1/purposes/${purpose.id}`).set('authorization', only).send({ description: null }).expect(200)
      const proposed = (await solo.http.post('/api/v1/redactions').set('authorization', only).send({ values: [NAME], reason: 'Art. 17' }).expect(201)).body
      const applied = await solo.http.post(`/api/v1/redactions/${proposed.id}/approve`).set('authorization', only).send({})
      expect(applied.status, JSON.stringify(applied.body)).to.equal(200)
      expect(applied.body).to.include({ status: 'applied', proposedBy: 'bertil', decidedBy: 'bertil' })
      expect((await solo.http.get(`/api/v1/purposes/${purpose.id}/history`).set('authorization', only)).text).not.to.contain(NAME)
    } finally {
      await solo.close()
    }
  })
})
