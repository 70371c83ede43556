import { expect } from 'chai'
import { buildTestApp, TestApp } from './helper'
import { HELMET_OPTIONS, helmetHeaders } from '../src/plugins/security'

describe('security headers, CORS and the failed-authentication limit', () => {
  let t: TestApp
  before(async () => { t = await buildTestApp({ AUTH_FAILURES_PER_MINUTE: '5' }) })
  after(async () => t.close())

  it('sets security headers on API answers', async () => {
    const res = await t.http.get('/api/v1/purposes').set('authorization', await t.auth('reader'))
    expect(res.headers['x-content-type-options']).to.equal('nosniff')
    expect(res.headers['strict-transport-security']).to.match(/max-age=/)
    expect(res.headers['content-security-policy']).to.contain("default-src 'none'")
    expect(res.headers['x-frame-options']).to.equal('SAMEORIGIN')
    expect(res.headers['x-powered-by']).to.equal(undefined)
  })

  it('sends helmet\'s headers byte for byte, in its order and spelling, computed once for every answer', async () => {
    // what @fastify/helmet sent with these options when it ran helmet on every request
    const helmets = [
      ['Content-Security-Policy', "default-src 'none';base-uri 'self';font-src 'self' https: data:;form-action 'self';frame-ancestors 'none';img-src 'self' data:;object-src 'none';script-src 'self';script-src-attr 'none';style-src 'self' https: 'unsafe-inline';upgrade-insecure-requests"],
      ['Cross-Origin-Opener-Policy', 'same-origin'],
      ['Cross-Origin-Resource-Policy', 'same-origin'],
      ['Origin-Agent-Cluster', '?1'],
      ['Referrer-Policy', 'no-referrer'],
      ['Strict-Transport-Security', 'max-age=31536000; includeSubDomains'],
      ['X-Content-Type-Options', 'nosniff'],
      ['X-DNS-Prefetch-Control', 'off'],
      ['X-Download-Options', 'noopen'],
      ['X-Frame-Options', 'SAMEORIGIN'],
      ['X-Permitted-Cross-Domain-Policies', 'none'],
      ['X-XSS-Protection', '0'],
    ]
    expect(helmetHeaders(HELMET_OPTIONS)).to.deep.equal({ set: helmets, removed: ['X-Powered-By'] })
    const answers: [string, { res: { rawHeaders: string[] } }][] = [
      ['a list', await t.http.get('/api/v1/purposes').set('authorization', await t.auth('reader'))],
      ['the list again', await t.http.get('/api/v1/purposes').set('authorization', await t.auth('reader'))],
      ['404', await t.http.get('/api/v1/purposes/00000000-0000-4000-8000-000000000000').set('authorization', await t.auth('reader'))],
      ['/health', await t.http.get('/health')],
    ] as never
    for (const [what, { res: { rawHeaders: raw } }] of answers) {
      const pairs = Array.from({ length: raw.length / 2 }, (_, i) => [raw[2 * i], raw[2 * i + 1]])
      expect(pairs.slice(0, helmets.length), what).to.deep.equal(helmets)
      expect(pairs.map(([name]) => name.toLowerCase())).to.not.include('x-powered-by')
    }
  })

  it('sends no CORS headers unless origins are configured', async () => {
    const res = await t.http.get('/api/v1/purposes').set('authorization', await t.auth('reader')).set('origin', 'https://evil.example')
    expect(res.headers['access-control-allow-origin']).to.equal(undefined)
    const preflight = await t.http.options('/api/v1/purposes').set('origin', 'https://evil.example').set('access-control-request-method', 'GET')
    expect(preflight.headers['access-control-allow-origin']).to.equal(undefined)
  })

  it('slows down token guessing: 429 after the limit of failed attempts, while valid tokens still pass', async () => {
    const statuses: number[] = []
    for (let i = 0; i < 7; i++) {
      statuses.push((await t.http.get('/api/v1/purposes').set('authorization', 'Bearer a.b.c')).status)
    }
    expect(statuses).to.deep.equal([401, 401, 401, 401, 401, 429, 429])
    const limited = await t.http.get('/api/v1/purposes')
    expect(limited.status).to.equal(429)
    expect(limited.body).to.include({ statusCode: 429, code: 'too_many_failed_authentications' })
    expect(limited.body.requestId).to.be.a('string')
    const ok = await t.http.get('/api/v1/purposes').set('authorization', await t.auth('reader'))
    expect(ok.status).to.equal(200)
    expect((await t.http.get('/health')).status).to.equal(200)
  })
})

describe('CORS for configured origins', () => {
  let t: TestApp
  before(async () => { t = await buildTestApp({ CORS_ORIGINS: 'https://intranet.example.se' }) })
  after(async () => t.close())

  it('allows exactly the configured origin', async () => {
    const ok = await t.http.options('/api/v1/purposes').set('origin', 'https://intranet.example.se').set('access-control-request-method', 'PATCH')
    expect(ok.headers['access-control-allow-origin']).to.equal('https://intranet.example.se')
    const other = await t.http.get('/api/v1/purposes').set('authorization', await t.auth('reader')).set('origin', 'https://evil.example')
    expect(other.headers['access-control-allow-origin']).to.equal(undefined)
  })
})
