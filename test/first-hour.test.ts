import { expect } from 'chai'
import { connect } from 'node:net'
import { buildTestApp, TestApp } from './helper'
import { catalogueId } from '../src/register/records/catalogue'

const SHAPE = ['statusCode', 'error', 'code', 'message', 'requestId']

/**
 * What a person meets in the first hour with the API (from Swagger UI or curl): error messages
 * that say what to fix, and legal bases given by the codes they know from the regulation.
 */
describe('first hour: error messages a person can act on', () => {
  let t: TestApp
  before(async () => { t = await buildTestApp() })
  after(async () => t.close())

  it('says "required" once per missing field, and names each field once', async () => {
    const res = await t.http.post('/api/v1/processing-activities').set('authorization', await t.auth('editor')).send({})
    expect(res.status).to.equal(400)
    expect(res.body.message).to.equal('The request is not valid: name, role, controllerId')
    expect(res.body.details).to.deep.equal([
      { field: 'name', message: 'name is required' },
      { field: 'role', message: 'role is required' },
      { field: 'controllerId', message: 'controllerId is required' },
    ])
  })

  it('says "required" for a missing field inside a list, with its path', async () => {
    const c = await t.http.post('/api/v1/controllers').set('authorization', await t.auth('editor')).send({ name: 'Smultronsites AB' })
    const res = await t.http.post('/api/v1/processing-activities').set('authorization', await t.auth('editor'))
      .send({ name: 'Guidning', role: 'controller', controllerId: c.body.id, purposes: [{ legalBasisIds: ['A6-1-b'] }] })
    expect(res.status).to.equal(400)
    expect(res.body.details).to.deep.equal([{ field: 'purposes[0].purposeId', message: 'purposes[0].purposeId is required' }])
  })

  it('reports a wrong type by its type alone, and a bad value with the allowed ones', async () => {
    const res = await t.http.post('/api/v1/processing-activities').set('authorization', await t.auth('editor'))
      .send({ name: 42, role: 'owner', controllerId: 'x' })
    expect(res.status).to.equal(400)
    expect(res.body.details).to.deep.equal([
      { field: 'name', message: 'name must be a string' },
      { field: 'role', message: 'role must be one of: controller, processor' },
      { field: 'controllerId', message: 'controllerId must be a UUID' },
    ])
  })

  it('lists the allowed values of a query parameter', async () => {
    const res = await t.http.get('/api/v1/controllers?sort=namn').set('authorization', await t.auth('reader'))
    expect(res.status).to.equal(400)
    expect(res.body.details).to.have.length(1)
    expect(res.body.details[0].field).to.equal('sort')
    expect(res.body.details[0].message).to.match(/^sort must be one of: .*\bname\b.*-createdAt/)
    const format = await t.http.get('/api/v1/register/export?format=xls').set('authorization', await t.auth('reader'))
    expect(format.status).to.equal(400)
    expect(format.body.details[0].message).to.match(/^format must be one of: json, csv/)
  })

  it('answers 400, not 500, to an import whose e-mail address holds a lone surrogate', async () => {
    const doc = (await t.http.get('/api/v1/register/export?format=json').set('authorization', await t.auth('reader'))).body
    doc.controllers = [{ ...(doc.controllers[0] ?? {}), id: '0b6f7c1e-2d3a-4b5c-8d9e-0f1a2b3c4d5e', name: 'Ytterby AB', email: '\ud800' }]
    const send = async (query: string) => t.http.post(`/api/v1/register/import${query}`).set('authorization', await t.auth('admin'))
      .set('content-type', 'application/json').send(JSON.stringify(doc))
    const dry = await send('?dryRun=true')
    expect(dry.status, JSON.stringify(dry.body)).to.equal(200)
    expect(dry.body.errors.map((e: any) => e.path)).to.deep.equal(['controllers[0].email'])
    const res = await send('')
    expect(res.status, JSON.stringify(res.body)).to.equal(400)
  })

  it('answers a raw (not percent-encoded) ö in the URL in the one error shape, with a request id', async () => {
    await t.app.listen({ host: '127.0.0.1', port: 0 })
    const port = (t.app.server.address() as { port: number }).port
    // what a hand-typed URL sends when a client does not encode it: the UTF-8 bytes of ö
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.write(Buffer.concat([Buffer.from('GET /api/v1/controllers?q='), Buffer.from('östersund', 'utf8'), Buffer.from(' HTTP/1.1\r\nHost: x\r\n\r\n')]))
      })
      let text = ''
      socket.on('data', (d) => { text += d.toString('utf8') })
      socket.on('end', () => resolve(text))
      socket.on('error', reject)
    })
    const [head, body] = raw.split('\r\n\r\n')
    expect(head).to.match(/^HTTP\/1\.1 400 /)
    expect(head).to.match(/content-type: application\/json/i)
    const parsed = JSON.parse(body)
    expect(Object.keys(parsed)).to.deep.equal(SHAPE)
    expect(parsed.code).to.equal('bad_request')
    expect(parsed.message).to.contain('percent-encoded')
    expect(head.toLowerCase()).to.contain(`x-request-id: ${parsed.requestId}`.toLowerCase())
    // and the same search percent-encoded works
    const ok = await t.http.get(`/api/v1/controllers?q=${encodeURIComponent('smultron')}`).set('authorization', await t.auth('reader'))
    expect(ok.status).to.equal(200)
  })
})

describe('first hour: legal bases by their codes', () => {
  let t: TestApp
  let controllerId: string
  let purposeId: string
  let customId: string
  before(async () => {
    t = await buildTestApp()
    controllerId = (await t.http.post('/api/v1/controllers').set('authorization', await t.auth('editor')).send({ name: 'HALTEA AB' })).body.id
    purposeId = (await t.http.post('/api/v1/purposes').set('authorization', await t.auth('editor')).send({ name: 'Fullgöra köpeavtal' })).body.id
    const custom = await t.http.post('/api/v1/legal-bases').set('authorization', await t.auth('admin'))
      .send({ code: 'SE-LSO-5-1', kind: 'national-law', articleReference: 'Lag (2003:460) 5 kap. 1 §', name: 'Swedish Act on Ethical Review' })
    expect(custom.status, JSON.stringify(custom.body)).to.equal(201)
    customId = custom.body.id
  })
  after(async () => t.close())

  it('stores a purpose\'s legal bases given by code as the ids they name, in the view and the export', async () => {
    const res = await t.http.post('/api/v1/processing-activities').set('authorization', await t.auth('editor')).send({
      name: 'Försäljning av upplevelser', role: 'controller', controllerId,
      purposes: [{ purposeId, legalBasisIds: ['A6-1-b', 'SE-LSO-5-1', catalogueId('A6-1-c')] }],
    })
    expect(res.status, JSON.stringify(res.body)).to.equal(201)
    expect(res.body.purposes[0].legalBases.map((l: any) => [l.code, l.id])).to.deep.equal([
      ['A6-1-b', catalogueId('A6-1-b')], ['SE-LSO-5-1', customId], ['A6-1-c', catalogueId('A6-1-c')],
    ])
    const history = await t.http.get(`/api/v1/processing-activities/${res.body.id}/history`).set('authorization', await t.auth('reader'))
    expect(JSON.stringify(history.body)).to.not.contain('"A6-1-b"]')
    const doc = await t.http.get('/api/v1/register/export?format=json').set('authorization', await t.auth('reader'))
    const exported = doc.body.processingActivities.find((a: any) => a.id === res.body.id)
    expect(exported.purposes[0].legalBases.map((l: any) => l.id)).to.deep.equal([catalogueId('A6-1-b'), customId, catalogueId('A6-1-c')])
  })

  it('takes codes in PATCH too', async () => {
    const created = await t.http.post('/api/v1/processing-activities').set('authorization', await t.auth('editor'))
      .send({ name: 'Nyhetsbrev', role: 'controller', controllerId, purposes: [{ purposeId }] })
    const res = await t.http.patch(`/api/v1/processing-activities/${created.body.id}`).set('authorization', await t.auth('editor'))
      .send({ purposes: [{ purposeId, legalBasisIds: ['A6-1-a'] }] })
    expect(res.status, JSON.stringify(res.body)).to.equal(200)
    expect(res.body.purposes[0].legalBases[0].code).to.equal('A6-1-a')
  })

  it('answers 400 naming the field for an unknown code, a value that is no code, or the same basis twice', async () => {
    const send = async (legalBasisIds: string[], ws = 'test') => t.http.post('/api/v1/processing-activities').set('authorization', await t.auth('editor', ws))
      .send({ name: 'X', role: 'controller', controllerId, purposes: [{ purposeId, legalBasisIds }] })
    const unknown = await send(['A6-1-b', 'A6-1-z'])
    expect(unknown.status).to.equal(400)
    expect(unknown.body.details).to.have.length(1)
    expect(unknown.body.details[0].field).to.equal('purposes[0].legalBasisIds[1]')
    // the codes there are, so that the person can pick the right one
    expect(unknown.body.details[0].message).to.match(/^no legal basis with code A6-1-z in this workspace; codes there are: A6-1-a, A6-1-b, .*A6-1-f; all \d+ codes: GET \/api\/v1\/legal-bases$/)
    const twice = await send(['A6-1-b', catalogueId('A6-1-b')])
    expect(twice.status).to.equal(400)
    expect(twice.body.details[0].field).to.equal('purposes[0].legalBasisIds[1]')
    const notACode = await send(['avtal!'])
    expect(notACode.status).to.equal(400)
    expect(notACode.body.details[0]).to.deep.equal({ field: 'purposes[0].legalBasisIds', message: 'purposes[0].legalBasisIds must hold legal-basis ids or codes such as A6-1-b' })
    const before = await t.http.get('/api/v1/processing-activities?limit=500').set('authorization', await t.auth('reader'))
    expect(before.body.items.map((a: any) => a.name)).to.not.include('X')
  })
})
