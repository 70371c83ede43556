import { expect } from 'chai'
import { randomUUID } from 'node:crypto'
import { get as httpGet } from 'node:http'
import { buildTestApp, TestApp, token } from './helper'

type Row = Record<string, any>

/**
 * A client that reads the response slowly: after the first chunk it waits until `goOn` resolves,
 * then it pauses after every chunk.
 */
function slowDownload(url: string, authorization: string, pauseMs: number, goOn: () => Promise<void>): Promise<string> {
  return new Promise((resolve, reject) => {
    httpGet(url, { headers: { authorization } }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => {
        chunks.push(chunk)
        res.pause()
        if (chunks.length === 1) void goOn().then(() => res.resume(), reject)
        else setTimeout(() => res.resume(), pauseMs)
      })
      res.on('end', () => (res.statusCode === 200 ? resolve(Buffer.concat(chunks).toString('utf8')) : reject(new Error(`status ${res.statusCode}`))))
      res.on('error', reject)
    }).on('error', reject)
  })
}

/** Every id an activity of the document refers to, by the document list that must hold it. */
function referencedIds(doc: Row): [string, string][] {
  const out: [string, string][] = []
  for (const a of doc.processingActivities) {
    out.push(['controllers', a.controller.id])
    for (const c of a.jointControllers) out.push(['controllers', c.id])
    for (const p of a.purposes) {
      out.push(['purposes', p.purpose.id])
      for (const l of p.legalBases) out.push(['legalBases', l.id])
    }
    for (const p of a.processors) out.push(['processors', p.id])
    for (const r of a.recipients) out.push(['recipients', r.id])
  }
  return out
}

describe('snapshots and writes that cannot be lost', function () {
  this.timeout(300_000)
  let t: TestApp
  let base: string

  before(async () => {
    t = await buildTestApp()
    base = await t.app.listen({ host: '127.0.0.1', port: 0 })
  })
  after(async () => t.close())

  it('a JSON export downloaded slowly while editors work is one self-contained document that imports cleanly', async () => {
    const ws = 'slow-export'
    const editor = `Bearer ${await token('editor', ws)}`
    const post = async (path: string, body: object): Promise<Row> => {
      const res = await t.http.post(`/api/v1/${path}`).set('authorization', editor).send(body)
      expect(res.status, res.text).to.equal(201)
      return res.body
    }
    const controller = await post('controllers', { name: 'Hudateljén AB' })
    const activities: Row[] = []
    for (let i = 0; i < 300; i++) {
      const purpose = await post('purposes', { name: `Ändamål ${i}` })
      activities.push(await post('processing-activities', {
        name: `Behandling ${i}`, role: 'controller', controllerId: controller.id, purposes: [{ purposeId: purpose.id }],
        description: 'Lång beskrivning '.repeat(60),
      }))
    }
    // another editor keeps moving activities to new purposes and deleting the ones no longer used
    let downloading = true
    let moves = 0
    const editing = (async () => {
      let k = 0
      while (downloading) {
        const a = activities[k++ % activities.length]
        const current = (await t.http.get(`/api/v1/processing-activities/${a.id}`).set('authorization', editor)).body
        const purpose = await post('purposes', { name: `Nytt ändamål ${k}` })
        const patched = await t.http.patch(`/api/v1/processing-activities/${a.id}`).set('authorization', editor).send({ purposes: [{ purposeId: purpose.id }] })
        expect(patched.status, patched.text).to.equal(200)
        for (const old of current.purposes) {
          expect((await t.http.delete(`/api/v1/purposes/${old.purpose.id}`).set('authorization', editor)).status).to.equal(204)
        }
        moves++
      }
    })()
    // the download has begun (its snapshot is taken) before the edits; it goes on while they do
    const afterSomeEdits = async (): Promise<void> => {
      while (moves < 5) await new Promise((resolve) => setTimeout(resolve, 20))
    }
    const text = await slowDownload(`${base}/api/v1/register/export?format=json`, `Bearer ${await token('reader', ws)}`, 15, afterSomeEdits)
    downloading = false
    await editing
    expect(moves, 'edits went on during the download').to.be.at.least(5)

    const doc = JSON.parse(text)
    expect(doc.processingActivities).to.have.length(300)
    const held = new Map<string, Set<string>>(['controllers', 'purposes', 'legalBases', 'processors', 'recipients'].map((k) => [k, new Set(doc[k].map((r: Row) => r.id))]))
    const dangling = referencedIds(doc).filter(([list, id]) => !held.get(list)!.has(id))
    expect(dangling, 'references to records the document does not hold').to.deep.equal([])

    const dryRun = await t.http.post('/api/v1/register/import?dryRun=true').set('authorization', `Bearer ${await token('editor', `empty-${randomUUID().slice(0, 8)}`)}`).send(doc)
    expect(dryRun.status, dryRun.text).to.equal(200)
    expect(dryRun.body.errors).to.deep.equal([])
    expect(dryRun.body.created.processingActivities).to.equal(300)
  })

  it('a DELETE racing an UPDATE of the same version: exactly one wins', async () => {
    const ws = 'race'
    const editor = `Bearer ${await token('editor', ws)}`
    const controller = (await t.http.post('/api/v1/controllers').set('authorization', editor).send({ name: 'Klinik AB' })).body
    for (let round = 0; round < 10; round++) {
      const a = (await t.http.post('/api/v1/processing-activities').set('authorization', editor)
        .send({ name: `Journal ${round}`, role: 'controller', controllerId: controller.id })).body
      const [del, patch] = await Promise.all([
        t.http.delete(`/api/v1/processing-activities/${a.id}`).set('authorization', editor).set('if-match', '"1"'),
        t.http.patch(`/api/v1/processing-activities/${a.id}`).set('authorization', editor).set('if-match', '"1"').send({ name: `Journal ${round} ändrad` }),
      ])
      const winners = [del.status === 204, patch.status === 200].filter(Boolean).length
      expect(winners, `DELETE ${del.status}, PATCH ${patch.status}`).to.equal(1)
      const after = await t.http.get(`/api/v1/processing-activities/${a.id}`).set('authorization', editor)
      if (del.status === 204) {
        expect(patch.status).to.be.oneOf([404, 412])
        expect(after.status).to.equal(404)
      } else {
        expect(del.status).to.equal(412)
        expect(after.body).to.include({ version: 2, name: `Journal ${round} ändrad` })
      }
    }
  })

  it('writes without If-Match are never answered 412, however they race', async () => {
    const ws = 'no-if-match'
    const editor = `Bearer ${await token('editor', ws)}`
    const purpose = (await t.http.post('/api/v1/purposes').set('authorization', editor).send({ name: 'Start' })).body
    const answers = await Promise.all(Array.from({ length: 12 }, (_, i) =>
      t.http.patch(`/api/v1/purposes/${purpose.id}`).set('authorization', editor).send({ description: `Ändring ${i}` })))
    expect(answers.map((a) => a.status)).to.deep.equal(answers.map(() => 200))
    const read = await t.http.get(`/api/v1/purposes/${purpose.id}`).set('authorization', editor)
    expect(read.body.version).to.equal(13)
    const history = await t.http.get(`/api/v1/purposes/${purpose.id}/history`).set('authorization', editor)
    expect(history.body.total).to.equal(13)
  })

  it('reads go on while a large import runs, and see the register before it or after it, never half', async () => {
    const ws = 'import-target'
    const editor = `Bearer ${await token('editor', ws)}`
    const reader = `Bearer ${await token('reader', ws)}`
    // a document of 1,500 activities: one exported activity, cloned under new ids
    const source = `Bearer ${await token('editor', 'import-source')}`
    const controller = (await t.http.post('/api/v1/controllers').set('authorization', source).send({ name: 'Importören AB' })).body
    expect((await t.http.post('/api/v1/processing-activities').set('authorization', source)
      .send({ name: 'Mall', role: 'controller', controllerId: controller.id, systems: ['Journalsystem'] })).status).to.equal(201)
    const doc = (await t.http.get('/api/v1/register/export?format=json').set('authorization', source)).body
    const [template] = doc.processingActivities
    doc.processingActivities = Array.from({ length: 1500 }, (_, i) => ({ ...template, id: randomUUID(), name: `Importerad behandling ${i}` }))
    let importing = true
    const imported = t.http.post('/api/v1/register/import').set('authorization', editor).send(doc)
      .then((res) => { importing = false; return res })
    const totals: number[] = []
    let duringImport = 0
    while (importing) {
      const [ready, page] = await Promise.all([
        t.http.get('/ready'),
        t.http.get('/api/v1/processing-activities?limit=5').set('authorization', reader),
      ])
      expect(ready.status).to.equal(200)
      expect(page.status).to.equal(200)
      if (importing) duringImport++
      totals.push(page.body.total)
    }
    const res = await imported
    expect(res.status, res.text).to.equal(200)
    expect(res.body.created.processingActivities).to.equal(1500)
    expect(duringImport, 'reads answered while the import ran').to.be.greaterThan(0)
    expect(totals.every((n) => n === 0 || n === 1500), `totals seen: ${[...new Set(totals)]}`).to.equal(true)
  })
})
