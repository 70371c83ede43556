import { expect } from 'chai'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import Ajv2020, { ValidateFunction } from 'ajv/dist/2020'
import addFormats from 'ajv-formats'
import { addIdnEmailFormat } from '../src/schemas/json-schema'
import { buildTestApp, TestApp } from './helper'

/**
 * A validating client reading the committed openapi/openapi.json: strict Ajv (JSON Schema
 * 2020-12, as OpenAPI 3.1 says) with ajv-formats, checking the service's real requests and answers.
 */
function documentValidators() {
  const doc = JSON.parse(readFileSync(join(__dirname, '..', '..', 'openapi', 'openapi.json'), 'utf8'))
  const ajv = new Ajv2020({ allErrors: true, strict: true, strictTypes: false, strictTuples: false })
  addFormats(ajv)
  addIdnEmailFormat(ajv)
  ajv.addKeyword('example')
  // the document's references point into components/schemas; here they live under $defs
  const moved = (schema: unknown) => JSON.parse(JSON.stringify(schema).replace(/"#\/components\/schemas\//g, '"openapi.json#/$defs/'))
  ajv.addSchema({ $id: 'openapi.json', $defs: moved(doc.components.schemas) })
  const compile = (schema: unknown): ValidateFunction => ajv.compile(moved(schema))
  const operation = (method: string, path: string) => {
    const op = doc.paths[path]?.[method]
    expect(op, `${method.toUpperCase()} ${path} in the document`).to.not.equal(undefined)
    return op
  }
  return {
    request: (method: string, path: string) => compile(operation(method, path).requestBody.content['application/json'].schema),
    response: (method: string, path: string, status: number) =>
      compile(operation(method, path).responses[String(status)].content['application/json'].schema),
    /** The declared answer of an operation for a status, as written in the document. */
    declared: (method: string, path: string, status: number) => operation(method, path).responses[String(status)],
  }
}

function expectValid(validate: ValidateFunction, value: unknown, what: string): void {
  const ok = validate(value)
  expect(ok, `${what}: ${JSON.stringify(validate.errors)}`).to.equal(true)
}

describe('OpenAPI document against real answers', () => {
  let t: TestApp
  const v = documentValidators()
  before(async () => { t = await buildTestApp() })
  after(async () => t.close())

  it('describes e-mail addresses outside ASCII (hudateljén@…) that the service accepts and returns', async () => {
    const controller = {
      name: 'Hudateljén i Åre AB',
      email: 'hudateljén@allavieclinic.com',
      dataProtectionOfficer: { name: 'Åsa Öberg', email: 'dataskydd@hudateljén.se' },
    }
    expectValid(v.request('post', '/api/v1/controllers'), controller, 'the request, as the document describes it')
    const created = await t.http.post('/api/v1/controllers').set('authorization', await t.auth('editor')).send(controller)
    expect(created.status, JSON.stringify(created.body)).to.equal(201)
    expectValid(v.response('post', '/api/v1/controllers', 201), created.body, 'POST /controllers 201')

    const got = await t.http.get(`/api/v1/controllers/${created.body.id}`).set('authorization', await t.auth('reader'))
    expect(got.status).to.equal(200)
    expect(got.body.email).to.equal('hudateljén@allavieclinic.com')
    expectValid(v.response('get', '/api/v1/controllers/{id}', 200), got.body, 'GET /controllers/{id} 200')

    const list = await t.http.get('/api/v1/controllers').set('authorization', await t.auth('reader'))
    expect(list.status).to.equal(200)
    expectValid(v.response('get', '/api/v1/controllers', 200), list.body, 'GET /controllers 200')

    const processor = await t.http.post('/api/v1/processors').set('authorization', await t.auth('editor'))
      .send({ name: 'Molntjänst Öst AB', email: 'kontakt@molntjänst.se' })
    expect(processor.status, JSON.stringify(processor.body)).to.equal(201)
    expectValid(v.response('post', '/api/v1/processors', 201), processor.body, 'POST /processors 201')
  })

  it('still refuses what the service refuses: an address without a domain', async () => {
    const refused = await t.http.post('/api/v1/controllers').set('authorization', await t.auth('editor')).send({ name: 'X', email: 'hudateljén' })
    expect(refused.status).to.equal(400)
    expect(v.request('post', '/api/v1/controllers')({ name: 'X', email: 'hudateljén' })).to.equal(false)
  })

  it('declares, for every operation that reads much, the 429 (budget), 503 (busy) and, for a spooled answer, 507 it can give, in the one error shape', async () => {
    const LONG: [string, string, number[]][] = [
      ['get', '/api/v1/register/export', [429, 503, 507]],
      ['get', '/api/v1/register/backup', [429, 503]],
      ['get', '/api/v1/register/report', [429, 503]],
      ['get', '/api/v1/register/data-flow', [429, 503]],
      ['get', '/api/v1/register/findings', [429, 503]],
      ['get', '/api/v1/history/verify', [429, 503]],
      ['get', '/api/v1/register/changes', [429, 503]],
    ]
    for (const [method, path, statuses] of LONG) {
      for (const status of statuses) {
        const declared = v.declared(method, path, status)
        expect(declared, `${method.toUpperCase()} ${path} ${status}`).to.not.equal(undefined)
        expect(declared.content['application/json'].schema, `${path} ${status}`).to.deep.equal({ $ref: '#/components/schemas/Error' })
        const example = declared.content['application/json'].example
        expect(example, `${path} ${status} example`).to.include({ statusCode: status })
        expectValid(v.response(method, path, status), example, `${path} ${status} example`)
      }
    }
  })

  it('a 507 answer of an export larger than the spool takes is the declared one', async () => {
    const small = await buildTestApp({ SPOOL_MAX_BYTES: '1024' })
    try {
      for (let i = 0; i < 6; i++) {
        const created = await small.http.post('/api/v1/controllers').set('authorization', await small.auth('editor')).send({ name: `Klinik ${i} i Åre AB med ett långt namn`, address: 'Storgatan 1, 831 30 Östersund' })
        expect(created.status).to.equal(201)
      }
      const res = await small.http.get('/api/v1/register/export?format=json').set('authorization', await small.auth('reader'))
      expect(res.status).to.equal(507)
      expectValid(v.response('get', '/api/v1/register/export', 507), res.body, 'GET /register/export 507')
    } finally {
      await small.close()
    }
  })

  it('held to the committed document, a 400 answer is valid too', async () => {
    const refused = await t.http.post('/api/v1/controllers').set('authorization', await t.auth('editor')).send({ name: 'X', email: 'hudateljén' })
    expectValid(v.response('post', '/api/v1/controllers', 400), refused.body, 'POST /controllers 400')
  })
})
