import { expect } from 'chai'
import { buildTestApp, onPostgres, TestApp } from './helper'

describe('logs', () => {
  let t: TestApp
  before(async () => { t = await buildTestApp() })
  after(async () => t.close())

  it('are structured JSON with the request id, and hold no token and no personal data', async () => {
    const authorization = await t.auth('editor', 'test', 'anna.andersson@example.se')
    await t.http.post('/api/v1/controllers').set('authorization', authorization).send({ name: 'Hudateljén', email: 'privat.person@example.se' })
    await t.http.get('/api/v1/controllers?q=Hudatelj%C3%A9n').set('authorization', authorization)
    await t.http.get('/api/v1/controllers?q=x').set('authorization', 'Bearer bad.token.here')
    const text = JSON.stringify(t.logs)
    expect(t.logs.length, "one line per request at least").to.be.at.least(3)
    expect(t.logs.some((l) => l.req?.url === '/api/v1/controllers' && l.reqId)).to.equal(true)
    expect(text).to.not.contain(authorization.slice(7))
    expect(text).to.not.contain('bad.token.here')
    expect(text).to.not.contain('anna.andersson')
    expect(text).to.not.contain('privat.person')
    expect(text).to.not.contain('Hudatelj')
  })

  it('have one access line per request, when it completes, with the request id, method, path, status and time', async () => {
    const before = t.logs.length
    const res = await t.http.get('/api/v1/controllers?q=Hudatelj%C3%A9n').set('authorization', await t.auth('reader')).set('x-request-id', 'access-log-test-1')
    expect(res.status).to.equal(200)
    const lines = t.logs.slice(before).filter((l) => l.reqId === 'access-log-test-1')
    expect(lines.map((l) => l.msg)).to.deep.equal(['request completed'])
    const [line] = lines
    expect(line.level).to.equal(30)
    expect(line.req).to.deep.equal({ method: 'GET', url: '/api/v1/controllers', remoteAddress: line.req.remoteAddress })
    expect(line.req.remoteAddress).to.be.a('string')
    expect(line.res).to.deep.equal({ statusCode: 200 })
    expect(line.responseTime).to.be.a('number')
    const refused = await t.http.get('/api/v1/controllers').set('x-request-id', 'access-log-test-2')
    expect(refused.status).to.equal(401)
    const logged = t.logs.filter((l) => l.reqId === 'access-log-test-2')
    expect(logged.map((l) => [l.msg, l.res?.statusCode, l.req?.url])).to.deep.equal([['request completed', 401, '/api/v1/controllers']])
  })

  it('of a database error hold neither the SQL, nor its parameters, nor the refused values', async () => {
    const failing = await buildTestApp()
    try {
      if (onPostgres) {
        // PostgreSQL quotes a refused value in its message: invalid input syntax for type integer: "…"
        await failing.app.db.dataSource.query('ALTER TABLE controllers ALTER COLUMN phone TYPE integer USING NULL')
      } else {
        await failing.app.db.dataSource.query("CREATE TRIGGER refuse_controllers BEFORE INSERT ON controllers BEGIN SELECT RAISE(ABORT, 'refused by a test'); END")
      }
      const res = await failing.http.post('/api/v1/controllers').set('authorization', await failing.auth('editor'))
        .send({ name: 'Åsa Öberg', email: 'asa.oberg@hudateljen.se', phone: '070-123 45 67', address: 'Storgatan 1, Östersund' })
      expect(res.status).to.equal(500)
      const line = failing.logs.find((l) => l.reqId === res.body.requestId && l.level >= 50)
      expect(line, 'an error log line with the request id').to.not.equal(undefined)
      expect(line!.err.type).to.match(/QueryFailedError/)
      expect(line!.err.code, 'the driver\'s code, to find the cause').to.be.a('string').and.not.equal('')
      expect(line!.err).to.not.have.any.keys('query', 'parameters', 'driverError')
      const text = JSON.stringify(failing.logs)
      for (const value of ['Åsa', 'Öberg', 'asa.oberg', 'hudateljen', '070-123', 'Storgatan', 'Östersund']) expect(text).to.not.contain(value)
      expect(text).to.not.match(/INSERT INTO|SELECT /)
    } finally {
      await failing.close()
    }
  })
})
