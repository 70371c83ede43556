import { expect } from 'chai'
import fc from 'fast-check'
import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { RESOURCES, ResourceDef } from '../src/register/records/model'
import { patchSchemaName } from '../src/register/records/view-schemas'
import { buildTestApp, TestApp } from './helper'
import { buildRegister } from './export-fixture'

type Row = Record<string, any>
type Schema = Record<string, any>

/**
 * Property-based requests to every write endpoint, with bodies generated from the request schemas
 * of the committed OpenAPI document (valid-ish) and from mutations and garbage. Whatever comes in:
 * no 5xx, every error in the one error shape, and nothing stored from a rejected request.
 */
/**
 * Runs of each property: all of them unless FUZZ_RUNS_SHARE (0 to 1) asks for a share. CI gives the
 * other Node.js lines a tenth: the requests test the service's logic, which is the same on every
 * line, and the main line runs them all.
 */
const SHARE = Math.min(1, Math.max(0.05, Number(process.env.FUZZ_RUNS_SHARE) || 1))
const runs = (n: number): number => Math.ceil(n * SHARE)

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

/** The ids of the test register's stored records, by resource (its plural) and all together. */
async function storedIds(t: TestApp): Promise<{ idsOf: Map<string, string[]>; allIds: string[] }> {
  const idsOf = new Map<string, string[]>()
  for (const def of RESOURCES) {
    const list = await t.http.get(`/api/v1/${def.plural}?limit=500`).set('authorization', await t.auth('reader'))
    idsOf.set(def.plural, list.body.items.map((r: Row) => r.id))
  }
  return { idsOf, allIds: [...idsOf.values()].flat() }
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
    ;({ idsOf, allIds } = await storedIds(t))
    baseDocument = (await t.http.get('/api/v1/register/export?format=json').set('authorization', await t.auth('reader'))).body
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
      headers: { authorization: await t.auth(role as 'admin'), 'content-type': 'application/json', ...(ifMatch ? { 'if-match': ifMatch } : {}) },
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
    const res = await t.app.inject({ method: 'PATCH', url: `/api/v1/processors/${processor}`, headers: { authorization: await t.auth('editor') }, payload: { contact: { email: 'hudateljén@allavieclinic.com' } } })
    expect(res.statusCode, res.body).to.equal(200)
    expect(res.json().contact.email).to.equal('hudateljén@allavieclinic.com')
    const lower = await t.app.inject({ method: 'PATCH', url: `/api/v1/processors/${processor}`, headers: { authorization: await t.auth('editor') }, payload: { country: 'se' } })
    expect(lower.statusCode).to.equal(400)
    expect(lower.json().details).to.deep.equal([{ field: 'country', message: 'country must be an ISO 3166-1 alpha-2 country code such as SE or US' }])
  })

  for (const def of RESOURCES) {
    it(`POST, PUT and PATCH /api/v1/${def.plural}: 400 runs`, async function () {
      this.timeout(180_000)
      const table = t.app.db.dataSource.getMetadata(def.entity).tableName
      const op = fc.oneof(
        fc.record({ method: fc.constant('POST' as const), body: bodies(def.writeSchema, idsFor), role: ROLES }),
        fc.record({ method: fc.constant('PUT' as const), id: idArb(def), body: bodies(def.writeSchema, idsFor), role: ROLES, ifMatch: IF_MATCH }),
        fc.record({ method: fc.constant('PATCH' as const), id: idArb(def), body: bodies(patchSchemaName(def.writeSchema), idsFor), role: ROLES, ifMatch: IF_MATCH }),
      )
      await fc.assert(fc.asyncProperty(op, async (o) => {
        const url = `/api/v1/${def.plural}${'id' in o ? `/${o.id}` : ''}`
        await check(o.method, url, o.body, o.role, 'ifMatch' in o ? o.ifMatch : undefined, { table })
      }), { numRuns: runs(400) })
    })
  }

  it('POST /api/v1/processing-activities/{id}/review: 400 runs', async function () {
    this.timeout(180_000)
    const op = fc.record({ id: idArb(RESOURCES.find((d) => d.plural === 'processing-activities')), body: bodies('ReviewWrite', idsFor), role: ROLES, ifMatch: IF_MATCH })
    await fc.assert(fc.asyncProperty(op, async (o) => {
      await check('POST', `/api/v1/processing-activities/${o.id}/review`, o.body, o.role, o.ifMatch, { table: 'processing_activities' })
    }), { numRuns: runs(400) })
  })

  it('POST /api/v1/register/import with mutated and generated documents: 700 runs, dry runs write nothing', async function () {
    // about 30 s alone; over 90 s in CI beside two other suites on two cores
    this.timeout(240000)
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
    }), { numRuns: runs(700) })
    // the service is still whole: the unmutated document imports into a fresh workspace
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/register/import', headers: { authorization: await t.auth('admin', 'after-fuzz') }, payload: baseDocument })
    expect(res.statusCode, res.body.slice(0, 500)).to.equal(200)
    expect(res.json().created.processingActivities).to.equal(baseDocument.processingActivities.length)
    expect(requests).to.be.at.least(runs(5000))
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

/**
 * Moments a query string may carry that have broken services before. Each is either refused with a
 * 400 that names the parameter and shows the expected form, or read as the moment it says: never a 500.
 */
const INVALID_MOMENTS = [
  '2026-06-30T23:59:60Z', // a leap second: RFC 3339 has it, Date cannot hold it
  '2016-12-31T23:59:60+01:00',
  '2026-02-30T00:00:00Z', '2026-02-29T12:00:00Z', '2026-04-31T00:00:00Z', '2026-13-01T00:00:00Z', '2026-00-10T00:00:00Z',
  '2026-01-01T24:00:00Z', '2026-01-01T23:60:00Z', '2026-01-01T00:00:00+24:00', '2026-01-01T00:00:00+01:60',
  '9999-12-31T23:59:59-01:00', // beyond year 9999 in UTC
  '0000-01-01T00:30:00+01:00', // before year 0 in UTC
  '+275760-09-13T00:00:00Z', '275761-01-01T00:00:00Z', '-000001-01-01T00:00:00Z', '99999-01-01T00:00:00Z',
  '2026-01-01T00:00:00.1234Z', // finer than the millisecond a moment is kept to
  '2026-01-01T00:00:00', '2026-01-01', '2026-01-01T00:00Z', 'yesterday', '1717171717', '', ' ', '2026-01-01T00:00:00,5Z',
]
const VALID_MOMENTS = [
  '2024-02-29T12:00:00Z', '2026-06-30T23:59:59.999Z', '2026-06-30T14:00:00+02:00', '2026-06-30t12:00:00z', '2026-06-30T12:00:00.5-05:30',
  '0000-01-01T00:00:00Z', '9999-12-31T23:59:59.999Z', '2000-01-01T00:00:00+00:00',
]

const pad = (n: number, width: number): string => String(n).padStart(width, '0')

/** Moments built from parts, each now and then just beyond its range: RFC 3339 as a client writes it, or nearly. */
const MOMENT_PARTS: fc.Arbitrary<string> = fc.record({
  year: fc.oneof(fc.integer({ min: 1900, max: 2100 }), fc.constantFrom(0, 1, 99, 9999, 10000, 275760)),
  month: fc.oneof({ weight: 5, arbitrary: fc.integer({ min: 1, max: 12 }) }, { weight: 1, arbitrary: fc.constantFrom(0, 13) }),
  day: fc.oneof({ weight: 3, arbitrary: fc.integer({ min: 1, max: 28 }) }, { weight: 2, arbitrary: fc.integer({ min: 29, max: 32 }) }, { weight: 1, arbitrary: fc.constant(0) }),
  hour: fc.oneof({ weight: 5, arbitrary: fc.integer({ min: 0, max: 23 }) }, { weight: 1, arbitrary: fc.constant(24) }),
  minute: fc.oneof({ weight: 5, arbitrary: fc.integer({ min: 0, max: 59 }) }, { weight: 1, arbitrary: fc.constant(60) }),
  second: fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 0, max: 59 }) }, { weight: 2, arbitrary: fc.constant(60) }),
  fraction: fc.constantFrom('', '', '.5', '.123', '.1234', '.123456789'),
  separator: fc.constantFrom('T', 'T', 'T', 't', ' '),
  zone: fc.oneof(fc.constantFrom('Z', 'Z', 'z', '+00:00', '+02:00', '-05:30', '+0100', '+23:59', '+24:00', '-01:60', ''), fc.integer({ min: -14, max: 14 }).map((h) => `${h < 0 ? '-' : '+'}${pad(Math.abs(h), 2)}:00`)),
}).map((p) => `${p.year > 9999 ? `+${pad(p.year, 6)}` : pad(p.year, 4)}-${pad(p.month, 2)}-${pad(p.day, 2)}${p.separator}${pad(p.hour, 2)}:${pad(p.minute, 2)}:${pad(p.second, 2)}${p.fraction}${p.zone}`)

/** A zone offset of whole and half hours, and the UTC time it makes of a local one. */
const OFFSET = fc.integer({ min: -28, max: 28 }).map((halves) => ({ minutes: halves * 30, text: `${halves < 0 ? '-' : '+'}${pad(Math.floor(Math.abs(halves) / 2), 2)}:${Math.abs(halves) % 2 ? '30' : '00'}` }))
const localTime = (utcMinutes: number, offset: number): string => {
  const local = ((utcMinutes + offset) % 1440 + 1440) % 1440
  return `${pad(Math.floor(local / 60), 2)}:${pad(local % 60, 2)}`
}

/** A leap second: 23:59:60 in UTC, written in any zone (RFC 3339 and ajv-formats take it; Date cannot hold it). */
const LEAP_SECOND = fc.tuple(fc.constantFrom('2016-12-31', '2026-06-30', '2026-12-31'), OFFSET)
  .map(([date, offset]) => `${date}T${localTime(23 * 60 + 59, offset.minutes)}:60${offset.minutes ? offset.text : 'Z'}`)

/** The ends of the years 0000–9999, moved across them by a zone offset now and then. */
const ENDS_OF_TIME = fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 1439 }), OFFSET).map(([last, minutes, offset]) =>
  `${last ? '9999-12-31' : '0000-01-01'}T${pad(Math.floor(minutes / 60), 2)}:${pad(minutes % 60, 2)}:00${offset.minutes ? offset.text : 'Z'}`)

const MOMENT_TEXT: fc.Arbitrary<string> = fc.oneof({ weight: 4, arbitrary: MOMENT_PARTS }, { weight: 1, arbitrary: LEAP_SECOND }, { weight: 1, arbitrary: ENDS_OF_TIME })

/** The read endpoints of the OpenAPI document, with their path and query parameters. */
interface ReadEndpoint {
  path: string
  pathParams: Row[]
  queryParams: Row[]
}
const READS: ReadEndpoint[] = Object.entries<Row>(OPENAPI.paths).filter(([, ops]) => ops.get).map(([path, ops]) => ({
  path,
  pathParams: (ops.get.parameters ?? []).filter((p: Row) => p.in === 'path'),
  queryParams: (ops.get.parameters ?? []).filter((p: Row) => p.in === 'query'),
}))

/** A query parameter's value: by its schema (clean or noisy), a moment from the lists above, repeated, or garbage. */
function queryValue(schema: Schema, ids: Draw['ids']): fc.Arbitrary<unknown> {
  // mostly clean, so that a request with several parameters often gets past the schema to the service
  const moments = schema.format === 'date-time'
    ? [{ weight: 3, arbitrary: fc.constantFrom(...INVALID_MOMENTS, ...VALID_MOMENTS) }, { weight: 3, arbitrary: MOMENT_TEXT }, { weight: 2, arbitrary: fc.date({ noInvalidDate: true }).map((d) => d.toISOString()) }]
    : []
  return fc.oneof(
    { weight: 12, arbitrary: fromSchema(schema, { ids, noisy: false }) },
    { weight: 2, arbitrary: fromSchema(schema, { ids, noisy: true }, 1) },
    ...moments,
    { weight: 1, arbitrary: fc.array(fromSchema(schema, { ids, noisy: false }), { minLength: 2, maxLength: 3 }) },
    { weight: 1, arbitrary: text(40) },
  )
}

const queryText = (query: Row): string => {
  const search = new URLSearchParams()
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined) continue
    for (const one of Array.isArray(v) ? v : [v]) search.append(k, typeof one === 'object' && one !== null ? JSON.stringify(one) : String(one))
  }
  const s = search.toString()
  return s ? `?${s}` : ''
}

describe('fuzz: generated query strings to every read endpoint', () => {
  let t: TestApp
  let idsOf: Map<string, string[]>
  let allIds: string[]
  const checked = new Map<string, number>()

  before(async function () {
    this.timeout(180_000)
    t = await buildTestApp()
    await buildRegister(t)
    ;({ idsOf, allIds } = await storedIds(t))
    // two register versions, so that version=, /versions/{number} and ?against= have something to find
    for (let i = 0; i < 2; i++) {
      const v = await t.http.post('/api/v1/register/versions').set('authorization', await t.auth('editor')).send({ note: `v${i + 1}` })
      expect(v.status, JSON.stringify(v.body)).to.equal(201)
    }
  })
  after(async () => {
    await t.close()
  })

  const ids = (field: string): fc.Arbitrary<string> => fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...(field === 'controllerId' ? idsOf.get('controllers')! : allIds)) },
    { weight: 1, arbitrary: fc.uuid() },
  )
  const pathValue = (endpoint: ReadEndpoint, param: Row): fc.Arbitrary<unknown> => {
    if (param.name === 'number') return fc.oneof(fc.constantFrom(1, 2, 3), fromSchema(param.schema, { ids, noisy: true }, 1))
    const plural = endpoint.path.split('/')[3]
    return fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...(idsOf.get(plural) ?? allIds)) }, { weight: 1, arbitrary: fc.uuid() }, { weight: 1, arbitrary: text(40) })
  }

  async function get(url: string): Promise<{ status: number; body: Row | null; context: string }> {
    const res = await t.app.inject({ method: 'GET', url, headers: { authorization: await t.auth('reader') } })
    const json = String(res.headers['content-type'] ?? '').startsWith('application/json') ? res.json() : null
    const context = `GET ${url} → ${res.statusCode} ${res.body.slice(0, 300)}`
    const logged = res.statusCode >= 500 ? JSON.stringify(t.logs.find((l) => l.reqId === json?.requestId && l.err)?.err ?? {}).slice(0, 1500) : ''
    expect(res.statusCode, `${context} ${logged}`).to.be.below(500)
    if (res.statusCode >= 400) expectOneErrorShape(res.statusCode, json!, context)
    return { status: res.statusCode, body: json, context }
  }

  for (const endpoint of READS.filter((e) => e.queryParams.length || e.pathParams.length)) {
    it(`GET ${endpoint.path}: every query parameter, generated from its schema`, async function () {
      this.timeout(120000)
      const path = fc.record(Object.fromEntries(endpoint.pathParams.map((p) => [p.name, pathValue(endpoint, p)])))
      const known = Object.fromEntries(endpoint.queryParams.map((p) => [p.name, queryValue(p.schema, ids)]))
      const query = fc.tuple(
        fc.record(known, { requiredKeys: [] }),
        // now and then a parameter the endpoint does not declare
        fc.option(fc.tuple(fc.constantFrom('colour', 'limit', 'asOf', '__proto__', 'q[]'), text(20)), { freq: 6 }),
      ).map(([q, extra]) => (extra ? { ...q, [extra[0]]: extra[1] } : q))
      // the exports rebuild or render a register per request: fewer runs
      const numRuns = /export|backup|report|data-flow|privacy-notice/.test(endpoint.path) ? 100 : 150
      await fc.assert(fc.asyncProperty(path, query, async (p: Row, q: Row) => {
        // a lone surrogate cannot be sent in a URL at all: it goes as U+FFFD, as URLSearchParams sends it
        const url = endpoint.path.replace(/\{(\w+)\}/g, (_, name) => encodeURIComponent((String(p[name]) as any).toWellFormed())) + queryText(q)
        await get(url)
        checked.set(endpoint.path, (checked.get(endpoint.path) ?? 0) + 1)
      }), { numRuns: runs(numRuns) })
    })
  }

  it('reads a generated moment in every date-time parameter as the moment it says, or refuses it with a 400 naming the parameter: 300 runs each', async function () {
    this.timeout(300000)
    const dated = READS.flatMap((e) => e.queryParams.filter((p) => p.schema.format === 'date-time').map((p) => ({ path: e.path, name: p.name as string })))
    let refused = 0
    let read = 0
    for (const { path, name } of dated) {
      // the export rebuilds the register per moment: fewer runs
      const numRuns = path.endsWith('/export') ? 100 : 300
      await fc.assert(fc.asyncProperty(MOMENT_TEXT, async (moment) => {
        const { status, body, context } = await get(`${path}?${name}=${encodeURIComponent(moment)}`)
        const detail = status === 400 ? body!.details.find((d: Row) => d.field === name) : undefined
        if (detail) {
          expect(detail.message, context).to.match(/such as \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/)
          refused++
        } else {
          // taken: a moment Date holds as it was written (a valid year, month, day, no leap second)
          expect(Number.isNaN(new Date(moment).getTime()), context).to.equal(false)
          read++
        }
      }), { numRuns: runs(numRuns) })
    }
    // both kinds were met
    expect(refused, 'refused').to.be.above(runs(50))
    expect(read, 'read').to.be.above(runs(50))
  })

  it('refuses every impossible moment in every date-time parameter with a 400 naming the parameter and showing the form, and reads every possible one', async function () {
    this.timeout(120000)
    const dated = READS.flatMap((e) => e.queryParams.filter((p) => p.schema.format === 'date-time').map((p) => ({ path: e.path, name: p.name as string })))
    expect(dated.map((d) => `${d.path}?${d.name}`).sort()).to.include.members(['/api/v1/history?from', '/api/v1/history?to', '/api/v1/register/changes?since', '/api/v1/register/export?asOf'])
    for (const { path, name } of dated) {
      for (const moment of INVALID_MOMENTS) {
        const { status, body, context } = await get(`${path}?${name}=${encodeURIComponent(moment)}`)
        expect(status, context).to.equal(400)
        const detail = body!.details.find((d: Row) => d.field === name)
        expect(detail, context).to.not.equal(undefined)
        expect(detail.message, context).to.match(/such as \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/)
      }
      for (const moment of VALID_MOMENTS) {
        const { status, body, context } = await get(`${path}?${name}=${encodeURIComponent(moment)}`)
        // read as a moment: answered, or refused for what it means (since after now), not for its form
        if (status !== 200) expect(body!.details.map((d: Row) => d.message).join(' '), context).to.not.match(/must be a moment/)
      }
    }
  })

  it('sent requests to every read endpoint with a query parameter', () => {
    for (const endpoint of READS.filter((e) => e.queryParams.length)) expect(checked.get(endpoint.path) ?? 0, endpoint.path).to.be.at.least(runs(100))
  })
})
