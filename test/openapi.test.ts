import { expect } from 'chai'
import { readFileSync } from 'node:fs'
import { generateOpenapi, generateViewTypes, OPENAPI_FILE, VIEW_TYPES_FILE } from '../src/cli/openapi'
import { buildTestApp, TestApp } from './helper'

describe('OpenAPI document', () => {
  let t: TestApp
  let doc: any
  before(async () => {
    t = await buildTestApp()
    doc = t.app.swagger()
  })
  after(async () => t.close())

  it('is committed as openapi/openapi.json exactly as the routes generate it (run `npm run openapi`)', async () => {
    const committed = readFileSync(OPENAPI_FILE, 'utf8')
    const generated = await generateOpenapi()
    expect(generated === committed, 'openapi/openapi.json is out of date: run `npm run openapi` and commit it').to.equal(true)
    expect(await generateOpenapi()).to.equal(generated)
  })

  it('gives the code the views\' types as the schemas say (src/generated/view-types.ts; run `npm run openapi`)', async () => {
    const committed = readFileSync(VIEW_TYPES_FILE, 'utf8')
    const generated = await generateViewTypes()
    expect(generated === committed, 'src/generated/view-types.ts is out of date: run `npm run openapi` and commit it').to.equal(true)
    expect(generated).to.match(/export interface ProcessingActivity \{/)
  })

  it('is served at /openapi.json, and Swagger UI at /docs', async () => {
    const res = await t.http.get('/openapi.json')
    expect(res.status).to.equal(200)
    expect(res.body.openapi).to.match(/^3\./)
    const ui = await t.http.get('/docs/')
    expect(ui.status).to.equal(200)
    expect(ui.text).to.contain('swagger')
  })

  it('gives every operation a summary, tags, an operationId, and request and response schemas, errors included', () => {
    const seen = new Set<string>()
    for (const [path, item] of Object.entries<any>(doc.paths)) {
      for (const [method, op] of Object.entries<any>(item)) {
        const where = `${method.toUpperCase()} ${path}`
        expect(op.summary, where).to.be.a('string').and.not.equal('')
        expect(op.tags, where).to.be.an('array').that.is.not.empty
        expect(op.operationId, where).to.be.a('string')
        expect(seen.has(op.operationId), `${where}: duplicate operationId`).to.equal(false)
        seen.add(op.operationId)
        const success = Object.keys(op.responses).filter((c) => c.startsWith('2'))
        expect(success, where).to.not.be.empty
        // the checkpoint keys are public: anyone holding a checkpoint may verify it
        if (path.startsWith('/api') && path !== '/api/v1/history/keys') {
          expect(op.security, where).to.deep.equal([{ bearerAuth: [] }])
          // the workbook's upload is the file itself, and its 400 is the whole report of the rows (issue 23)
          const workbook = where === 'POST /api/v1/register/workbook'
          for (const code of workbook ? ['401', '403', '500'] : ['400', '401', '403', '500']) {
            expect(op.responses[code]?.content?.['application/json']?.schema?.$ref, `${where} ${code}`).to.equal('#/components/schemas/Error')
          }
          if (workbook) {
            expect(op.responses['400'].content['application/json'].schema.required, where).to.include.members(['changes', 'errors', 'conflicts'])
            expect(op.requestBody.content['application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'].schema, where).to.deep.include({ type: 'string', format: 'binary' })
          } else if (['post', 'put', 'patch'].includes(method)) expect(op.requestBody?.content?.['application/json']?.schema, where).to.not.equal(undefined)
          if (path.includes('{id}')) expect(op.responses['404'], where).to.not.equal(undefined)
        }
      }
    }
  })

  it('declares the bearer scheme so Swagger UI can authorise', () => {
    expect(doc.components.securitySchemes.bearerAuth).to.deep.equal({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' })
  })

  it('documents each write body from its one request class, with required fields and no unknown fields', () => {
    const s = doc.components.schemas.ProcessingActivityWrite
    expect(s.required).to.have.members(['name', 'role', 'controllerId'])
    expect(s.additionalProperties).to.equal(false)
    expect(doc.components.schemas.ProcessingActivityPatch.required).to.equal(undefined)
    expect(doc.components.schemas.RetentionRuleWrite.properties.period.pattern).to.be.a('string')
  })
})
