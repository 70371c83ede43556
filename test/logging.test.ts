import { expect } from 'chai'
import { buildTestApp, TestApp } from './helper'

describe('logs', () => {
  let t: TestApp
  before(async () => { t = await buildTestApp() })
  after(async () => t.close())

  it('are structured JSON with the request id, and hold no token and no personal data', async () => {
    const authorization = t.auth('editor', 'test', 'anna.andersson@example.se')
    await t.http.post('/api/v1/controllers').set('authorization', authorization).send({ name: 'Hudateljén', email: 'privat.person@example.se' })
    await t.http.get('/api/v1/controllers?q=Hudatelj%C3%A9n').set('authorization', authorization)
    await t.http.get('/api/v1/controllers?q=x').set('authorization', 'Bearer bad.token.here')
    const text = JSON.stringify(t.logs)
    expect(t.logs.length).to.be.greaterThan(3)
    expect(t.logs.some((l) => l.req?.url === '/api/v1/controllers' && l.reqId)).to.equal(true)
    expect(text).to.not.contain(authorization.slice(7))
    expect(text).to.not.contain('bad.token.here')
    expect(text).to.not.contain('anna.andersson')
    expect(text).to.not.contain('privat.person')
    expect(text).to.not.contain('Hudatelj')
  })
})
