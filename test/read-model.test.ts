import { expect } from 'chai'
import fc from 'fast-check'
import Fastify from 'fastify'
import { randomUUID } from 'node:crypto'
import { RESOURCE_OF, RESOURCES } from '../src/register/records/model'
import type { RecordType } from '../src/dto/shape'
import { toViews } from '../src/register/records/reads'
import { SERIALIZER_OPTIONS } from '../src/register/records/stored-views'
import { allSchemas } from '../src/register/records/view-schemas'
import { buildTestApp, TestApp, token } from './helper'

type Row = Record<string, any>

/**
 * The stored read model against the tables: after any sequence of creates, updates, renames and
 * deletes of every kind of record, each record's stored view is byte for byte what Fastify
 * serialises of the view computed from the tables, and GET sends exactly those bytes.
 */

const CATALOGUE: RecordType[] = ['controller', 'processor', 'purpose', 'data-subject-category', 'data-category', 'recipient', 'retention-rule', 'security-measure', 'legal-basis']

type Op =
  | { op: 'create'; type: RecordType; name: string; picks: number[] }
  | { op: 'activity'; name: string; picks: number[] }
  | { op: 'rename'; type: RecordType | 'processing-activity'; pick: number; name: string }
  | { op: 'relink'; pick: number; picks: number[] }
  | { op: 'delete'; type: RecordType | 'processing-activity'; pick: number }

const name = fc.stringMatching(/^[A-Za-zÅÄÖåäö][A-Za-zÅÄÖåäö0-9 ]{0,11}$/)
const picks = fc.array(fc.nat(50), { maxLength: 6 })
const anyType = fc.constantFrom<RecordType>(...CATALOGUE, 'processing-activity')
const ops: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('create' as const), type: fc.constantFrom(...CATALOGUE), name, picks }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('activity' as const), name, picks }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('rename' as const), type: anyType, pick: fc.nat(50), name }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('relink' as const), pick: fc.nat(50), picks }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('delete' as const), type: anyType, pick: fc.nat(50) }) },
)

/** Fastify's own serialisation of a view under its response schema, as a GET route would send it. */
async function fastifySerialiser(): Promise<(type: RecordType, view: Row) => Promise<string>> {
  const f = Fastify({ serializerOpts: SERIALIZER_OPTIONS })
  for (const s of allSchemas()) f.addSchema(s)
  let pending: Row = {}
  for (const def of RESOURCES) {
    f.post(`/${def.type}`, { schema: { response: { 200: { $ref: `${def.viewSchema}#` } } } }, async () => pending)
  }
  await f.ready()
  return async (type, view) => {
    pending = view
    return (await f.inject({ method: 'POST', url: `/${type}` })).body
  }
}

describe('stored read model', function () {
  this.timeout(600_000)
  let t: TestApp
  let serialise: (type: RecordType, view: Row) => Promise<string>

  before(async () => {
    t = await buildTestApp()
    serialise = await fastifySerialiser()
  })
  after(async () => t.close())

  /** Every stored view of the workspace equals the view computed from the tables, and GET answers with it. */
  async function checkWorkspace(ws: string): Promise<number> {
    let checked = 0
    for (const def of RESOURCES) {
      const rows: Row[] = await t.app.db.read((m) => m.getRepository(def.entity).createQueryBuilder('r')
        .addSelect('r.resolvedView').where('r.workspaceId = :ws', { ws }).orderBy('r.id').getMany())
      const computed = await t.app.db.read((m) => toViews(m, ws, def, rows))
      for (const [i, row] of rows.entries()) {
        const expected = await serialise(def.type, computed[i])
        expect(row.resolvedView, `${def.type} ${row.id}`).to.equal(expected)
        checked++
      }
      if (rows.length) {
        const res = await t.http.get(`/api/v1/${def.plural}/${rows[0].id}`).set('authorization', `Bearer ${await token('reader', ws)}`)
        expect(res.status).to.equal(200)
        expect(res.text).to.equal(rows[0].resolvedView)
        expect(res.headers.etag).to.equal(`"${rows[0].version}"`)
        const page = await t.http.get(`/api/v1/${def.plural}?sort=-name&limit=3`).set('authorization', `Bearer ${await token('reader', ws)}`)
        expect(page.status).to.equal(200)
        expect(JSON.parse(page.text).items.map((v: Row) => v.id)).to.have.length(Math.min(3, rows.length))
      }
    }
    return checked
  }

  async function run(ws: string, sequence: Op[]): Promise<void> {
    const admin = `Bearer ${await token('admin', ws)}`
    const have: Record<string, string[]> = Object.fromEntries([...CATALOGUE, 'processing-activity'].map((k) => [k, []]))
    const builtIns: string[] = (await t.http.get('/api/v1/legal-bases?builtIn=true&limit=5').set('authorization', admin)).body.items.map((l: Row) => l.id)
    const pickFrom = (list: string[], ps: number[]): string[] => (list.length ? [...new Set(ps.map((p) => list[p % list.length]))] : [])
    let codes = 0
    const send = async (method: 'post' | 'patch' | 'delete', path: string, body?: object): Promise<Row> => {
      const res = await t.http[method](`/api/v1/${path}`).set('authorization', admin).send(body)
      expect(res.status, `${method} ${path} ${JSON.stringify(body)}: ${res.text}`).to.be.oneOf([200, 201, 204, 409])
      return res
    }
    const activityLinks = (ps: number[]): Row => {
      const categories = pickFrom(have['data-category'], ps)
      const rules = pickFrom(have['retention-rule'], ps)
      const recipients = pickFrom(have.recipient, ps)
      return {
        jointControllerIds: pickFrom(have.controller, ps.slice(1)).filter((c) => c !== have.controller[0]),
        purposes: pickFrom(have.purpose, ps).map((purposeId, i) => ({ purposeId, legalBasisIds: pickFrom([...builtIns, ...have['legal-basis']], ps.slice(i)) })),
        dataSubjectCategoryIds: pickFrom(have['data-subject-category'], ps),
        dataCategoryIds: categories,
        recipientIds: recipients,
        processorIds: pickFrom(have.processor, ps),
        securityMeasureIds: pickFrom(have['security-measure'], ps),
        retention: rules.map((retentionRuleId) => ({ retentionRuleId, dataCategoryIds: categories.slice(0, 1) })),
        transfers: recipients.slice(0, 1).map((recipientId) => ({ country: 'US', recipientId, mechanism: 'A46-2-c' })),
      }
    }
    for (const step of sequence) {
      if (step.op === 'create') {
        const def = RESOURCE_OF[step.type]
        const body: Row = { name: step.name }
        if (step.type === 'data-category') body.classification = 'ordinary'
        if (step.type === 'security-measure') Object.assign(body, { type: 'technical', category: 'encryption' })
        if (step.type === 'processor') body.subProcessorIds = pickFrom(have.processor, step.picks)
        if (step.type === 'legal-basis') Object.assign(body, { code: `SE-TEST-${++codes}`, kind: 'national-law', articleReference: 'Testlag 1 §' })
        const res = await send('post', def.plural, body)
        have[step.type].push(res.body.id)
      } else if (step.op === 'activity') {
        if (!have.controller.length) have.controller.push((await send('post', 'controllers', { name: 'Personuppgiftsansvarig AB' })).body.id)
        const res = await send('post', 'processing-activities', { name: step.name, role: 'controller', controllerId: have.controller[0], ...activityLinks(step.picks) })
        have['processing-activity'].push(res.body.id)
      } else if (step.op === 'relink') {
        const [id] = pickFrom(have['processing-activity'], [step.pick])
        if (id) await send('patch', `processing-activities/${id}`, activityLinks(step.picks))
      } else {
        const [id] = pickFrom(have[step.type], [step.pick])
        if (!id) continue
        const path = `${RESOURCE_OF[step.type].plural}/${id}`
        if (step.op === 'rename') await send('patch', path, { name: step.name })
        else if ((await send('delete', path)).status === 204) have[step.type] = have[step.type].filter((x) => x !== id)
      }
    }
  }

  it('keeps every stored view equal to the view computed from the tables, whatever the sequence of changes', async () => {
    let checked = 0
    await fc.assert(fc.asyncProperty(fc.array(ops, { minLength: 5, maxLength: 30 }), async (sequence) => {
      const ws = `prop-${randomUUID().slice(0, 8)}`
      await run(ws, sequence)
      checked += await checkWorkspace(ws)
    }), { numRuns: 12 })
    expect(checked).to.be.greaterThan(50)
  })

  it('rewrites, in the same transaction, the views that show a renamed record', async () => {
    const ws = 'rename'
    const editor = `Bearer ${await token('editor', ws)}`
    const controller = await t.http.post('/api/v1/controllers').set('authorization', editor).send({ name: 'Klinik AB' })
    const purpose = await t.http.post('/api/v1/purposes').set('authorization', editor).send({ name: 'Vård' })
    const activity = await t.http.post('/api/v1/processing-activities').set('authorization', editor)
      .send({ name: 'Journal', role: 'controller', controllerId: controller.body.id, purposes: [{ purposeId: purpose.body.id }] })
    expect(activity.status).to.equal(201)
    expect((await t.http.patch(`/api/v1/purposes/${purpose.body.id}`).set('authorization', editor).send({ name: 'Hälso- och sjukvård' })).status).to.equal(200)
    const read = await t.http.get(`/api/v1/processing-activities/${activity.body.id}`).set('authorization', editor)
    expect(read.body.purposes[0].purpose.name).to.equal('Hälso- och sjukvård')
    expect(read.body.version).to.equal(1) // the activity itself did not change
    expect(await checkWorkspace(ws)).to.be.greaterThan(3)
  })
})

describe('read model: GET ones that arrive together', () => {
  let t: TestApp
  before(async () => { t = await buildTestApp() })
  after(async () => t.close())

  it('are each answered with their own record, version and 404, across kinds and workspaces', async () => {
    const created: { path: string; ws: string; body: string; etag: string }[] = []
    for (const ws of ['test', 'other-ws']) {
      for (const [path, name] of [['purposes', 'Lönehantering'], ['purposes', 'Bokföring'], ['recipients', 'Skatteverket']]) {
        const res = await t.app.inject({ method: 'POST', url: `/api/v1/${path}`, headers: { authorization: await t.auth('editor', ws) }, payload: { name: `${name} ${ws}` } })
        expect(res.statusCode, res.body).to.equal(201)
        const url = `/api/v1/${path}/${res.json().id}`
        const read = await t.app.inject({ method: 'GET', url, headers: { authorization: await t.auth('reader', ws) } })
        created.push({ path: url, ws, body: read.body, etag: String(read.headers.etag) })
      }
    }
    const missing = '/api/v1/purposes/00000000-0000-4000-8000-000000000000'
    // all at once: on PostgreSQL they are read together, by one statement per kind and workspace
    const asked = [...created, ...[...created].reverse(), { path: missing, ws: 'test', body: '', etag: '' },
      // a record asked for in a workspace it is not in
      { path: created[0].path, ws: created[0].ws === 'test' ? 'other-ws' : 'test', body: '', etag: '' }]
    const answers = await Promise.all(asked.map(async (a) => t.app.inject({ method: 'GET', url: a.path, headers: { authorization: await t.auth('reader', a.ws) } })))
    answers.forEach((res, i) => {
      if (!asked[i].body) {
        expect(res.statusCode, asked[i].path).to.equal(404)
        return
      }
      expect(res.statusCode).to.equal(200)
      expect(res.body).to.equal(asked[i].body)
      expect(res.headers.etag).to.equal(asked[i].etag)
    })
  })
})
