import { expect } from 'chai'
import { createHash, generateKeyPairSync } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { compactVerify, createLocalJWKSet, decodeProtectedHeader } from 'jose'
import { parse } from 'csv-parse/sync'
import ExcelJS from 'exceljs'
import { buildTestApp, migratedDatabase, onPostgres, TestApp, TestDatabase } from './helper'
import { openInCalc, printedPages } from './libreoffice'
import { needTool, SOFFICE_TOOL } from './tools'
import { entryHash } from '../src/register/records/journal'
import { RegisterVersion } from '../entities'
import { exec } from './command'

type Row = Record<string, any>
const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex')


const dir = mkdtempSync(join(tmpdir(), 'ropa-proof-'))
const file = (name: string, content: string): string => {
  const path = join(dir, name)
  writeFileSync(path, content)
  return path
}
const signingKey = (): string => generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()

/**
 * Proof an outside auditor can check: signed checkpoints of the history's head, a backup that
 * verifies offline (our verifier and an independent one written from docs/verifying-history.md),
 * restores that an editor cannot use and that nobody can forge, and versions and checkpoints the
 * database itself keeps append-only.
 */
describe('proof of the register: checkpoints, offline verification, restores', function () {
  this.timeout(180_000)
  let t: TestApp
  let db: TestDatabase
  let backup: Row
  let keys: Row
  const keyFile = file('signing.pem', signingKey())
  const editor = (ws = 'test'): Promise<string> => t.auth('editor', ws, 'alice')
  const admin = (ws = 'test'): Promise<string> => t.auth('admin', ws, 'bertil')
  const reader = (ws = 'test'): Promise<string> => t.auth('reader', ws, 'auditor')
  const verify = async (ws: string): Promise<Row> => (await t.http.get('/api/v1/history/verify').set('authorization', await reader(ws)).expect(200)).body
  const importAs = (auth: string, doc: Row) => t.http.post('/api/v1/register/import').set('authorization', auth).send(doc)
  const versionsOf = async (ws: string): Promise<Row[]> => (await t.http.get('/api/v1/register/versions').set('authorization', await reader(ws)).expect(200)).body.items
  const takeBackup = async (ws: string): Promise<Row> => JSON.parse((await t.http.get('/api/v1/register/backup').set('authorization', await admin(ws)).expect(200)).text)
  const download = async (ws: string, query: string): Promise<Buffer> => {
    const res = await t.http.get(`/api/v1/register/export?${query}`).set('authorization', await reader(ws)).buffer(true).parse((r, cb) => {
      const chunks: Buffer[] = []
      r.on('data', (c: Buffer) => chunks.push(c))
      r.on('end', () => cb(null, Buffer.concat(chunks)))
    })
    expect(res.status, query).to.equal(200)
    return res.body as Buffer
  }
  const HEADING = { en: (n: number) => `Proof of register version ${n} (not a processing activity)`, sv: (n: number) => `Bevis för registerversion ${n} (ingen behandling)` }
  const LABEL = {
    en: { head: 'History head: hash', seq: 'History head: entry number (seq)', kid: 'Signed checkpoint: key (kid)', jws: 'Signed checkpoint: compact JWS (EdDSA)', hash: 'SHA-256 of the version\'s JSON document (contentHash)' },
    sv: { head: 'Historikens huvud: hash', seq: 'Historikens huvud: postnummer (seq)', kid: 'Signerad kontrollpunkt: nyckel (kid)', jws: 'Signerad kontrollpunkt: kompakt JWS (EdDSA)', hash: 'SHA-256 för versionens JSON-dokument (contentHash)' },
  }
  /**
   * A version CSV's records, parsed strictly (every record as wide as the header), and its proof:
   * the records after the first empty one, a heading and label → value.
   */
  const csvProof = (csv: Buffer, delimiter: ',' | ';'): { records: string[][]; end: number; heading: string; proof: Map<string, string> } => {
    const records = parse(csv, { bom: true, delimiter }) as string[][]
    const end = records.findIndex((r) => r.every((c) => c === ''))
    expect(end, 'the records end at an empty record').to.be.greaterThan(0)
    expect(records.every((r) => r.length === records[0].length)).to.equal(true)
    return { records, end, heading: records[end + 1][0], proof: new Map(records.slice(end + 2).map((r) => [r[0], r[1]])) }
  }

  before(async () => {
    db = await migratedDatabase()
    t = await buildTestApp({ DATABASE_URL: db.url, HISTORY_SIGNING_KEY_FILE: keyFile })
    for (const name of ['Fullgöra köpeavtal', 'Bokföring', 'Marknadsföring']) {
      await t.http.post('/api/v1/purposes').set('authorization', await editor()).send({ name }).expect(201)
    }
    const proposed = await t.http.post('/api/v1/register/versions').set('authorization', await editor()).send({ note: 'Årlig genomgång' })
    expect(proposed.status).to.equal(201)
    await t.http.post('/api/v1/register/versions/1/approve').set('authorization', await admin()).send({ note: 'Styrelsen § 12' }).expect(200)
    await t.http.post('/api/v1/purposes').set('authorization', await editor()).send({ name: 'Kundtjänst' }).expect(201)
    await t.http.post('/api/v1/register/versions').set('authorization', await editor()).send({}).expect(201)
    await t.http.post('/api/v1/register/versions/2/reject').set('authorization', await admin()).send({ reason: 'Lagringstid saknas' }).expect(200)
    keys = (await t.http.get('/api/v1/history/keys').expect(200)).body
    backup = await takeBackup('test')
  })
  after(async () => {
    await t?.close()
    await db?.drop()
    rmSync(dir, { recursive: true, force: true })
  })

  it('publishes its public keys without a token, and every checkpoint verifies with a JOSE library against them', async () => {
    expect(keys.keys).to.have.length(1)
    const [key] = keys.keys
    expect(key).to.include({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', use: 'sig' })
    expect(key).to.have.keys(['kty', 'crv', 'kid', 'x', 'alg', 'use'])
    // a checkpoint on demand: an editor may ask; the head is signed again only once it moved
    const made = await t.http.post('/api/v1/history/checkpoints').set('authorization', await editor())
    expect(made.status).to.be.oneOf([200, 201])
    await t.http.post('/api/v1/purposes').set('authorization', await editor()).send({ name: 'Rekrytering' }).expect(201)
    const fresh = await t.http.post('/api/v1/history/checkpoints').set('authorization', await editor())
    expect(fresh.status).to.equal(201)
    expect((await t.http.post('/api/v1/history/checkpoints').set('authorization', await editor())).status).to.equal(200)
    expect((await t.http.post('/api/v1/history/checkpoints').set('authorization', await reader())).status).to.equal(403)
    const checked = await verify('test')
    expect(fresh.body).to.include({ seq: checked.entries, head: checked.head, kid: key.kid })
    const page = (await t.http.get('/api/v1/history/checkpoints?limit=500').set('authorization', await reader()).expect(200)).body
    expect(page.items[0]).to.deep.equal(fresh.body)
    expect(page.items.length).to.be.at.least(5) // proposals, decisions, the backup, on demand
    const keySet = createLocalJWKSet(keys as any)
    for (const c of page.items) {
      const { payload, protectedHeader } = await compactVerify(c.jws, keySet, { algorithms: ['EdDSA'] })
      expect(protectedHeader).to.include({ alg: 'EdDSA', kid: key.kid })
      const claims = JSON.parse(new TextDecoder().decode(payload))
      expect(claims).to.have.keys(['ws', 'seq', 'head', 'iat'])
      expect(claims).to.include({ ws: 'test', seq: c.seq, head: c.head })
    }
    // the report's cover names the head and its checkpoint
    const report = (await t.http.get('/api/v1/register/report?lang=en').set('authorization', await reader()).expect(200)).text
    expect(report).to.contain(`Change history head (entry ${checked.entries}): ${checked.head}; signed checkpoint ${fresh.body.at}, key ${key.kid}`)
    const rapport = (await t.http.get('/api/v1/register/report?lang=sv').set('authorization', await reader()).expect(200)).text
    expect(rapport).to.contain(`Ändringshistorikens senaste hash (post ${checked.entries}): ${checked.head}; signerad kontrollpunkt`)
    // a signature changed by one character fails
    const [h64, p64, s64] = fresh.body.jws.split('.')
    const flipped = s64.slice(0, 10) + (s64[10] === 'A' ? 'B' : 'A') + s64.slice(11)
    const bad = `${h64}.${p64}.${flipped}`
    let refused = false
    await compactVerify(bad, keySet, { algorithms: ['EdDSA'] }).catch(() => { refused = true })
    expect(refused).to.equal(true)
  })

  it('makes a checkpoint when a version is proposed, approved or rejected: the version carries it, its file names the head and its checkpoint', async () => {
    const versions = await versionsOf('test')
    const entries = (await t.http.get('/api/v1/history?recordType=register-version').set('authorization', await reader()).expect(200)).body.items as Row[]
    expect(entries.map((e) => [e.version, e.operation, e.actor])).to.deep.equal([[1, 'propose', 'alice'], [1, 'approve', 'bertil'], [2, 'propose', 'alice'], [2, 'reject', 'bertil']])
    const keySet = createLocalJWKSet(keys as any)
    for (const v of versions) {
      const last = entries.filter((e) => e.version === v.number).pop()!
      // the version's checkpoint signs the head right after its latest step's entry
      expect(v.checkpoint.head).to.equal(last.hash)
      await compactVerify(v.checkpoint.jws, keySet, { algorithms: ['EdDSA'] })
      const { checkpoint, redactions, ...stated } = v
      expect(last.state).to.deep.equal(stated)
      expect(redactions).to.deep.equal([])
      const file = (await t.http.get(`/api/v1/register/export?format=json&version=${v.number}`).set('authorization', await reader()).buffer(true).expect(200)).text
      const frozen = JSON.parse(file).registerVersion
      expect(frozen.historyHead).to.equal(v.historyHead)
      expect(frozen.historyCheckpoint.head).to.equal(v.historyHead)
      await compactVerify(frozen.historyCheckpoint.jws, keySet, { algorithms: ['EdDSA'] })
    }
  })

  it('names the head each version froze and its signed checkpoint in its CSV and workbook, which verifies with a JOSE library against /history/keys', async () => {
    const keySet = createLocalJWKSet(keys as any)
    const signs = async (jws: string | undefined, v: Row): Promise<Row> => {
      const { payload } = await compactVerify(jws!, keySet, { algorithms: ['EdDSA'] })
      const claims = JSON.parse(new TextDecoder().decode(payload))
      expect(claims).to.include({ ws: 'test', head: v.historyHead })
      return claims
    }
    const versions = await versionsOf('test')
    expect(versions.map((v) => v.number)).to.deep.equal([2, 1])
    for (const v of versions) {
      expect(v.historyHead).to.match(/^[0-9a-f]{64}$/)
      for (const [lang, delimiter] of [['en', ','], ['sv', ';']] as const) {
        for (const record of ['controller', 'processor']) {
          const { heading, proof } = csvProof(await download('test', `format=csv&lang=${lang}&record=${record}&version=${v.number}`), delimiter)
          expect(heading).to.equal(HEADING[lang](v.number))
          const claims = await signs(proof.get(LABEL[lang].jws), v)
          expect(proof.get(LABEL[lang].head)).to.equal(v.historyHead)
          expect(proof.get(LABEL[lang].seq)).to.equal(String(claims.seq))
          // a kid is base64url: one that starts with '-' gets the apostrophe every CSV cell that could be a formula gets
          const kid = keys.keys[0].kid as string
          expect(proof.get(LABEL[lang].kid)).to.equal(kid.startsWith('-') ? `'${kid}` : kid)
          expect(proof.get(LABEL[lang].hash)).to.equal(v.contentHash)
        }
        // a filtered file, rendered each time, carries it too
        expect(csvProof(await download('test', `format=csv&lang=${lang}&status=active&version=${v.number}`), delimiter).proof.get(LABEL[lang].head)).to.equal(v.historyHead)
        const book = new ExcelJS.Workbook()
        await book.xlsx.load(await download('test', `format=xlsx&lang=${lang}&version=${v.number}`) as any)
        const last = book.worksheets[book.worksheets.length - 1]
        expect(last.name).to.equal(lang === 'en' ? 'Proof' : 'Bevis')
        expect(book.worksheets).to.have.length(5)
        const rows: string[][] = []
        last.eachRow((row) => { rows.push([row.getCell(1).text, row.getCell(2).text]) })
        expect(rows[0][0]).to.equal(HEADING[lang](v.number))
        const proof = new Map(rows.slice(1).map(([label, value]) => [label, value]))
        const claims = await signs(proof.get(LABEL[lang].jws), v)
        expect(proof.get(LABEL[lang].head)).to.equal(v.historyHead)
        expect(proof.get(LABEL[lang].seq)).to.equal(String(claims.seq))
      }
    }
  })

  describe('a version\'s proof as LibreOffice shows it', () => {
    before(function () { needTool(this, SOFFICE_TOOL) })

    it('opens the CSV with every record\'s cells in the header\'s columns and the proof label beside value, and prints the head and key of both files', async () => {
      const [v] = await versionsOf('test')
      for (const [lang, delimiter] of [['en', ','], ['sv', ';']] as const) {
        const csv = await download('test', `format=csv&lang=${lang}&version=${v.number}`)
        const { records, end } = csvProof(csv, delimiter)
        const calc = await openInCalc(csv, delimiter)
        const name = records[0].indexOf(lang === 'en' ? 'Processing activity' : 'Behandling')
        expect(name).to.be.greaterThan(-1)
        expect(calc.length, 'as many rows as records: the proof is rows of its own').to.equal(records.length)
        expect(calc[0]).to.deep.equal(records[0])
        for (let i = 1; i < end; i++) expect(calc[i][name], `row ${i + 1}`).to.equal(records[i][name])
        expect(calc[end].every((c) => c === '')).to.equal(true)
        expect(calc[end + 1][0]).to.equal(HEADING[lang](v.number))
        for (let i = end + 2; i < records.length; i++) {
          // (whether Calc shows a formula's apostrophe, as a kid starting with '-' would have, is Calc's affair)
          const text = (cells: string[]) => cells.slice(0, 2).map((c) => c.replace(/^'/, ''))
          expect(text(calc[i]), `row ${i + 1}`).to.deep.equal(text(records[i]))
          expect(calc[i].slice(2).every((c) => c === ''), `row ${i + 1}`).to.equal(true)
        }
        const printedCsv = (await printedPages(csv, delimiter)).join('\n')
        expect(printedCsv).to.contain(HEADING[lang](v.number)).and.contain(v.historyHead)
        const printedBook = await printedPages(await download('test', `format=xlsx&lang=${lang}&version=${v.number}`))
        const proofPage = printedBook.find((p) => p.replace(/\s+/g, ' ').includes(HEADING[lang](v.number)))
        expect(proofPage, 'a printed page of the proof sheet').to.not.equal(undefined)
        expect(proofPage).to.contain(v.historyHead).and.contain(keys.keys[0].kid).and.contain(LABEL[lang].jws)
        // the signature is printed whole (wrapped in its cell, not cut off at the page's edge); a line
        // may break after a '-' of it, which pdftotext then drops as a hyphen, and pdftotext may read
        // the label column's lines in between the signature's: its pieces, in the page's order, make it
        const jws = csvProof(csv, delimiter).proof.get(LABEL[lang].jws)!.replace(/-/g, '')
        // (however short a piece: the last line may hold a few characters, and a label's word may look like one)
        const words = proofPage!.split(/\s+/).map((t) => t.replace(/-/g, '')).filter((t) => t !== '')
        // pdftotext's reading order of a wrapped cell's lines beside another column's is its own: the
        // pieces may come in any order, each piece of the page used once
        const tried = new Set<number>()
        const used = new Set<number>()
        const makes = (at: number): boolean => {
          if (at === jws.length) return true
          if (tried.has(at)) return false
          tried.add(at)
          for (const [i, word] of words.entries()) {
            if (used.has(i) || !jws.startsWith(word, at)) continue
            used.add(i)
            if (makes(at + word.length)) return true
            used.delete(i)
          }
          return false
        }
        expect(makes(0), `the signature ${jws} (without '-') in pieces on the page:\n${proofPage}`).to.equal(true)
      }
    })
  })

  it('verifies a genuine backup offline (npm run verify, and an independent Python verifier), and names a changed entry', async () => {
    const backupFile = file('backup.json', JSON.stringify(backup))
    const keysFile = file('keys.json', JSON.stringify(keys))
    const ours = await exec('node', ['dist/src/cli/verify.js', backupFile, '--jwks', keysFile])
    expect(ours.code, ours.out).to.equal(0)
    expect(ours.out.trim()).to.match(new RegExp(`^valid: ${backup.history.length} entries, head ${backup.history[backup.history.length - 1].hash.slice(0, 16)}…, ${backup.checkpoints.length} checkpoints signed by ${keys.keys[0].kid}`))
    const independent = await exec('python3', ['test/independent-verifier.py', backupFile, keysFile])
    expect(independent.code, independent.out).to.equal(0)
    expect(independent.out.trim()).to.equal(`valid: ${backup.history.length} entries, ${backup.checkpoints.length} checkpoints`)

    // an entry changed: both name it
    const changed = structuredClone(backup)
    const i = changed.history.findIndex((h: Row) => h.operation === 'approve')
    changed.history[i].actor = 'mallory'
    const changedFile = file('changed.json', JSON.stringify(changed))
    const refused = await exec('node', ['dist/src/cli/verify.js', changedFile, '--jwks', keysFile])
    expect(refused.code).to.equal(1)
    expect(refused.out.trim()).to.equal(`invalid: history[${i}]: the hash does not follow from the previous entry's hash and this entry's content`)
    expect((await exec('python3', ['test/independent-verifier.py', changedFile, keysFile])).out.trim()).to.equal(`invalid: history[${i}]: hash does not follow`)

    // every hash recomputed after the change: the chain holds, but the signed head is gone
    let previous = changed.history[i - 1].hash
    for (const h of changed.history.slice(i)) previous = h.hash = entryHash(previous, h, h)
    const rechained = await exec('node', ['dist/src/cli/verify.js', file('rechained.json', JSON.stringify(changed)), '--jwks', keysFile])
    expect(rechained.code).to.equal(1)
    expect(rechained.out).to.match(/^invalid: checkpoints\[\d+\]: its head [0-9a-f]{12}… is not the chain's entry number \d+/)

    // a version's status changed: not what the chain says
    const promoted = structuredClone(backup)
    promoted.registerVersions[1].status = 'approved'
    promoted.registerVersions[1].approvedBy = 'bertil'
    const out = await exec('node', ['dist/src/cli/verify.js', file('promoted.json', JSON.stringify(promoted)), '--jwks', keysFile])
    expect(out.code).to.equal(1)
    expect(out.out).to.contain('invalid: registerVersions[1].status: is "approved", but the history')
    // keys from elsewhere: nothing verifies
    const strangers = file('strangers.json', JSON.stringify({ keys: [{ ...keys.keys[0], x: keys.keys[0].x.replace(/^./, (c: string) => (c === 'A' ? 'B' : 'A')) }] }))
    expect((await exec('node', ['dist/src/cli/verify.js', backupFile, '--jwks', strangers])).code).to.equal(1)
  })

  it('refuses an editor\'s forged restore (403, nothing written) and an admin\'s without a trusted checkpoint (400)', async () => {
    // the attack of the issue: one version "approved by bertil", its contentHash computed by hand
    const document = JSON.parse(backup.registerVersions[0].document)
    const text = JSON.stringify(document)
    const forged: Row = {
      ...Object.fromEntries(Object.entries(backup).filter(([k]) => !['history', 'registerVersions', 'checkpoints'].includes(k))),
      processingActivities: [], controllers: [], processors: [], purposes: [], legalBases: [], dataSubjectCategories: [], dataCategories: [],
      recipients: [], retentionRules: [], securityMeasures: [],
      registerVersions: [{ ...backup.registerVersions[0], status: 'approved', approvedBy: 'bertil', document: text, contentHash: sha256(text), checkpoint: null }],
    }
    const byEditor = await importAs(await editor('forged'), forged)
    expect(byEditor.status).to.equal(403)
    expect(byEditor.body.message).to.contain('admin role')
    expect((await importAs(await editor('forged'), { ...forged })).status).to.equal(403)
    expect(await versionsOf('forged')).to.deep.equal([])
    expect((await importAs(await editor('forged'), backup)).status, 'a genuine backup too needs an admin').to.equal(403)

    const byAdmin = await importAs(await admin('forged'), forged)
    expect(byAdmin.status).to.equal(400)
    expect(byAdmin.body.details.map((d: Row) => d.field)).to.deep.equal(['checkpoints'])
    expect(await versionsOf('forged')).to.deep.equal([])
    expect((await verify('forged')).entries).to.equal((await verify('fresh-empty')).entries)

    // the history with its checkpoints removed, or signed by a key this service does not trust
    const unsigned = { ...structuredClone(backup), checkpoints: [] }
    const res = await importAs(await admin('forged'), unsigned)
    expect(res.status).to.equal(400)
    expect(res.body.details[0].field).to.equal('checkpoints')
    const other = await buildTestApp({ HISTORY_SIGNING_KEY_FILE: file('other.pem', signingKey()) })
    try {
      await other.http.post('/api/v1/purposes').set('authorization', await other.auth('editor')).send({ name: 'Elsewhere' }).expect(201)
      const foreign = JSON.parse((await other.http.get('/api/v1/register/backup').set('authorization', await other.auth('admin')).expect(200)).text)
      const strange = await importAs(await admin('foreign'), foreign)
      expect(strange.status).to.equal(400)
      expect(strange.body.details[0]).to.deep.include({ field: 'checkpoints[0]' })
      expect(strange.body.details[0].message).to.contain('not trusted')
      // trusted once its keys are listed in HISTORY_TRUSTED_KEYS (moving a register between deployments)
      const theirKeys = file('their-keys.json', JSON.stringify((await other.http.get('/api/v1/history/keys').expect(200)).body))
      const trusting = await buildTestApp({ HISTORY_TRUSTED_KEYS: theirKeys })
      try {
        const moved = await trusting.http.post('/api/v1/register/import').set('authorization', await trusting.auth('admin', 'moved')).send(foreign)
        expect(moved.status, JSON.stringify(moved.body)).to.equal(200)
        expect((await trusting.http.get('/api/v1/history/verify').set('authorization', await trusting.auth('reader', 'moved'))).body.valid).to.equal(true)
      } finally {
        await trusting.close()
      }
    } finally {
      await other.close()
    }
  })

  it('refuses planted garbage with a 400 naming the entry, before anything is written', async () => {
    const cases: [string, (b: Row) => void, string][] = [
      ['a state that is not JSON', (b) => { b.history[17].state = '{not json' }, 'history[17].state'],
      ['a state of another record', (b) => { b.history[17].state = JSON.stringify({ ...JSON.parse(b.history[17].state), id: '00000000-0000-4000-8000-000000000000' }) }, 'history[17].state'],
      ['a record type nobody knows', (b) => { b.history[3].recordType = 'bank-account' }, 'history[3].recordType'],
      ['a time that is not one', (b) => { b.history[5].at = 'yesterday' }, 'history[5].at'],
      ['a version number above 2³¹', (b) => { b.registerVersions[0].number = 2 ** 31 }, 'registerVersions[0].number'],
      ['a version document that is not a register', (b) => { b.registerVersions[0].document = '{"hello":1}' }, 'registerVersions[0].document.format'],
      ['findings that are not counts', (b) => { b.registerVersions[1].findings = { total: 'many' } }, 'registerVersions[1].findings'],
      // a checkpoint made up with alg: none, for the head as it is
      ['an unsigned checkpoint', (b) => {
        const c = b.checkpoints[b.checkpoints.length - 1]
        const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url')
        c.jws = `${b64({ alg: 'none', kid: keys.keys[0].kid })}.${b64({ ws: 'test', seq: c.seq, head: c.head, iat: 1 })}.`
      }, `checkpoints[${backup.checkpoints.length - 1}]`],
    ]
    for (const [what, plant, field] of cases) {
      const planted = structuredClone(backup)
      plant(planted)
      const res = await importAs(await admin('planted'), planted)
      expect(res.status, what).to.equal(400)
      expect(res.body.details.map((d: Row) => d.field), what).to.include(field)
    }
    expect(await versionsOf('planted')).to.deep.equal([])
    expect((await t.http.get('/api/v1/history?limit=500').set('authorization', await reader('planted'))).body.items.every((e: Row) => e.actor === 'system')).to.equal(true)
  })

  it('restores a genuine backup into the token\'s workspace, whatever the backup names, and the restored register keeps verifying', async () => {
    const elsewhere = { ...structuredClone(backup), workspace: 'someone-else' }
    const res = await importAs(await admin('restored'), elsewhere)
    expect(res.status, JSON.stringify(res.body)).to.equal(200)
    expect((await versionsOf('restored')).map(({ number, status, contentHash, checkpoint }) => ({ number, status, contentHash, checkpoint })))
      .to.deep.equal((await versionsOf('test')).map(({ number, status, contentHash, checkpoint }) => ({ number, status, contentHash, checkpoint })))
    expect(await t.http.get('/api/v1/register/versions').set('authorization', await reader('someone-else')).then((r) => r.body.items)).to.deep.equal([])
    expect(await verify('restored')).to.include({ valid: true })
    // it goes on: a version proposed and approved after the restore
    await t.http.post('/api/v1/purposes').set('authorization', await editor('restored')).send({ name: 'Efter återställningen' }).expect(201)
    await t.http.post('/api/v1/register/versions').set('authorization', await editor('restored')).send({}).expect(201)
    await t.http.post('/api/v1/register/versions/3/approve').set('authorization', await admin('restored')).send({}).expect(200)
    // its own backup verifies offline, with both verifiers, and restores again (restores nest)
    const second = await takeBackup('restored')
    const secondFile = file('second.json', JSON.stringify(second))
    const keysFile = file('keys2.json', JSON.stringify(keys))
    const ours = await exec('node', ['dist/src/cli/verify.js', secondFile, '--jwks', keysFile])
    expect(ours.code, ours.out).to.equal(0)
    const independent = await exec('python3', ['test/independent-verifier.py', secondFile, keysFile])
    expect(independent.code, independent.out).to.equal(0)
    const again = await importAs(await admin('restored-twice'), second)
    expect(again.status, JSON.stringify(again.body)).to.equal(200)
    expect(await verify('restored-twice')).to.include({ valid: true })
    const third = await takeBackup('restored-twice')
    expect((await exec('node', ['dist/src/cli/verify.js', file('third.json', JSON.stringify(third)), '--jwks', keysFile])).code).to.equal(0)
  })

  it('restores a backup holding a proposal from before proposals were history entries, never decided: left out with an account, never as decided', async () => {
    const ws = 'legacy'
    for (const name of ['Lön', 'Bokföring']) await t.http.post('/api/v1/purposes').set('authorization', await editor(ws)).send({ name }).expect(201)
    await t.http.post('/api/v1/register/versions').set('authorization', await editor(ws)).send({ note: 'Första' }).expect(201)
    await t.http.post('/api/v1/register/versions/1/approve').set('authorization', await admin(ws)).send({}).expect(200)
    await t.http.post('/api/v1/purposes').set('authorization', await editor(ws)).send({ name: 'Kundtjänst' }).expect(201)
    // version 2 as the service proposed one before proposals were history entries: a row, no entry, no checkpoint
    const [first] = await versionsOf(ws)
    const { head } = await verify(ws)
    const frozen = JSON.parse((await download(ws, 'format=json&version=1')).toString('utf8'))
    frozen.registerVersion = { number: 2, proposedBy: 'alice', proposedAt: '2026-11-30T09:00:00.000Z', note: null, historyHead: head }
    const document = JSON.stringify(frozen)
    await t.app.db.write((m) => m.getRepository(RegisterVersion).insert({
      workspaceId: ws, number: 2, status: 'proposed', note: null, proposedBy: 'alice', proposedAt: '2026-11-30T09:00:00.000Z',
      approvedBy: null, approvedAt: null, approvalNote: null, rejectedBy: null, rejectedAt: null, rejectionReason: null, supersededAt: null, supersededBy: null,
      contentHash: sha256(document), historyHead: head, counts: JSON.stringify(first.counts), findings: JSON.stringify(first.findings), checkpoint: null, document,
    }))
    // its files name its head, and that nothing signed it
    const { proof } = csvProof(await download(ws, 'format=csv&lang=en&version=2'), ',')
    expect(proof.get(LABEL.en.head)).to.equal(head)
    expect(proof.get(LABEL.en.jws)).to.equal('none: the version was frozen before the service signed checkpoints')

    const legacy = await takeBackup(ws)
    expect(legacy.registerVersions.map((v: Row) => [v.number, v.status])).to.deep.equal([[1, 'approved'], [2, 'proposed']])
    const legacyFile = file('legacy.json', JSON.stringify(legacy))
    const keysFile = file('keys-legacy.json', JSON.stringify(keys))
    const ours = await exec('node', ['dist/src/cli/verify.js', legacyFile, '--jwks', keysFile])
    expect(ours.code, ours.out).to.equal(0)
    expect(ours.out).to.contain('2 register versions; unproven: version 2 (proposed before proposals were history entries, never decided')
    const independent = await exec('python3', ['test/independent-verifier.py', legacyFile, keysFile])
    expect(independent.code, independent.out).to.equal(0)

    const restored = await importAs(await admin('legacy-restored'), legacy)
    expect(restored.status, JSON.stringify(restored.body)).to.equal(200)
    expect(restored.body.leftOut).to.have.length(1)
    expect(restored.body.leftOut[0].path).to.equal('registerVersions[1]')
    expect(restored.body.leftOut[0].message).to.contain('version 2').and.contain('was not restored')
    expect((await versionsOf('legacy-restored')).map((v) => [v.number, v.status, v.approvedBy])).to.deep.equal([[1, 'approved', 'bertil']])
    expect(await verify('legacy-restored')).to.include({ valid: true })
    // a backup with nothing left out answers no leftOut
    expect((await importAs(await admin('legacy-one'), { ...legacy, registerVersions: legacy.registerVersions.slice(0, 1) })).body).to.not.have.property('leftOut')

    // never as decided: the same version claimed approved, or rejected, is refused, nothing written
    const decisions: Row[] = [
      { status: 'approved', approvedBy: 'bertil', approvedAt: '2026-12-01T09:00:00.000Z' },
      { status: 'rejected', rejectedBy: 'bertil', rejectedAt: '2026-12-01T09:00:00.000Z', rejectionReason: 'Nej' },
      { checkpoint: legacy.registerVersions[0].checkpoint },
    ]
    for (const decision of decisions) {
      const claimed = structuredClone(legacy)
      Object.assign(claimed.registerVersions[1], decision)
      const refused = await importAs(await admin('legacy-claimed'), claimed)
      expect(refused.status, JSON.stringify(decision)).to.equal(400)
      expect(refused.body.details[0].field).to.equal('registerVersions[1]')
      expect((await exec('node', ['dist/src/cli/verify.js', file('claimed.json', JSON.stringify(claimed)), '--jwks', keysFile])).code).to.equal(1)
    }
    expect(await versionsOf('legacy-claimed')).to.deep.equal([])
  })

  it('keeps old checkpoints verifiable after the signing key is rotated', async () => {
    const previous = file('previous-keys.json', JSON.stringify(keys))
    const rotated = await buildTestApp({ DATABASE_URL: db.url, HISTORY_SIGNING_KEY_FILE: file('new.pem', signingKey()), HISTORY_PREVIOUS_KEYS_FILE: previous })
    try {
      const published = (await rotated.http.get('/api/v1/history/keys').expect(200)).body
      expect(published.keys.map((k: Row) => k.kid)).to.have.length(2)
      expect(published.keys[1]).to.deep.equal(keys.keys[0])
      await rotated.http.post('/api/v1/purposes').set('authorization', await rotated.auth('editor')).send({ name: 'Efter bytet' }).expect(201)
      const made = await rotated.http.post('/api/v1/history/checkpoints').set('authorization', await rotated.auth('editor')).expect(201)
      expect(made.body.kid).to.equal(published.keys[0].kid)
      const all = (await rotated.http.get('/api/v1/history/checkpoints?limit=500').set('authorization', await rotated.auth('reader'))).body.items as Row[]
      const keySet = createLocalJWKSet(published)
      for (const c of all) await compactVerify(c.jws, keySet, { algorithms: ['EdDSA'] })
      expect(new Set(all.map((c) => decodeProtectedHeader(c.jws).kid)).size).to.equal(2)
      // the service itself checks old and new checkpoints alike
      expect((await rotated.http.get('/api/v1/history/verify').set('authorization', await rotated.auth('reader'))).body).to.include({ valid: true, checkpoints: all.length })
      // a backup now verifies offline with the published set, old and new checkpoints alike
      const rotatedBackup = JSON.parse((await rotated.http.get('/api/v1/register/backup').set('authorization', await rotated.auth('admin'))).text)
      const out = await exec('node', ['dist/src/cli/verify.js', file('rotated.json', JSON.stringify(rotatedBackup)), '--jwks', file('published.json', JSON.stringify(published))])
      expect(out.code, out.out).to.equal(0)
      // without the old key, the old checkpoints do not verify
      const onlyNew = file('only-new.json', JSON.stringify({ keys: [published.keys[0]] }))
      expect((await exec('node', ['dist/src/cli/verify.js', file('rotated2.json', JSON.stringify(rotatedBackup)), '--jwks', onlyNew])).code).to.equal(1)
    } finally {
      await rotated.close()
    }
  })

  it('finds a chain rewritten in the database with every hash recomputed, at the first signed checkpoint after the change', async () => {
    const other = await buildTestApp()
    try {
      const ed = await other.auth('editor')
      for (const name of ['Ett', 'Två', 'Tre']) await other.http.post('/api/v1/purposes').set('authorization', ed).send({ name }).expect(201)
      await other.http.post('/api/v1/history/checkpoints').set('authorization', ed).expect(201)
      await other.http.post('/api/v1/purposes').set('authorization', ed).send({ name: 'Fyra' }).expect(201)
      const entries = (await other.http.get('/api/v1/history?limit=500').set('authorization', await other.auth('reader'))).body.items as Row[]
      const signedAt = entries.length - 2
      const victim = entries[signedAt - 1]
      // as an attacker with the database would: lift the triggers, change an entry, recompute every hash after it
      const source = other.app.db.dataSource
      const sqlite = source.options.type !== 'postgres'
      await source.query(sqlite ? 'DROP TRIGGER history_append_only_update' : 'ALTER TABLE history DISABLE TRIGGER history_append_only')
      const p = (n: number) => (sqlite ? '?' : `$${n}`)
      let previous = entries[signedAt - 2].hash
      for (const h of entries.slice(signedAt - 1)) {
        const state = h.seq === victim.seq ? JSON.stringify({ ...h.state, name: 'Något annat' }) : JSON.stringify(h.state)
        // (scheme 1 needs no salts: the attacker downgrades the entries too)
        const hash = entryHash(previous, { ...h, state } as any)
        await source.query(`UPDATE history SET state = ${p(1)}, hash = ${p(2)}, hash_version = 1 WHERE seq = ${p(3)}`, [state, hash, h.seq])
        previous = hash
      }
      const checked = (await other.http.get('/api/v1/history/verify').set('authorization', await other.auth('reader'))).body
      expect(checked.valid).to.equal(false)
      expect(checked.firstBroken.seq).to.equal(entries[signedAt].seq)
      expect(checked.firstBroken.reason).to.match(/not the head signed by the checkpoint/)
    } finally {
      await other.close()
    }
  })

  it('keeps register versions and checkpoints append-only in the database; PostgreSQL refuses TRUNCATE', async () => {
    const q = (sql: string) => t.app.db.dataSource.query(sql)
    const refused = async (sql: string): Promise<string> => {
      try {
        await q(sql)
      } catch (err) {
        return String(err)
      }
      return 'accepted'
    }
    expect(await refused(`UPDATE register_versions SET approved_by = 'mallory' WHERE workspace_id = 'test' AND number = 1`)).to.match(/changes only by approval/)
    expect(await refused(`UPDATE register_versions SET status = 'approved', approved_by = 'mallory', approved_at = '2026-01-01T00:00:00.000Z', checkpoint = '{}' WHERE workspace_id = 'test' AND number = 2`)).to.match(/changes only by approval/)
    expect(await refused(`UPDATE register_versions SET document = '{}' WHERE workspace_id = 'test' AND number = 1`)).to.match(/changes only by approval/)
    expect(await refused(`DELETE FROM register_versions WHERE workspace_id = 'test'`)).to.match(/cannot be deleted/)
    expect(await refused(`UPDATE history_checkpoints SET head = '${'0'.repeat(64)}'`)).to.match(/append-only/)
    expect(await refused('DELETE FROM history_checkpoints')).to.match(/append-only/)
    if (onPostgres) {
      for (const table of ['history', 'register_versions', 'history_checkpoints']) {
        expect(await refused(`TRUNCATE ${table} CASCADE`), table).to.match(/TRUNCATE is refused/)
      }
    }
    expect((await versionsOf('test')).map((v) => [v.number, v.status, v.approvedBy])).to.deep.equal([[2, 'rejected', null], [1, 'approved', 'bertil']])
    expect(await verify('restored')).to.include({ valid: true })
  })
})
