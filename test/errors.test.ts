import { expect } from 'chai'
import fp from 'fastify-plugin'
import { buildTestApp, TestApp } from './helper'

const SHAPE = ['statusCode', 'error', 'code', 'message', 'requestId']

function expectErrorShape(body: Record<string, unknown>, status: number): void {
  expect(body).to.include.keys(SHAPE)
  expect(body.statusCode).to.equal(status)
  expect(Object.keys(body).every((k) => [...SHAPE, 'details', 'references'].includes(k)), JSON.stringify(body)).to.equal(true)
}

describe('errors', () => {
  let t: TestApp
  before(async () => { t = await buildTestApp({ BODY_LIMIT: '2048' }) })
  after(async () => t.close())

  it('answers an unknown route with 404 in the one shape', async () => {
    const res = await t.http.get('/api/v1/nothing-here')
    expect(res.status).to.equal(404)
    expectErrorShape(res.body, 404)
  })

  it('answers malformed JSON with 400 invalid_json', async () => {
    const res = await t.http.post('/api/v1/purposes').set('authorization', await t.auth('editor')).set('content-type', 'application/json').send('{"name": ')
    expect(res.status).to.equal(400)
    expectErrorShape(res.body, 400)
    expect(res.body.code).to.equal('invalid_json')
  })

  it('answers a body that is not an object with 400 naming the body', async () => {
    const res = await t.http.post('/api/v1/purposes').set('authorization', await t.auth('editor')).send([{ name: 'x' }])
    expect(res.status).to.equal(400)
    expect(res.body.details).to.deep.equal([{ field: 'body', message: 'the body must be a JSON object' }])
  })

  it('refuses prototype pollution attempts', async () => {
    const res = await t.http.post('/api/v1/purposes').set('authorization', await t.auth('editor')).set('content-type', 'application/json')
      .send('{"name":"x","__proto__":{"admin":true}}')
    expect(res.status).to.equal(400)
    expectErrorShape(res.body, 400)
  })

  it('answers an oversized body with 413 and another media type with 415, in the one shape', async () => {
    const big = await t.http.post('/api/v1/purposes').set('authorization', await t.auth('editor')).send({ name: 'x', description: 'y'.repeat(5000) })
    expect(big.status).to.equal(413)
    expectErrorShape(big.body, 413)
    expect(big.body.code).to.equal('body_too_large')
    const xml = await t.http.post('/api/v1/purposes').set('authorization', await t.auth('editor')).set('content-type', 'application/xml').send('<purpose/>')
    expect(xml.status).to.equal(415)
    expectErrorShape(xml.body, 415)
  })

  it('keeps a safe X-Request-Id from the caller and returns it in the error and header', async () => {
    const res = await t.http.get('/api/v1/purposes').set('x-request-id', 'trace-1234-abcd')
    expect(res.body.requestId).to.equal('trace-1234-abcd')
    expect(res.headers['x-request-id']).to.equal('trace-1234-abcd')
    const unsafe = await t.http.get('/api/v1/purposes').set('x-request-id', '<script>')
    expect(unsafe.body.requestId).to.not.equal('<script>')
  })
})

describe('a server error', () => {
  let t: TestApp
  before(async () => {
    t = await buildTestApp()
  })
  after(async () => t.close())

  it('says only "Internal Server Error", leaks nothing, and is logged with the request id', async () => {
    // make the database fail underneath a request: the internals must not reach the client
    await t.app.db.dataSource.query('ALTER TABLE purposes RENAME TO purposes_moved_away')
    const res = await t.http.get('/api/v1/purposes').set('authorization', await t.auth('reader'))
    expect(res.status).to.equal(500)
    expectErrorShape(res.body, 500)
    expect(res.body).to.include({ code: 'internal_error', message: 'Internal Server Error' })
    expect(JSON.stringify(res.body)).to.not.match(/purposes|SQL|table|stack/i)
    const line = t.logs.find((l) => l.reqId === res.body.requestId && l.level >= 50)
    expect(line, 'an error log line with the request id').to.not.equal(undefined)
    expect(line!.err.message).to.match(/purposes/)
  })
})
