import { expect } from 'chai'
import { createHash } from 'node:crypto'
import { parse } from 'csv-parse/sync'
import { buildTestApp, TestApp } from './helper'
import { buildRegister, exportValidator, Fixture } from './export-fixture'

type Row = Record<string, any>

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex')

/** Established register versions: propose, approve as another admin, reject, supersede, download, compare. */
describe('register versions', () => {
  let t: TestApp
  let f: Fixture
  const editor = (): Promise<string> => t.auth('editor', 'test', 'alice')
  const admin = (): Promise<string> => t.auth('admin', 'test', 'carol')
  const otherAdmin = (): Promise<string> => t.auth('admin', 'test', 'dave')

  before(async () => {
    t = await buildTestApp()
    f = await buildRegister(t)
  })
  after(async () => t.close())

  const propose = (auth: string, body: Row = {}) => t.http.post('/api/v1/register/versions').set('authorization', auth).send(body)
  const approve = (n: number, auth: string, body: Row = {}) => t.http.post(`/api/v1/register/versions/${n}/approve`).set('authorization', auth).send(body)
  const reject = (n: number, auth: string, body: Row) => t.http.post(`/api/v1/register/versions/${n}/reject`).set('authorization', auth).send(body)

  /** The response body as bytes, whatever its type. */
  async function download(query: string) {
    const res = await t.http.get(`/api/v1/register/export?${query}`).set('authorization', await t.auth('reader'))
      .buffer(true).parse((r, cb) => {
        const chunks: Buffer[] = []
        r.on('data', (c: Buffer) => chunks.push(c))
        r.on('end', () => cb(null, Buffer.concat(chunks)))
      })
    return { res, bytes: res.body as Buffer }
  }

  const CSV_VARIANTS = [
    'format=csv', 'format=csv&lang=sv&delimiter=semicolon', 'format=csv&record=processor', 'format=csv&record=processor&lang=sv',
  ]

  describe('lifecycle', () => {
    let first: Row
    const liveCsv: Record<string, Buffer> = {}

    it('refuses a reader the proposal, and freezes the register for an editor: proposed, with counts, findings and the history head', async () => {
      expect((await propose(await t.auth('reader'))).status).to.equal(403)
      for (const q of CSV_VARIANTS) liveCsv[q] = (await download(q)).bytes
      const verified = (await t.http.get('/api/v1/history/verify').set('authorization', await t.auth('reader'))).body
      const res = await propose(await editor(), { note: 'Årlig genomgång' })
      expect(res.status, JSON.stringify(res.body)).to.equal(201)
      first = res.body
      expect(res.headers.location).to.equal(`/api/v1/register/versions/${first.number}`)
      expect(first).to.include({ number: 1, status: 'proposed', note: 'Årlig genomgång', proposedBy: 'alice', approvedBy: null })
      expect(first.contentHash).to.match(/^[0-9a-f]{64}$/)
      expect(first.historyHead).to.equal(verified.head)
      expect(first.counts).to.include({ controllerActivities: 2, processorActivities: 1, processingActivities: 3, controllers: 5, processors: 3 })
      const findings = (await t.http.get('/api/v1/register/findings').set('authorization', await t.auth('reader'))).body
      expect(first.findings.total).to.equal(findings.total)
      expect(first.findings.bySeverity).to.deep.equal(findings.counts)
      const byRule: Record<string, number> = {}
      for (const item of findings.items) byRule[item.rule] = (byRule[item.rule] ?? 0) + 1
      expect(first.findings.byRule).to.deep.equal(byRule)
    })

    it('lets neither an editor nor the proposing admin approve (four eyes); another admin approves', async () => {
      expect((await approve(1, await editor())).status).to.equal(403)
      const own = await propose(await admin())
      expect(own.status).to.equal(201)
      const refused = await approve(own.body.number, await admin())
      expect(refused.status).to.equal(403)
      expect(refused.body.message).to.contain('four eyes')
      expect((await t.http.get(`/api/v1/register/versions/${own.body.number}`).set('authorization', await t.auth('reader'))).body.status).to.equal('proposed')
      const ok = await approve(1, await otherAdmin(), { note: 'Fastställd av styrelsen' })
      expect(ok.status, JSON.stringify(ok.body)).to.equal(200)
      expect(ok.body).to.include({ number: 1, status: 'approved', approvedBy: 'dave', approvalNote: 'Fastställd av styrelsen', contentHash: first.contentHash })
      expect(Date.parse(ok.body.approvedAt)).to.be.closeTo(Date.now(), 60_000)
    })

    it('approves and rejects only a proposed version: an approved one cannot be rejected, a rejected one not approved', async () => {
      const approved = await reject(1, await otherAdmin(), { reason: 'För sent' })
      expect(approved.status).to.equal(409)
      expect(approved.body.code).to.equal('version_not_proposed')
      expect((await approve(1, await otherAdmin())).status).to.equal(409)
      expect((await reject(2, await editor(), { reason: 'x' })).status).to.equal(403)
      const blank = await reject(2, await otherAdmin(), {})
      expect(blank.status).to.equal(400)
      expect(new Set(blank.body.details.map((d: Row) => d.field))).to.deep.equal(new Set(['reason']))
      const rejected = await reject(2, await otherAdmin(), { reason: 'Lagringstid saknas' })
      expect(rejected.status).to.equal(200)
      expect(rejected.body).to.include({ status: 'rejected', rejectedBy: 'dave', rejectionReason: 'Lagringstid saknas' })
      expect((await approve(2, await editor())).status).to.equal(403)
      expect((await approve(2, await otherAdmin())).status).to.equal(409)
      expect((await approve(99, await otherAdmin())).status).to.equal(404)
      expect((await t.http.get('/api/v1/register/versions/99').set('authorization', await t.auth('reader'))).status).to.equal(404)
    })

    it('exports a version byte for byte on every download, whatever happens to the register since; the JSON\'s SHA-256 is contentHash', async () => {
      const json1 = await download('format=json&version=1')
      expect(json1.res.status).to.equal(200)
      expect(sha256(json1.bytes)).to.equal(first.contentHash)
      expect(json1.res.headers['content-disposition']).to.match(/filename="register-of-processing-activities-version-1-\d{4}-\d{2}-\d{2}\.json"/)
      const doc = JSON.parse(json1.bytes.toString('utf8'))
      expect(doc.record).to.equal('all')
      expect(doc.registerVersion).to.include({ number: 1, proposedBy: 'alice' })
      expect(doc.processingActivities.map((a: Row) => a.id).sort()).to.deep.equal(Object.values(f.activities).map((a) => a.id).sort())
      const validate = exportValidator()
      expect(validate(doc), JSON.stringify(validate.errors)).to.equal(true)
      const csv1: Record<string, Buffer> = {}
      for (const q of CSV_VARIANTS) {
        const { res, bytes } = await download(`${q}&version=1`)
        expect(res.status, q).to.equal(200)
        // the CSV of the version is the CSV the register gave when it was frozen, then the version's
        // proof after an empty record (test/proof.test.ts)
        expect(bytes.subarray(0, liveCsv[q].length).equals(liveCsv[q]), q).to.equal(true)
        expect(bytes.subarray(liveCsv[q].length).toString('utf8'), q).to.match(/^[,;]+\r\n(Proof of register version 1 |Bevis för registerversion 1 )/)
        csv1[q] = bytes
      }

      // the live register changes
      await t.http.patch(`/api/v1/processing-activities/${f.activities.records.id}`).set('authorization', await editor()).send({ name: 'Journalföring (ny)' })
      await t.http.post('/api/v1/controllers').set('authorization', await editor()).send({ name: 'Ny AB' })

      const again = await download('format=json&version=1')
      expect(again.bytes.equals(json1.bytes)).to.equal(true)
      expect(again.res.headers.etag).to.equal(`"${first.contentHash}"`)
      for (const q of CSV_VARIANTS) expect((await download(`${q}&version=1`)).bytes.equals(csv1[q]), q).to.equal(true)
      expect((await download('format=csv')).bytes.equals(liveCsv['format=csv'])).to.equal(false)
      // version=approved is version 1
      expect((await download('format=json&version=approved')).bytes.equals(json1.bytes)).to.equal(true)
      const sv = (await download('format=csv&lang=sv&delimiter=semicolon&version=approved')).bytes
      expect(parse(sv, { bom: true, delimiter: ';' })[0][0]).to.equal('Personuppgiftsansvarig')
    })

    it('filters the CSV of a version by controller, and refuses filters on its JSON and unknown versions', async () => {
      const one = await download(`format=csv&version=1&controllerId=${f.controllers.clinic.id}`)
      expect(one.res.status).to.equal(200)
      const records = parse(one.bytes, { bom: true }) as string[][]
      // the register's records end at the first empty one (the version's proof follows)
      const rows = records.slice(0, records.findIndex((r) => r.every((c) => c === '')))
      expect(rows.slice(1).map((r) => r[0])).to.deep.equal(['Klinik Östersund AB (556000-0001)', 'Klinik Östersund AB (556000-0001)'])
      const unknownController = await download('format=csv&version=1&controllerId=00000000-0000-4000-8000-000000000000')
      expect(unknownController.res.status).to.equal(400)
      const filtered = await download(`format=json&version=1&controllerId=${f.controllers.clinic.id}`)
      expect(filtered.res.status).to.equal(400)
      expect(JSON.parse(filtered.bytes.toString()).details[0].field).to.equal('query.controllerId')
      expect((await download('format=json&version=1&record=processor')).res.status).to.equal(400)
      expect((await download('format=json&version=1&asOf=2026-01-01T00:00:00Z')).res.status).to.equal(400)
      expect((await download('format=json&version=42')).res.status).to.equal(404)
      expect((await download('format=json&version=0')).res.status).to.equal(400)
    })

    it('supersedes the approved version when the next one is approved', async () => {
      const third = await propose(await editor(), { note: 'Efter ändringen' })
      expect(third.body.number).to.equal(3)
      expect(third.body.contentHash).to.not.equal(first.contentHash)
      const ok = await approve(3, await admin())
      expect(ok.body.status).to.equal('approved')
      const v1 = (await t.http.get('/api/v1/register/versions/1').set('authorization', await t.auth('reader'))).body
      expect(v1).to.include({ status: 'superseded', supersededBy: 3 })
      const latest = await download('format=json&version=approved')
      expect(sha256(latest.bytes)).to.equal(third.body.contentHash)
      expect(latest.res.headers['x-register-version']).to.equal('3')
      const list = (await t.http.get('/api/v1/register/versions').set('authorization', await t.auth('reader'))).body
      expect(list.items.map((v: Row) => [v.number, v.status])).to.deep.equal([[3, 'approved'], [2, 'rejected'], [1, 'superseded']])
      const approvedOnly = (await t.http.get('/api/v1/register/versions?status=approved').set('authorization', await t.auth('reader'))).body
      expect(approvedOnly.items.map((v: Row) => v.number)).to.deep.equal([3])
    })

    it('tells what changed between two versions, field by field', async () => {
      const added = await t.http.post('/api/v1/processing-activities').set('authorization', await editor())
        .send({ name: 'Nyhetsbrev', role: 'controller', controllerId: f.controllers.clinic.id })
      await t.http.delete(`/api/v1/processing-activities/${f.activities.marketing.id}`).set('authorization', await editor()).expect(204)
      const fourth = (await propose(await editor())).body
      const res = await t.http.get(`/api/v1/register/versions/${fourth.number}/changes?against=1`).set('authorization', await t.auth('reader'))
      expect(res.status, JSON.stringify(res.body)).to.equal(200)
      expect(res.body).to.include({ version: 4, against: 1, since: first.proposedAt, until: fourth.proposedAt })
      expect(res.body.added.map((a: Row) => [a.id, a.name, a.actor])).to.deep.equal([[added.body.id, 'Nyhetsbrev', 'alice']])
      expect(res.body.removed.map((a: Row) => a.id)).to.deep.equal([f.activities.marketing.id])
      expect(res.body.changed).to.have.length(1)
      expect(res.body.changed[0]).to.include({ id: f.activities.records.id, actor: 'alice' })
      expect(res.body.changed[0].fields).to.deep.equal([{ field: 'name', before: f.activities.records.name, after: 'Journalföring (ny)' }])
      // by default against the version before: 3 already had the rename
      const previous = (await t.http.get(`/api/v1/register/versions/${fourth.number}/changes`).set('authorization', await t.auth('reader'))).body
      expect(previous.against).to.equal(3)
      expect(previous.changed).to.deep.equal([])
      expect((await t.http.get(`/api/v1/register/versions/${fourth.number}/changes?against=77`).set('authorization', await t.auth('reader'))).status).to.equal(404)
      const odd = await t.http.get(`/api/v1/register/versions/${fourth.number}/changes?against=${encodeURIComponent("1' OR '1'='1")}`).set('authorization', await t.auth('reader'))
      expect(odd.status).to.equal(400)
      expect(JSON.stringify(odd.body.details)).to.contain('against')
      for (const bad of ['abc', '0', '-1', '1.5', '99999999999']) {
        const res = await t.http.get(`/api/v1/register/versions/${bad}`).set('authorization', await t.auth('reader'))
        expect(res.status, bad).to.equal(400)
        expect(res.body.code, bad).to.equal('validation_failed')
      }
    })

    it('records approvals, rejections and superseding in history, chained: who, when, the note or reason', async () => {
      const reader = await t.auth('reader')
      const entries = (await t.http.get('/api/v1/history?recordType=register-version').set('authorization', reader).expect(200)).body.items as Row[]
      // each proposal by its proposer; version 1 approved by dave; 2 rejected by dave; 3 approved by carol, superseding 1 (refused attempts left nothing)
      expect(entries.map((e) => [e.version, e.operation, e.actor])).to.deep.equal([[1, 'propose', 'alice'], [2, 'propose', 'carol'], [1, 'approve', 'dave'], [2, 'reject', 'dave'],
        [3, 'propose', 'alice'], [3, 'approve', 'carol'], [1, 'supersede', 'carol'], [4, 'propose', 'alice']])
      // the entries state the version as it reads, but for the checkpoint that signs them and the redactions applied since (none here)
      const versionsNow = new Map(((await t.http.get('/api/v1/register/versions').set('authorization', reader)).body.items as Row[]).map(({ checkpoint, redactions, ...v }) => {
        expect(redactions).to.deep.equal([])
        return [v.number, v]
      }))
      const proposed1 = entries[0]
      expect(proposed1.state).to.include({ number: 1, status: 'proposed', proposedBy: 'alice', contentHash: first.contentHash, approvedBy: null })
      const [approved1, rejected2, approved3, superseded1] = entries.filter((e) => e.operation !== 'propose')
      expect(approved1.state).to.include({ number: 1, status: 'approved', approvedBy: 'dave', approvalNote: 'Fastställd av styrelsen', contentHash: first.contentHash })
      expect(approved1.at).to.equal(approved1.state.approvedAt)
      expect(rejected2.state).to.include({ number: 2, status: 'rejected', rejectionReason: 'Lagringstid saknas' })
      expect(rejected2.at).to.equal(versionsNow.get(2)!.rejectedAt)
      expect(approved3.state).to.deep.equal(versionsNow.get(3))
      expect(superseded1.state).to.deep.equal(versionsNow.get(1))
      expect(superseded1.state).to.include({ status: 'superseded', supersededBy: 3 })
      expect(superseded1.at).to.equal(approved3.at)
      // each names the frozen document it is about
      for (const e of entries) expect(e.recordId.replace(/-/g, '')).to.equal(e.state.contentHash.slice(0, 32))
      const byRecord = (await t.http.get(`/api/v1/history?recordId=${approved1.recordId}`).set('authorization', reader)).body.items as Row[]
      expect(byRecord.map((e) => e.operation)).to.deep.equal(['propose', 'approve', 'supersede'])
      expect((await t.http.get('/api/v1/history?operation=reject').set('authorization', reader)).body.items.map((e: Row) => e.version)).to.deep.equal([2])
      // in the one chain: each entry's hash follows from the one before it, and the whole chain verifies
      const all = (await t.http.get('/api/v1/history?limit=500').set('authorization', reader)).body.items as Row[]
      const at = all.findIndex((e) => e.seq === superseded1.seq)
      expect(all[at - 1].seq).to.equal(approved3.seq)
      expect(all[at + 1], 'changes made after the approval follow it in the chain').to.not.equal(undefined)
      const verify = (await t.http.get('/api/v1/history/verify').set('authorization', reader)).body
      expect(verify).to.include({ valid: true, entries: all.length })
      expect(verify.head).to.equal(all[all.length - 1].hash)
      // the record history and the register's changes are not disturbed by them
      const changes = (await t.http.get(`/api/v1/register/changes?since=${encodeURIComponent(first.proposedAt)}`).set('authorization', reader)).body
      expect(changes.changed.map((c: Row) => c.id)).to.deep.equal([f.activities.records.id])
      const asOf = await download(`format=csv&asOf=${encodeURIComponent(new Date().toISOString())}`)
      expect(asOf.res.status).to.equal(200)
    })

    it('keeps workspaces apart', async () => {
      expect((await t.http.get('/api/v1/register/versions/1').set('authorization', await t.auth('reader', 'other'))).status).to.equal(404)
      expect((await t.http.get('/api/v1/register/export?format=json&version=approved').set('authorization', await t.auth('reader', 'other'))).status).to.equal(404)
    })
  })

  it('lets a one-person organisation approve its own version with VERSIONS_FOUR_EYES=false', async () => {
    const solo = await buildTestApp({ VERSIONS_FOUR_EYES: 'false' })
    try {
      const me = await solo.auth('admin', 'solo', 'ensam')
      await solo.http.post('/api/v1/purposes').set('authorization', me).send({ name: 'Bokföring' }).expect(201)
      const v = await solo.http.post('/api/v1/register/versions').set('authorization', me).send({})
      expect(v.status).to.equal(201)
      const ok = await solo.http.post(`/api/v1/register/versions/${v.body.number}/approve`).set('authorization', me).send({})
      expect(ok.status).to.equal(200)
      expect(ok.body).to.include({ status: 'approved', proposedBy: 'ensam', approvedBy: 'ensam' })
    } finally {
      await solo.close()
    }
  })
})
