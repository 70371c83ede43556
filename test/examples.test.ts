import { expect } from 'chai'
import { buildTestApp, TestApp } from './helper'
import { loadDemo } from '../src/register/demo/demo'

/**
 * Swagger UI's "Try it out" sends the request example as it stands. Each example of the published
 * document, sent as it stands in the demo workspace (whose ids the examples use), is accepted.
 */
describe('request examples in the OpenAPI document', () => {
  const WS = 'demo'
  let t: TestApp
  let doc: any

  before(async () => {
    t = await buildTestApp()
    await loadDemo(t.app.db, { sub: 'demo-loader', role: 'admin', ws: WS })
    doc = (await t.http.get('/openapi.json')).body
  })
  after(async () => t.close())

  /** Every operation with a JSON request body, with its examples. */
  const operations = (): { method: string; path: string; op: any; examples: Record<string, any> }[] => {
    const out = []
    for (const [path, item] of Object.entries<any>(doc.paths)) {
      for (const [method, op] of Object.entries<any>(item)) {
        const media = op.requestBody?.content?.['application/json']
        if (media) out.push({ method, path, op, examples: media.examples ?? {} })
      }
    }
    return out
  }

  it('gives every create, replace and update operation of the register\'s records an example, and no "string" placeholder', () => {
    const writes = operations().filter(({ op }) => /^(create|replace|update)/.test(op.operationId))
    expect(writes.length).to.be.at.least(30)
    for (const { op, examples } of writes) {
      expect(Object.keys(examples), op.operationId).to.not.be.empty
      for (const e of Object.values<any>(examples)) {
        expect(e.summary, op.operationId).to.be.a('string')
        expect(JSON.stringify(e.value), op.operationId).to.not.match(/"string"|3fa85f64/)
      }
    }
  })

  it('accepts every create example sent as it stands (201)', async () => {
    const creates = operations().filter(({ op }) => op.operationId.startsWith('create'))
    let sent = 0
    for (const { path, op, examples } of creates) {
      for (const [name, e] of Object.entries<any>(examples)) {
        const res = await t.http.post(path).set('authorization', await t.auth('admin', WS)).send(e.value)
        expect(res.status, `${op.operationId} example ${name}: ${JSON.stringify(res.body)}`).to.equal(201)
        sent++
      }
    }
    expect(sent).to.be.at.least(12)
  })

  it('accepts every update example of a processing activity sent as it stands (200)', async () => {
    const activities = (await t.http.get('/api/v1/processing-activities?limit=500').set('authorization', await t.auth('reader', WS))).body.items
    const haltea = activities.find((a: any) => a.controller.name === 'HALTEA AB')
    const update = operations().find(({ op }) => op.operationId === 'updateProcessingActivity')!
    for (const [name, e] of Object.entries<any>(update.examples)) {
      const res = await t.http.patch(`/api/v1/processing-activities/${haltea.id}`).set('authorization', await t.auth('editor', WS)).send(e.value)
      expect(res.status, `example ${name}: ${JSON.stringify(res.body)}`).to.equal(200)
    }
  })
})
