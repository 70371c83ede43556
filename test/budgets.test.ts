import { expect } from 'chai'
import http, { IncomingMessage } from 'node:http'
import { AddressInfo } from 'node:net'
import Fastify, { FastifyInstance } from 'fastify'
import app, { fastifyOptions } from '../src/app'
import { ConfigError, loadConfig } from '../src/config'
import { buildTestApp, migratedDatabase, SECRET, TestApp, TestDatabase, token } from './helper'
import { loadDemo } from '../src/register/demo/demo'
import { ClientGone, FlowLayout, flowLayout } from '../src/register/reading/flow-layout'
import { dataFlowSvg } from '../src/register/reading/data-flow'
import { largeFlow, smallFlow } from './flows'

const until = async (what: string, condition: () => boolean, timeoutMs = 10_000): Promise<void> => {
  const started = Date.now()
  while (!condition()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting until ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

const portOf = async (instance: FastifyInstance): Promise<number> => {
  if (!instance.server.listening) await instance.listen({ host: '127.0.0.1', port: 0 })
  return (instance.server.address() as AddressInfo).port
}

/** An import whose client sent its headers and a few bytes of a 1,000-byte body, and then nothing: a stalled upload. */
function stalledImport(port: number, authorization: string): http.ClientRequest {
  const request = http.request({
    host: '127.0.0.1', port, method: 'POST', path: '/api/v1/register/import',
    headers: { authorization, 'content-type': 'application/json', 'content-length': '1000' },
  })
  request.on('error', () => undefined) // destroyed by the test
  request.write('{"format": ')
  return request
}

/** The Authorization header of a slow uploader's import into a workspace, and of a reader's. */
const uploader = async (ws: string): Promise<string> => `Bearer ${await token('editor', ws, 'slow-uploader')}`
const reader = async (ws: string): Promise<string> => `Bearer ${await token('reader', ws)}`

/** A GET whose client reads nothing and is ended by the test. */
function openGet(port: number, path: string, authorization: string): http.ClientRequest {
  const request = http.get({ host: '127.0.0.1', port, path, headers: { authorization } })
  request.on('error', () => undefined)
  return request
}

function expectErrorShape(res: { status: number; body: any }, status: number, code: string): void {
  expect(res.status, JSON.stringify(res.body)).to.equal(status)
  expect(res.body).to.include({ statusCode: status, code })
  expect(res.body.requestId).to.be.a('string')
  expect(res.body.message).to.be.a('string')
}

describe('budgets: expensive operations in flight per workspace', function () {
  this.timeout(180_000)
  let t: TestApp
  let port: number
  before(async () => {
    t = await buildTestApp({ EXPENSIVE_PER_WORKSPACE: '2' })
    port = await portOf(t.app)
  })
  after(async () => t?.close())
  const inFlight = (ws: string) => t.app.expensiveInFlight.count(ws)

  it('refuses a workspace at its limit with 429 and Retry-After, while another workspace\'s export succeeds', async () => {
    const uploads = [stalledImport(port, await uploader('a')), stalledImport(port, await uploader('a'))]
    try {
      await until('both stalled imports are counted', () => inFlight('a') === 2)
      const refused = await t.http.get('/api/v1/register/export?format=csv').set('authorization', await t.auth('reader', 'a'))
      expectErrorShape(refused, 429, 'too_many_requests')
      expect(refused.body.message).to.contain('EXPENSIVE_PER_WORKSPACE')
      expect(Number(refused.headers['retry-after'])).to.be.within(1, 60)
      // a cheap read of the same workspace is not held back
      expect((await t.http.get('/api/v1/purposes').set('authorization', await t.auth('reader', 'a'))).status).to.equal(200)
      // another workspace has a budget of its own
      const other = await t.http.get('/api/v1/register/export?format=csv').set('authorization', await t.auth('reader', 'b'))
      expect(other.status).to.equal(200)
      expect(other.headers['content-type']).to.match(/^text\/csv/)
      // a client that goes away gives its place back
      uploads.pop()!.destroy()
      await until('the place is given back', () => inFlight('a') === 1)
      expect((await t.http.get('/api/v1/register/export?format=json').set('authorization', await t.auth('reader', 'a'))).status).to.equal(200)
    } finally {
      for (const u of uploads) u.destroy()
    }
    await until('every place is given back', () => inFlight('a') === 0)
  })

  it('counts every expensive operation (exports, backup, report, data flow, import, version proposal), and nothing else', async () => {
    const uploads = [stalledImport(port, await uploader('c')), stalledImport(port, await uploader('c'))]
    try {
      await until('both stalled imports are counted', () => inFlight('c') === 2)
      const as = (role: 'reader' | 'editor' | 'admin'): Promise<string> => t.auth(role, 'c')
      const expensive = [
        t.http.get('/api/v1/register/export?format=json').set('authorization', await as('reader')),
        t.http.get('/api/v1/register/export?format=xlsx').set('authorization', await as('reader')),
        t.http.get('/api/v1/register/backup').set('authorization', await as('admin')),
        t.http.get('/api/v1/register/report').set('authorization', await as('reader')),
        t.http.get('/api/v1/register/data-flow?format=svg').set('authorization', await as('reader')),
        t.http.post('/api/v1/register/import?dryRun=true').set('authorization', await as('editor')).send({}),
        t.http.post('/api/v1/register/versions').set('authorization', await as('editor')).send({ note: 'x' }),
      ]
      for (const res of await Promise.all(expensive)) expectErrorShape(res, 429, 'too_many_requests')
      const cheap = [
        t.http.get('/api/v1/register/findings').set('authorization', await as('reader')),
        t.http.get('/api/v1/register/versions').set('authorization', await as('reader')),
        t.http.get('/api/v1/history').set('authorization', await as('reader')),
        t.http.post('/api/v1/purposes').set('authorization', await as('editor')).send({ name: 'Payroll' }),
      ]
      expect((await Promise.all(cheap)).map((r) => r.status)).to.deep.equal([200, 200, 200, 201])
    } finally {
      for (const u of uploads) u.destroy()
    }
    await until('every place is given back', () => inFlight('c') === 0)
  })

  it('does not count a request refused before it started (no role, no token)', async () => {
    const denied = await t.http.post('/api/v1/register/import').set('authorization', await t.auth('reader', 'd')).send({})
    expect(denied.status).to.equal(403)
    expect((await t.http.get('/api/v1/register/export')).status).to.equal(401)
    expect(inFlight('d')).to.equal(0)
  })
})

/** More than the client's and the server's socket buffers hold together. */
const DOWNLOAD_BYTES = 64 * 1024 * 1024

describe('budgets: a download counts until its last byte is sent', function () {
  this.timeout(180_000)
  let instance: FastifyInstance
  let db: TestDatabase
  let port: number

  before(async () => {
    db = await migratedDatabase()
    const config = loadConfig({ NODE_ENV: 'test', DATABASE_URL: db.url, JWT_SECRET: SECRET, EXPENSIVE_PER_WORKSPACE: '1', REQUESTS_PER_MINUTE: '100000' })
    instance = Fastify(fastifyOptions(config))
    await instance.register(app, { config })
    // a download marked as the exports are: bytes already produced (as a spooled export's), more
    // than the sockets' buffers hold, so the answer ends only once the client has read them all
    instance.get('/api/v1/test/download', { config: { auth: 'reader', expensive: true } }, async (_request, reply) => {
      return reply.header('content-type', 'application/octet-stream').send(Buffer.alloc(DOWNLOAD_BYTES, 0x61))
    })
    port = await portOf(instance)
  })
  after(async () => {
    await instance?.close()
    await db?.drop()
  })

  it('holds its place while bytes are still to come, and gives it back after the last one', async () => {
    let received = 0
    let response: IncomingMessage | undefined
    const readerA = await reader('a')
    const ended = new Promise<void>((resolve) => {
      openGet(port, '/api/v1/test/download', readerA).on('response', (res) => {
        response = res
        // the client reads the first bytes, then stops reading for a while
        res.once('data', (c: Buffer) => { received += c.length; res.pause() })
        res.on('end', resolve)
      })
    })
    await until('the first part arrived', () => received > 0 && response?.isPaused() === true)
    expect(instance.expensiveInFlight.count('a'), 'counted while the download goes on').to.equal(1)
    const meanwhile = await new Promise<number>((resolve) => openGet(port, '/api/v1/test/download', readerA).on('response', (res) => { res.resume(); resolve(res.statusCode!) }))
    expect(meanwhile).to.equal(429)
    expect(instance.expensiveInFlight.count('a'), 'still counted: the client has not read the rest').to.equal(1)
    response!.on('data', (c: Buffer) => { received += c.length })
    response!.resume()
    await ended
    expect(received).to.equal(DOWNLOAD_BYTES)
    await until('the place is given back', () => instance.expensiveInFlight.count('a') === 0)
  })

  it('gives the place back when the client goes away in the middle', async () => {
    let started = false
    const request = openGet(port, '/api/v1/test/download', await reader('b'))
    request.on('response', (res) => { res.once('data', () => { started = true; res.pause() }) })
    await until('the download started', () => started && instance.expensiveInFlight.count('b') === 1)
    request.destroy()
    await until('the place is given back', () => instance.expensiveInFlight.count('b') === 0)
  })
})

describe('budgets: requests per token', () => {
  let t: TestApp
  before(async () => { t = await buildTestApp({ REQUESTS_PER_MINUTE: '4', AUTH_FAILURES_PER_MINUTE: '1000' }) })
  after(async () => t?.close())

  it('answers a token beyond REQUESTS_PER_MINUTE with 429, Retry-After and the rate-limit headers; other tokens and workspaces go on', async () => {
    const alice = `Bearer ${await token('reader', 'a', 'alice')}`
    const answers = []
    for (let i = 0; i < 4; i++) answers.push(await t.http.get('/api/v1/purposes').set('authorization', alice))
    expect(answers.map((r) => r.status)).to.deep.equal([200, 200, 200, 200])
    expect(answers.map((r) => r.headers['x-ratelimit-limit'])).to.deep.equal(['4', '4', '4', '4'])
    expect(answers.map((r) => r.headers['x-ratelimit-remaining'])).to.deep.equal(['3', '2', '1', '0'])
    expect(Number(answers[0].headers['x-ratelimit-reset'])).to.be.within(1, 60)
    const limited = await t.http.get('/api/v1/purposes').set('authorization', alice)
    expectErrorShape(limited, 429, 'too_many_requests')
    expect(limited.body.message).to.contain('REQUESTS_PER_MINUTE')
    expect(Number(limited.headers['retry-after'])).to.be.within(1, 60)
    expect(limited.headers['x-ratelimit-remaining']).to.equal('0')
    // a new token for the same person and workspace is the same caller
    expect((await t.http.get('/api/v1/purposes').set('authorization', `Bearer ${await token('editor', 'a', 'alice')}`)).status).to.equal(429)
    // another person, and the same name in another workspace, have their own
    expect((await t.http.get('/api/v1/purposes').set('authorization', `Bearer ${await token('reader', 'a', 'bob')}`)).status).to.equal(200)
    expect((await t.http.get('/api/v1/purposes').set('authorization', `Bearer ${await token('reader', 'b', 'alice')}`)).status).to.equal(200)
    // requests without a valid token are the failed-authentication limit's, not this one's
    for (let i = 0; i < 6; i++) expect((await t.http.get('/api/v1/purposes').set('authorization', 'Bearer a.b.c')).status).to.equal(401)
    expect((await t.http.get('/health')).status).to.equal(200)
  })

  it('defaults to a rate no team meets: 1,200 a minute', () => {
    expect(loadConfig({ NODE_ENV: 'test', JWT_SECRET: SECRET })).to.include({ requestsPerMinute: 1200, expensivePerWorkspace: 8, layoutTimeoutMs: 30_000, trustProxy: false })
  })
})

describe('budgets: TRUST_PROXY', () => {
  const config = (value?: string) => loadConfig({ NODE_ENV: 'test', JWT_SECRET: SECRET, ...(value === undefined ? {} : { TRUST_PROXY: value }) }).trustProxy

  it('takes false, true, a hop count or addresses and CIDR ranges, and refuses anything else naming the variable', () => {
    expect(config()).to.equal(false)
    expect(config('false')).to.equal(false)
    expect(config('true')).to.equal(true)
    expect(config('2')).to.equal(2)
    expect(config('10.0.0.0/8, 192.168.1.4,::1,fd00::/8,loopback')).to.deep.equal(['10.0.0.0/8', '192.168.1.4', '::1', 'fd00::/8', 'loopback'])
    for (const bad of ['yes', '10.0.0.0/33', '10.0.0', 'fd00::/129', '0', '10.0.0.1/8/8']) {
      expect(() => config(bad), bad).to.throw(ConfigError, /TRUST_PROXY/)
    }
  })

  async function limitedAndLogged(env: Record<string, string>): Promise<{ statuses: number[]; otherClient: number; logged: string[] }> {
    const t = await buildTestApp({ AUTH_FAILURES_PER_MINUTE: '2', ...env })
    try {
      const from = (client: string) => t.app.inject({ method: 'GET', url: '/api/v1/purposes', remoteAddress: '127.0.0.1', headers: { authorization: 'Bearer a.b.c', 'x-forwarded-for': client } })
      const statuses = []
      for (let i = 0; i < 3; i++) statuses.push((await from('203.0.113.7')).statusCode)
      const otherClient = (await from('198.51.100.9')).statusCode
      const logged = t.logs.filter((l) => l.msg === 'request completed').map((l) => l.req.remoteAddress)
      return { statuses, otherClient, logged }
    } finally {
      await t.close()
    }
  }

  it('behind a trusted proxy, X-Forwarded-For names the client for the failed-authentication limit and the access log', async () => {
    const seen = await limitedAndLogged({ TRUST_PROXY: '127.0.0.1' })
    expect(seen.statuses).to.deep.equal([401, 401, 429])
    expect(seen.otherClient, 'another client behind the same proxy').to.equal(401)
    expect(seen.logged).to.deep.equal(['203.0.113.7', '203.0.113.7', '203.0.113.7', '198.51.100.9'])
  })

  it('trusts a hop count of proxies in front of the service', async () => {
    const t = await buildTestApp({ TRUST_PROXY: '1' })
    try {
      await t.app.inject({ method: 'GET', url: '/health', remoteAddress: '10.0.0.2', headers: { 'x-forwarded-for': '192.0.2.1, 203.0.113.7' } })
      expect(t.logs.filter((l) => l.msg === 'request completed').map((l) => l.req.remoteAddress)).to.deep.equal(['203.0.113.7'])
    } finally {
      await t.close()
    }
  })

  it('without TRUST_PROXY, X-Forwarded-For decides nothing: the connection\'s address is the client', async () => {
    const seen = await limitedAndLogged({})
    expect(seen.statuses).to.deep.equal([401, 401, 429])
    expect(seen.otherClient, 'a forged X-Forwarded-For does not escape the limit').to.equal(429)
    expect(seen.logged).to.deep.equal(['127.0.0.1', '127.0.0.1', '127.0.0.1', '127.0.0.1'])
  })
})

const small = smallFlow

describe('budgets: the layout pool', function () {
  this.timeout(120_000)

  it('takes workspaces in turn: a workspace with its share queued does not refuse or hold up another', async () => {
    const layout = new FlowLayout({ timeoutMs: 120_000, perWorkspace: 8, threads: 1 })
    try {
      const finished: string[] = []
      const drawn = (label: string, p: Promise<string>) => p.then((svg) => { finished.push(label); return svg })
      const a = Array.from({ length: 8 }, (_, i) => drawn(`a${i}`, dataFlowSvg(i === 0 ? largeFlow() : small(`A ${i}`), 'en', { workspace: 'a' }, layout)))
      const ninth = dataFlowSvg(small('A 9'), 'en', { workspace: 'a' }, layout)
      const b = drawn('b', dataFlowSvg(small('Other workspace'), 'en', { workspace: 'b' }, layout))
      let refused: any
      await ninth.catch((err) => { refused = err })
      expect(refused).to.include({ statusCode: 503, code: 'layout_busy' })
      expect(await b).to.contain('>Other workspace</tspan>')
      await Promise.all(a)
      // b waited for the layout under way, not for a's queue
      expect(finished.indexOf('b')).to.equal(1)
    } finally {
      await layout.close()
    }
  })

  it('drops the layout of a client that went away, and its place and thread are free at once', async () => {
    const layout = new FlowLayout({ timeoutMs: 120_000, perWorkspace: 1, threads: 1 })
    try {
      const gone = new AbortController()
      const large = dataFlowSvg(largeFlow(), 'en', { workspace: 'a', signal: gone.signal }, layout)
      await until('the large layout is under way', () => layout.busy)
      // the workspace's one place is taken
      let busy: any
      await dataFlowSvg(small('Too many'), 'en', { workspace: 'a' }, layout).catch((err) => { busy = err })
      expect(busy).to.include({ code: 'layout_busy' })
      gone.abort()
      let error: any
      await large.catch((err) => { error = err })
      expect(error).to.be.instanceOf(ClientGone)
      expect(layout.load('a')).to.equal(0)
      // the thread was ended with the layout: free at once for the next, which is drawn by a new one
      expect(layout.busy).to.equal(false)
      expect(await dataFlowSvg(small('Next'), 'en', { workspace: 'a' }, layout)).to.contain('>Next</tspan>')
      // a waiting layout whose client goes away leaves its queue
      const queued = new AbortController()
      const running = dataFlowSvg(largeFlow(), 'en', { workspace: 'b' }, layout)
      const waiting = dataFlowSvg(small('Waiting'), 'en', { workspace: 'c', signal: queued.signal }, layout)
      queued.abort()
      let dropped: any
      await waiting.catch((err) => { dropped = err })
      expect(dropped).to.be.instanceOf(ClientGone)
      expect(layout.load('c')).to.equal(0)
      await running
    } finally {
      await layout.close()
    }
  })

  describe('over HTTP', () => {
    let t: TestApp
    let port: number
    before(async () => {
      // nine demo pictures one after another on a loaded machine: far within two minutes
      t = await buildTestApp({ LAYOUT_TIMEOUT: '120s' })
      await loadDemo(t.app.db, { sub: 'demo-loader', role: 'admin', ws: 'a' })
      await loadDemo(t.app.db, { sub: 'demo-loader', role: 'admin', ws: 'b' })
      port = await portOf(t.app)
    })
    after(async () => t?.close())

    it('nine report requests from one reader do not refuse another workspace\'s picture', async () => {
      const reader = await t.auth('reader', 'a', 'one-reader')
      const nine = Array.from({ length: 9 }, () => t.http.get('/api/v1/register/report').set('authorization', reader).then((r) => r.status))
      await until('the reports are being drawn', () => flowLayout.load('a') >= 4, 30_000)
      const other = await t.http.get('/api/v1/register/data-flow?format=svg').set('authorization', await t.auth('reader', 'b')).buffer(true)
      expect(other.status, String(other.body)).to.equal(200)
      const statuses = await Promise.all(nine)
      // eight drawn; the ninth beyond the workspace's budget of expensive operations (8), told to come back
      expect(statuses.filter((s) => s === 200)).to.have.length(8)
      expect(statuses.filter((s) => s === 429)).to.have.length(1)
    })

    it('stops drawing when the client goes away, and gives back its places', async () => {
      const request = openGet(port, '/api/v1/register/data-flow?format=svg', await reader('a'))
      await until('the picture is being drawn', () => flowLayout.load('a') === 1, 30_000)
      expect(t.app.expensiveInFlight.count('a')).to.equal(1)
      request.destroy()
      await until('the layout is dropped', () => flowLayout.load('a') === 0)
      await until('the expensive place is given back', () => t.app.expensiveInFlight.count('a') === 0)
    })
  })
})
