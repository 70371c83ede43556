import { expect } from 'chai'
import fc from 'fast-check'
import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { RESOURCES, ResourceDef } from '../src/register/records/model'
import { patchSchemaName } from '../src/schemas/views'
import { buildTestApp, TestApp } from './helper'
import { buildRegister } from './export-fixture'

type Row = Record<string, any>
type Schema = Record<string, any>

/**
 * Property-based requests to every write endpoint, with bodies generated from the request schemas
 * of the committed OpenAPI document (valid-ish) and from mutations and garbage. Whatever comes in:
 * no 5xx, every error in the one error shape, and nothing stored from a rejected request.
 */
const OPENAPI = JSON.parse(readFileSync(join(__dirname, '..', '..', 'openapi', 'openapi.json'), 'utf8'))
const SCHEMAS: Record<string, Schema> = OPENAPI.components.schemas

/** Text that has broken services before: SQL and LIKE metacharacters, quotes, unicode, control characters. */
const NASTY = [
  "'; DROP TABLE controllers; --", "' OR '1'='1", '%', '_', '\\', '"', '`', '%_\\%', '\u0000', 'a\u0000b', '\ud800', '\udfff',
  '😀 Åsa Öberg', 'Ω≈ç√∫', '\u202eevil', '\uFEFF', '<script>alert(1)</script>', '=cmd|\' /C calc\'!A0', '@SUM(1+1)', '\r\n\t', ' ',
  'null', 'undefined', 'NaN', '{}', '[]', '../../etc/passwd', '..%2F', '$where', '{"$gt":""}',
]
const nasty = fc.constantFrom(...NASTY)
const text = (max = 60): fc.Arbitrary<string> => fc.oneof(
  { weight: 4, arbitrary: fc.string({ maxLength: Math.min(max, 40) }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: Math.min(max, 20) }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: Math.min(max, 20) }) },
  { weight: 2, arbitrary: nasty },
  { weight: 1, arbitrary: fc.constantFrom(max, max + 1, 3 * max + 7).map((n) => 'ö'.repeat(n)) },
)

/** Anything at all, where a field's schema says what it should be. */
const garbage: fc.Arbitrary<unknown> = fc.oneof(
  fc.anything({ maxDepth: 2, maxKeys: 3 }),
  nasty,
  fc.constantFrom(null, true, false, 0, -1, 1e308, Number.MAX_SAFE_INTEGER + 2, '', [], {}, [null], { id: null }),
  fc.constant('x'.repeat(100000)),
)

const DATE = fc.date({ min: new Date('1900-01-01'), max: new Date('2200-12-31'), noInvalidDate: true })

/** How values are drawn: `ids(field)` gives ids for a uuid field; noisy values now and then break the schema. */
interface Draw {
  ids: (field: string) => fc.Arbitrary<string>
  noisy: boolean
}

/**
 * A value of a JSON Schema from components.schemas: valid by the schema (clean), or mostly valid
 * with garbage, nasty text, over-long strings and unknown fields mixed in (noisy).
 */
function fromSchema(schema: Schema, draw: Draw, depth = 0, field = ''): fc.Arbitrary<unknown> {
  const valid = validOf(schema, draw, depth, field)
  return depth === 0 || !draw.noisy ? valid : fc.oneof({ weight: 12, arbitrary: valid }, { weight: 1, arbitrary: garbage })
}

function validOf(schema: Schema, draw: Draw, depth: number, field: string): fc.Arbitrary<unknown> {
  const { noisy } = draw
  if (schema.$ref) return fromSchema(SCHEMAS[String(schema.$ref).split('/').pop()!], draw, depth, field)
  if (schema.anyOf || schema.oneOf) return fc.oneof(...(schema.anyOf ?? schema.oneOf).map((s: Schema) => fromSchema(s, draw, depth, field)))
  if (schema.enum) return noisy ? fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...schema.enum) }, { weight: 1, arbitrary: text(20) }) : fc.constantFrom(...schema.enum)
  const types: string[] = Array.isArray(schema.type) ? schema.type : [schema.type ?? 'object']
  if (types.length > 1) {
    return fc.oneof(...types.map((type) => ({ weight: type === 'null' ? 1 : 4, arbitrary: validOf({ ...schema, type }, draw, depth, field) })))
  }
  const examples = schema.examples?.length ? [fc.constantFrom(...schema.examples)] : []
  const either = (clean: fc.Arbitrary<unknown>, ...dirty: fc.Arbitrary<unknown>[]): fc.Arbitrary<unknown> =>
    (noisy ? fc.oneof(clean, ...dirty) : clean)
  switch (types[0]) {
    case 'null': return fc.constant(null)
    case 'boolean': return fc.boolean()
    case 'integer': return either(fc.integer({ min: 0, max: 1000 }), fc.constantFrom(-1, 2 ** 31, -(2 ** 53)))
    case 'number': return fc.double()
    case 'array': {
      const item = fromSchema(schema.items ?? {}, draw, depth + 1, field)
      const list = schema.uniqueItems ? fc.uniqueArray(item, { maxLength: 3, selector: (v) => JSON.stringify(v) }) : fc.array(item, { maxLength: 3 })
      return either(list, item.map((i) => [i, i]))
    }
    case 'object': {
      if (depth > 3 || !schema.properties) return fc.dictionary(fc.string({ maxLength: 8 }), garbage, { maxKeys: 2 })
      const model = Object.fromEntries(Object.entries<Schema>(schema.properties).map(([k, s]) => [k, fromSchema(s, draw, depth + 1, k)]))
      const record = fc.record(model, { requiredKeys: schema.required ?? [] })
      // now and then a field no request class declares
      return either(record, fc.tuple(record, fc.constantFrom('colour', '__proto__', 'constructor', 'id', 'version'), garbage).map(([r, k, v]) => ({ ...(r as Row), [k]: v })))
    }
    case 'string': {
      switch (schema.format) {
        case 'uuid': return either(draw.ids(field), draw.ids(''), fc.uuid(), text(40))
        case 'email': return either(fc.constantFrom('dpo@example.se', 'åsa.öberg@klinik.se', 'a+b@c.io'), fc.emailAddress(), text(40))
        case 'url': return either(fc.constantFrom('https://example.se', 'http://klinik.se/integritet?x=1'), fc.webUrl(), text(40), fc.constantFrom('javascript:alert(1)', 'ftp://x.se', 'example.se'))
        case 'date': return either(DATE.map((d) => d.toISOString().slice(0, 10)), fc.constantFrom('2026-02-30', '2026-13-01', '99999-01-01'), text(12))
        case 'date-time': return either(DATE.map((d) => d.toISOString()), text(30))
      }
      if (schema.pattern === '^[A-Z]{2}$') return either(fc.constantFrom('SE', 'US', 'DE', 'NO'), fc.constantFrom('XX', 'se', 'SWE'), text(3))
      if (schema.pattern && schema.pattern !== '\\S') return either(fc.oneof(...examples, ...matching(schema.pattern, schema.maxLength)), text(schema.maxLength ?? 40))
      const max = schema.maxLength ?? 200
      return either(fc.oneof(...examples, fc.string({ unit: 'grapheme', minLength: 1, maxLength: Math.min(max, 30) }).filter((v) => /\S/u.test(v) && v.length <= max)), text(max))
    }
  }
  return garbage
}

/** Strings a pattern matches, where fast-check can generate them (not with lookaheads). */
function matching(pattern: string, maxLength = 64): fc.Arbitrary<string>[] {
  try {
    return [fc.stringMatching(new RegExp(pattern)).filter((v) => v.length <= maxLength)]
  } catch {
    return []
  }
}

/** A body as a client might send it: from the schema, garbage, or not even JSON. */
interface Body {
  payload: string
}
const asJson = (value: unknown): Body => ({ payload: JSON.stringify(value) ?? 'null' })
const RAW = ['', '{', '{"name": ', 'null', '"string"', '[]', '{"name":"x",}', '{"name":"x"}{"name":"y"}', 'NaN', '\u0000', '{"a":1e99999}', '{"name":"\\ud800"}']
function bodies(schemaName: string, ids: Draw['ids']): fc.Arbitrary<Body> {
  return fc.oneof(
    { weight: 6, arbitrary: fromSchema(SCHEMAS[schemaName], { ids, noisy: false }).map(asJson) },
    { weight: 6, arbitrary: fromSchema(SCHEMAS[schemaName], { ids, noisy: true }).map(asJson) },
    { weight: 2, arbitrary: garbage.map(asJson) },
    { weight: 1, arbitrary: fc.constantFrom(...RAW).map((payload) => ({ payload })) },
  )
}

const ROLES = fc.constantFrom('admin', 'admin', 'admin', 'editor', 'reader') as fc.Arbitrary<'admin' | 'editor' | 'reader'>
const IF_MATCH = fc.constantFrom(undefined, undefined, '"1"', '"2"', '*', 'W/"1"', '"x"', '1', "'; --")

const ERROR_KEYS = ['statusCode', 'error', 'code', 'message', 'requestId', 'details', 'references']

function expectOneErrorShape(status: number, body: Row, context: string): void {
  expect(Object.keys(body).every((k) => ERROR_KEYS.includes(k)), context).to.equal(true)
  expect(body.statusCode, context).to.equal(status)
  for (const key of ['error', 'code', 'message', 'requestId']) expect(body[key], `${key}: ${context}`).to.be.a('string')
  if (body.details !== undefined) {
    expect(body.details, context).to.be.an('array')
    for (const d of body.details) expect(Object.keys(d).sort(), context).to.deep.equal(['field', 'message'])
  }
}

describe('fuzz: generated requests to every write endpoint', () => {
  let t: TestApp
  let idsOf: Map<string, string[]>
  let allIds: string[]
  let baseDocument: Row
  let snapshotSql: string
  let requests = 0

  before(async () => {
    t = await buildTestApp()
    await buildRegister(t)
    idsOf = new Map()
    for (const def of RESOURCES) {
      const list = await t.http.get(`/api/v1/${def.plural}?limit=500`).set('authorization', t.auth('reader'))
      idsOf.set(def.plural, list.body.items.map((r: Row) => r.id))
    }
    allIds = [...idsOf.values()].flat()
    baseDocument = (await t.http.get('/api/v1/register/export?format=json').set('authorization', t.auth('reader'))).body
    // every table: row count, and the sum of versions where there are versions (an update without a new row)
    snapshotSql = t.app.db.dataSource.entityMetadatas.map((m) => {
      const version = m.columns.find((c) => c.propertyName === 'version')
      return `SELECT '${m.tableName}' AS t, COUNT(*) AS n, ${version ? `COALESCE(SUM(${version.databaseName}), 0)` : '0'} AS v FROM ${m.tableName}`
    }).join(' UNION ALL ')
  })
  after(async () => {
    await t.close()
  })

  const snapshot = async (): Promise<Record<string, string>> =>
    Object.fromEntries((await t.app.db.dataSource.query(snapshotSql) as Row[]).map((r) => [r.t, `${Number(r.n)}/${Number(r.v)}`]))
  const count = (s: Record<string, string>, table: string): number => Number(s[table].split('/')[0])

  const idArb = (def?: ResourceDef): fc.Arbitrary<string> => fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...(def ? idsOf.get(def.plural)! : allIds)) },
    { weight: 2, arbitrary: fc.constantFrom(...allIds) },
    { weight: 1, arbitrary: fc.uuid() },
  )
  /** Ids for a reference field, by its name (controllerId, legalBasisIds, …): stored records of that kind. */
  const REFERENCED: [RegExp, string][] = [
    [/^(controllerId|jointControllerIds|onBehalfOfControllerIds)$/, 'controllers'], [/^(processorId|processorIds|subProcessorIds)$/, 'processors'],
    [/^purposeId$/, 'purposes'], [/^legalBasisIds$/, 'legal-bases'], [/^dataSubjectCategoryIds$/, 'data-subject-categories'],
    [/^dataCategoryIds$/, 'data-categories'], [/^recipientIds?$/, 'recipients'], [/^retentionRuleId$/, 'retention-rules'], [/^securityMeasureIds$/, 'security-measures'],
  ]
  const idsFor = (field: string): fc.Arbitrary<string> => {
    const plural = REFERENCED.find(([re]) => re.test(field))?.[1]
    return plural ? fc.constantFrom(...idsOf.get(plural)!) : idArb()
  }

  /**
   * Sends one request and checks what every answer owes: below 500, an error in the one shape,
   * nothing stored when refused (and on a dry run), one record and one history entry per creation.
   */
  async function check(method: 'POST' | 'PUT' | 'PATCH', url: string, body: Body, role: string, ifMatch?: string, opts: { writesNothing?: boolean; table?: string } = {}): Promise<void> {
    const before = await snapshot()
    const res = await t.app.inject({
      method, url, payload: body.payload,
      headers: { authorization: t.auth(role as 'admin'), 'content-type': 'application/json', ...(ifMatch ? { 'if-match': ifMatch } : {}) },
    })
    requests++
    const context = `${method} ${url} ${role} if-match=${ifMatch} body=${body.payload.slice(0, 300)} → ${res.statusCode} ${res.body.slice(0, 300)}`
    // the server's own account of a 5xx, to find the cause
    const logged = res.statusCode >= 500 ? JSON.stringify(t.logs.find((l) => l.reqId === res.json().requestId && l.err)?.err ?? {}).slice(0, 1500) : ''
    expect(res.statusCode, `${context} ${logged}`).to.be.below(500)
    const after = await snapshot()
    if (res.statusCode >= 400) {
      expectOneErrorShape(res.statusCode, res.json(), context)
      expect(after, `nothing stored: ${context}`).to.deep.equal(before)
      return
    }
    if (opts.writesNothing) expect(after, `nothing stored: ${context}`).to.deep.equal(before)
    if (res.statusCode === 201) {
      expect(count(after, opts.table!) - count(before, opts.table!), context).to.equal(1)
      expect(count(after, 'history') - count(before, 'history'), context).to.equal(1)
    } else if (method !== 'POST' || url.endsWith('/review')) {
      expect(count(after, opts.table!), context).to.equal(count(before, opts.table!))
      expect(count(after, 'history') - count(before, 'history'), context).to.equal(1)
    }
  }

  it('found earlier: a nested non-ASCII e-mail address and a lower-case country code answer 201 and 400, not a 500 after storing', async () => {
    const processor = idsOf.get('processors')![0]
    const res = await t.app.inject({ method: 'PATCH', url: `/api/v1/processors/${processor}`, headers: { authorization: t.auth('editor') }, payload: { contact: { email: 'hudateljén@allavieclinic.com' } } })
    expect(res.statusCode, res.body).to.equal(200)
    expect(res.json().contact.email).to.equal('hudateljén@allavieclinic.com')
    const lower = await t.app.inject({ method: 'PATCH', url: `/api/v1/processors/${processor}`, headers: { authorization: t.auth('editor') }, payload: { country: 'se' } })
    expect(lower.statusCode).to.equal(400)
    expect(lower.json().details).to.deep.equal([{ field: 'country', message: 'country must be an ISO 3166-1 alpha-2 country code such as SE or US' }])
  })

  for (const def of RESOURCES) {
    it(`POST, PUT and PATCH /api/v1/${def.plural}: 400 runs`, async function () {
      this.timeout(60000)
      const table = t.app.db.dataSource.getMetadata(def.entity).tableName
      const op = fc.oneof(
        fc.record({ method: fc.constant('POST' as const), body: bodies(def.writeSchema, idsFor), role: ROLES }),
        fc.record({ method: fc.constant('PUT' as const), id: idArb(def), body: bodies(def.writeSchema, idsFor), role: ROLES, ifMatch: IF_MATCH }),
        fc.record({ method: fc.constant('PATCH' as const), id: idArb(def), body: bodies(patchSchemaName(def.writeSchema), idsFor), role: ROLES, ifMatch: IF_MATCH }),
      )
      await fc.assert(fc.asyncProperty(op, async (o) => {
        const url = `/api/v1/${def.plural}${'id' in o ? `/${o.id}` : ''}`
        await check(o.method, url, o.body, o.role, 'ifMatch' in o ? o.ifMatch : undefined, { table })
      }), { numRuns: 400 })
    })
  }

  it('POST /api/v1/processing-activities/{id}/review: 400 runs', async function () {
    this.timeout(60000)
    const op = fc.record({ id: idArb(RESOURCES.find((d) => d.plural === 'processing-activities')), body: bodies('ReviewWrite', idsFor), role: ROLES, ifMatch: IF_MATCH })
    await fc.assert(fc.asyncProperty(op, async (o) => {
      await check('POST', `/api/v1/processing-activities/${o.id}/review`, o.body, o.role, o.ifMatch, { table: 'processing_activities' })
    }), { numRuns: 400 })
  })

  it('POST /api/v1/register/import with mutated and generated documents: 700 runs, dry runs write nothing', async function () {
    this.timeout(90000)
    const paths = leafPaths(baseDocument)
    const mutation = fc.record({
      path: fc.constantFrom(...paths),
      kind: fc.constantFrom('set', 'set', 'set', 'delete', 'duplicate', 'new-id'),
      value: fc.oneof(garbage, nasty, fc.constantFrom(...allIds), fc.uuid()),
    })
    const mutated = fc.array(mutation, { minLength: 1, maxLength: 4 }).map((ms) => asJson(mutate(baseDocument, ms)))
    const importBody = (OPENAPI.paths['/api/v1/register/import'].post.requestBody.content['application/json'].schema) as Schema
    const generated = fromSchema(importBody, { ids: idsFor, noisy: true }).map(asJson)
    const op = fc.record({
      body: fc.oneof({ weight: 8, arbitrary: mutated }, { weight: 2, arbitrary: generated }, { weight: 1, arbitrary: garbage.map(asJson) }),
      dryRun: fc.boolean(),
      role: ROLES,
    })
    await fc.assert(fc.asyncProperty(op, async (o) => {
      await check('POST', `/api/v1/register/import${o.dryRun ? '?dryRun=true' : ''}`, o.body, o.role, undefined, { writesNothing: o.dryRun })
    }), { numRuns: 700 })
    // the service is still whole: the unmutated document imports into a fresh workspace
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/register/import', headers: { authorization: t.auth('admin', 'after-fuzz') }, payload: baseDocument })
    expect(res.statusCode, res.body.slice(0, 500)).to.equal(200)
    expect(res.json().created.processingActivities).to.equal(baseDocument.processingActivities.length)
    expect(requests).to.be.at.least(5000)
  })
})

/** Every path in a document down to its leaves (and each array element), as lists of keys. */
function leafPaths(doc: unknown, at: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  if (doc !== null && typeof doc === 'object') {
    if (at.length) out.push(at)
    for (const [k, v] of Object.entries(doc)) leafPaths(v, [...at, Array.isArray(doc) ? Number(k) : k], out)
  } else {
    out.push(at)
  }
  return out
}

interface Mutation {
  path: (string | number)[]
  kind: string
  value: unknown
}

/** A copy of the document with each mutation applied at its path. */
function mutate(doc: Row, mutations: Mutation[]): Row {
  const copy = structuredClone(doc)
  for (const { path, kind, value } of mutations) {
    let parent: any = copy
    for (const key of path.slice(0, -1)) {
      parent = parent?.[key]
      if (parent === null || typeof parent !== 'object') break
    }
    if (parent === null || typeof parent !== 'object') continue
    const key = path[path.length - 1]
    if (kind === 'delete') {
      if (Array.isArray(parent)) parent.splice(Number(key), 1)
      else delete parent[key]
    } else if (kind === 'duplicate' && Array.isArray(parent)) {
      parent.push(structuredClone(parent[Number(key)]))
    } else if (kind === 'new-id' && parent[key] && typeof parent[key] === 'object' && 'id' in parent[key]) {
      parent[key].id = randomUUID()
    } else {
      parent[key] = value
    }
  }
  return copy
}
