import { IMPORT_BODY_LIMIT } from '../routes/register/import'
import { expect } from 'chai'
import { createHmac, createPublicKey, generateKeyPairSync } from 'node:crypto'
import { signToken } from './tokens'
import { RESOURCES } from '../src/register/records/model'
import { buildTestApp, SECRET, TestApp, token } from './helper'
import { buildRegister, Fixture } from './export-fixture'

type Row = Record<string, any>
type Answer = { statusCode: number; headers: Record<string, any>; body: string; json(): any }

const ERROR_KEYS = ['statusCode', 'error', 'code', 'message', 'requestId', 'details', 'references']

function expectErrorShape(res: Answer, status: number | number[], context = ''): Row {
  const statuses = Array.isArray(status) ? status : [status]
  expect(res.statusCode, `${context} → ${res.body.slice(0, 300)}`).to.be.oneOf(statuses)
  const body = res.json()
  expect(Object.keys(body).every((k) => ERROR_KEYS.includes(k)), `${context}: ${res.body.slice(0, 300)}`).to.equal(true)
  expect(body.statusCode, context).to.equal(res.statusCode)
  for (const key of ['error', 'code', 'message', 'requestId']) expect(body[key], `${key} ${context}`).to.be.a('string')
  return body
}

/** Every table's row count: what a refused request must leave as it was. */
async function tableCounts(t: TestApp): Promise<Record<string, number>> {
  const out: Record<string, number> = {}
  for (const m of t.app.db.dataSource.entityMetadatas) {
    out[m.tableName] = Number((await t.app.db.dataSource.query(`SELECT COUNT(*) AS n FROM ${m.tableName}`))[0].n)
  }
  return out
}

const SQL_TEXT = ["'; DROP TABLE controllers; --", '%', '_', '\\', "'", '"', '%_\\', "' OR '1'='1", '`; DELETE FROM history; --', '*/ SELECT 1 /*', '1; SELECT pg_sleep(5)']

describe('abuse: hostile bodies', () => {
  let t: TestApp
  let f: Fixture
  before(async () => {
    t = await buildTestApp()
    f = await buildRegister(t)
  })
  after(async () => t.close())

  const send = async (method: string, url: string, payload: string | Buffer, headers: Record<string, string> = {}) =>
    t.app.inject({ method: method as 'POST', url, payload, headers: { authorization: await t.auth('admin'), 'content-type': 'application/json', ...headers } }) as Promise<Answer>

  it('refuses bodies over the limit with 413: 1 MiB for a record, 100 MiB for an import', async () => {
    const before = await tableCounts(t)
    const record = await send('POST', '/api/v1/purposes', JSON.stringify({ name: 'x', description: 'y'.repeat(1024 * 1024) }))
    expect(expectErrorShape(record, 413).code).to.equal('body_too_large')
    // an import document may be larger than a record: this one is read, and its errors reported
    const fits = await send('POST', '/api/v1/register/import?dryRun=true', JSON.stringify({ format: 'gdpr-art30-register', padding: ' '.repeat(2 * 1024 * 1024) }))
    expect(fits.statusCode).to.equal(200)
    expect(fits.json().errors.map((e: Row) => e.path)).to.include('padding')
    const document = await send('POST', '/api/v1/register/import', Buffer.alloc(IMPORT_BODY_LIMIT + 1, ' '))
    expect(expectErrorShape(document, 413).code).to.equal('body_too_large')
    expect(await tableCounts(t)).to.deep.equal(before)
  })

  it('answers 10,000 levels of nesting with 400 on every kind of write, and keeps serving', async () => {
    const objects = (inner: string) => '{"a":'.repeat(10000) + inner + '}'.repeat(10000)
    const arrays = '['.repeat(10000) + ']'.repeat(10000)
    const activity = f.activities.records
    const before = await tableCounts(t)
    for (const [method, url, payload] of [
      ['POST', '/api/v1/purposes', `{"name":"x","extra":${objects('1')}}`],
      ['POST', '/api/v1/purposes', `{"name":${arrays}}`],
      ['POST', '/api/v1/processing-activities', `{"name":"x","role":"controller","controllerId":"${activity.controller.id}","purposes":${arrays}}`],
      ['PUT', `/api/v1/controllers/${f.controllers.clinic.id}`, `{"name":"x","dataProtectionOfficer":${objects('null')}}`],
      ['PATCH', `/api/v1/processing-activities/${activity.id}`, `{"dpia":${objects('{}')}}`],
      ['POST', `/api/v1/processing-activities/${activity.id}/review`, `{"nextReviewAt":${arrays}}`],
      ['POST', '/api/v1/register/import', arrays],
      ['POST', '/api/v1/register/import', `{"format":"gdpr-art30-register","formatVersion":1,"controllers":${arrays}}`],
      ['POST', '/api/v1/purposes', objects('1')],
    ]) {
      const res = await send(method, url, payload)
      expectErrorShape(res, 400, `${method} ${url}`)
    }
    expect(await tableCounts(t)).to.deep.equal(before)
    expect((await send('POST', '/api/v1/purposes', '{"name":"Still here"}')).statusCode).to.equal(201)
  })

  it('refuses a string longer than its field allows with 400 naming the field, on every resource', async () => {
    const long = 'Å'.repeat(100000)
    const activity = f.activities.records
    const cases: [string, string, Row, string][] = RESOURCES.map((def) => ['POST', `/api/v1/${def.plural}`, { name: long }, 'name'])
    cases.push(
      ['POST', '/api/v1/purposes', { name: 'ok', description: 'd'.repeat(10001) }, 'description'],
      ['PATCH', `/api/v1/controllers/${f.controllers.clinic.id}`, { dataProtectionOfficer: { name: long } }, 'dataProtectionOfficer.name'],
      ['PATCH', `/api/v1/processing-activities/${activity.id}`, { systems: ['ok', long] }, 'systems'],
      ['PATCH', `/api/v1/processing-activities/${activity.id}`, { purposes: [{ purposeId: activity.purposes[0].purpose.id, legitimateInterest: long }] }, 'purposes[0].legitimateInterest'],
    )
    const before = await tableCounts(t)
    for (const [method, url, body, field] of cases) {
      const res = await send(method, url, JSON.stringify(body))
      const error = expectErrorShape(res, 400, `${method} ${url} ${field}`)
      expect(error.details.map((d: Row) => d.field), url).to.include(field)
      expect(res.body.length, 'the answer does not echo the long value').to.be.below(5000)
    }
    expect(await tableCounts(t)).to.deep.equal(before)
  })

  it('refuses invalid UTF-8, NUL characters and unpaired surrogates in a JSON body with 400', async () => {
    const before = await tableCounts(t)
    const raw = (bytes: number[]) => Buffer.concat([Buffer.from('{"name":"Kund'), Buffer.from(bytes), Buffer.from('"}')])
    for (const bytes of [[0xff], [0x80], [0xc3, 0x28], [0xc0, 0xaf], [0xe2, 0x82], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80]]) {
      for (const url of ['/api/v1/purposes', `/api/v1/controllers/${f.controllers.clinic.id}`, '/api/v1/register/import']) {
        const res = await send(url.includes('controllers/') ? 'PUT' : 'POST', url, raw(bytes))
        expect(expectErrorShape(res, 400, `${url} ${bytes}`).code).to.equal('invalid_json')
      }
    }
    for (const [body, field] of [['{"name":"a\\u0000b"}', 'name'], ['{"name":"a\\ud800b"}', 'name'], ['{"name":"x","description":"\\udfff"}', 'description']]) {
      const error = expectErrorShape(await send('POST', '/api/v1/purposes', body), 400, body)
      expect(error.details.map((d: Row) => d.field)).to.deep.equal([field])
    }
    expect(await tableCounts(t)).to.deep.equal(before)
    // characters outside the BMP, correctly encoded, are text like any other
    const emoji = await send('POST', '/api/v1/purposes', Buffer.from('{"name":"Kundklubb 😀"}'))
    expect(emoji.statusCode).to.equal(201)
    expect(emoji.json().name).to.equal('Kundklubb 😀')
  })
})

describe('abuse: hostile query strings and paths', () => {
  let t: TestApp
  let operations: { method: string; path: string; params: { name: string; schema: Row }[] }[]
  const names = [...SQL_TEXT.map((s) => `Ändamål ${s}`), 'Plain purpose', 'Another_one', '100% sure']

  before(async () => {
    t = await buildTestApp()
    await buildRegister(t)
    for (const name of names) {
      const res = await t.http.post('/api/v1/purposes').set('authorization', await t.auth('editor')).send({ name })
      expect(res.status).to.equal(201)
    }
    const doc = t.app.swagger() as Row
    operations = []
    for (const [path, item] of Object.entries<Row>(doc.paths)) {
      if (!path.startsWith('/api')) continue
      for (const [method, op] of Object.entries<Row>(item)) {
        operations.push({ method: method.toUpperCase(), path, params: (op.parameters ?? []).filter((p: Row) => p.in === 'query') })
      }
    }
  })
  after(async () => t.close())

  const get = async (url: string) => t.app.inject({ method: 'GET', url, headers: { authorization: await t.auth('admin') } }) as Promise<Answer>
  const SAMPLE: Record<string, string> = { uuid: '00000000-0000-4000-8000-000000000002', 'date-time': '2026-01-01T00:00:00Z' }

  it('answers SQL metacharacters in every filter and sort parameter with 400 or a correctly filtered page, never 500; the tables stay', async () => {
    const before = await tableCounts(t)
    let tried = 0
    for (const op of operations.filter((o) => o.method === 'GET' && !/\{\w+\}/.test(o.path))) {
      const required = op.params.filter((p) => (p as Row).required).map((p) => `${p.name}=${encodeURIComponent(SAMPLE[p.schema.format] ?? 'x')}`)
      for (const param of op.params) {
        for (const value of SQL_TEXT) {
          const url = `${op.path}?${[...required.filter((r) => !r.startsWith(`${param.name}=`)), `${param.name}=${encodeURIComponent(value)}`].join('&')}`
          const res = await get(url)
          tried++
          if (res.statusCode !== 200) {
            const error = expectErrorShape(res, 400, url)
            expect(error.details.map((d: Row) => d.field), url).to.include(param.name)
            continue
          }
          const items = res.headers['content-type']?.includes('json') ? res.json().items : undefined
          if (!Array.isArray(items)) continue // export documents and privacy notices: filtered by what they are asked, checked elsewhere
          if (param.name === 'q') {
            const expected = op.path === '/api/v1/purposes' ? names.filter((n) => n.toLowerCase().includes(value.toLowerCase())).sort() : undefined
            if (expected) expect(items.map((i: Row) => i.name).sort(), url).to.deep.equal(expected)
          } else {
            expect(items, `${url}: no record has this value`).to.deep.equal([])
          }
        }
      }
    }
    expect(tried).to.be.above(200)
    expect(await tableCounts(t)).to.deep.equal(before)
  })

  it('answers odd ids in paths with 400 or 404 on every operation by id, never 500', async () => {
    const odd = [
      '..%2F..%2Fetc%2Fpasswd', '%2e%2e%2f', '.%00.', 'a'.repeat(5000), encodeURIComponent('ö😀'), 'null', 'undefined', '0', '-1',
      encodeURIComponent("1' OR '1'='1"), encodeURIComponent('1; DROP TABLE controllers; --'), '%00', '%ZZ', '%', '00000000-0000-0000-0000-000000000000',
      '{id}', encodeURIComponent('00000000-0000-4000-8000-000000000002\n'),
    ]
    const before = await tableCounts(t)
    for (const op of operations.filter((o) => o.path.includes('{id}'))) {
      for (const id of odd) {
        const url = op.path.replace('{id}', id)
        const res = await t.app.inject({
          method: op.method as 'GET', url, headers: { authorization: await t.auth('admin'), ...(op.method === 'GET' || op.method === 'DELETE' ? {} : { 'content-type': 'application/json' }) },
          ...(op.method === 'GET' || op.method === 'DELETE' ? {} : { payload: '{}' }),
        }) as Answer
        expectErrorShape(res, [400, 404], `${op.method} ${url.slice(0, 120)}`)
      }
    }
    expect(await tableCounts(t)).to.deep.equal(before)
  })
})

describe('abuse: tampered tokens', () => {
  let t: TestApp
  const ISSUER = 'https://idp.example.se'
  const AUDIENCE = 'ropa-register'
  const attacker = generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } })
  before(async () => { t = await buildTestApp({ JWT_ISSUER: ISSUER, JWT_AUDIENCE: AUDIENCE }) })
  after(async () => t.close())

  const b64 = (o: object): string => Buffer.from(JSON.stringify(o)).toString('base64url')
  const parts = (jwtText: string) => {
    const [h, p, s] = jwtText.split('.')
    return { header: JSON.parse(Buffer.from(h, 'base64url').toString()), payload: JSON.parse(Buffer.from(p, 'base64url').toString()), signature: s }
  }
  const hmac = (alg: 'sha256' | 'sha384' | 'sha512', key: string, header: object, payload: object): string => {
    const input = `${b64(header)}.${b64(payload)}`
    return `${input}.${createHmac(alg, key).update(input).digest('base64url')}`
  }
  const valid = (role: 'reader' | 'editor' | 'admin' = 'reader', options: Parameters<typeof token>[3] = {}): Promise<string> => token(role, 'test', 'someone', { issuer: ISSUER, audience: AUDIENCE, ...options })

  it('accepts a token from the configured issuer for the configured audience', async () => {
    const res = await t.http.get('/api/v1/purposes').set('authorization', `Bearer ${await valid()}`)
    expect(res.status).to.equal(200)
  })

  it('refuses every tampered or foreign token with 401 in the one shape, and a forged write stores nothing', async () => {
    const reader = parts(await valid('reader'))
    const now = Math.floor(Date.now() / 1000)
    const claims = { ...reader.payload }
    const forged: Record<string, string> = {
      'role raised, old signature': `${b64(reader.header)}.${b64({ ...claims, role: 'admin' })}.${reader.signature}`,
      'workspace changed, old signature': `${b64(reader.header)}.${b64({ ...claims, ws: 'other' })}.${reader.signature}`,
      'expiry extended, old signature': `${b64(reader.header)}.${b64({ ...claims, exp: now + 3600 * 24 * 365 })}.${reader.signature}`,
      'alg none, no signature': `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ ...claims, role: 'admin' })}.`,
      'alg none, old signature': `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.${reader.signature}`,
      'alg NONE': `${b64({ alg: 'NONE', typ: 'JWT' })}.${b64({ ...claims, role: 'admin' })}.`,
      'alg HS512 with the secret': hmac('sha512', SECRET, { alg: 'HS512', typ: 'JWT' }, { ...claims, role: 'admin' }),
      'alg HS384 with the secret': hmac('sha384', SECRET, { alg: 'HS384', typ: 'JWT' }, { ...claims, role: 'admin' }),
      'alg RS256 by an attacker': await signToken({ ...claims, role: 'admin' }, attacker.privateKey, { algorithm: 'RS256' }),
      'kid pointing at an empty file, empty key': hmac('sha256', '', { alg: 'HS256', typ: 'JWT', kid: '../../../../../../dev/null' }, { ...claims, role: 'admin' }),
      'kid with SQL, attacker key': hmac('sha256', 'attacker', { alg: 'HS256', typ: 'JWT', kid: "x' UNION SELECT 'attacker" }, { ...claims, role: 'admin' }),
      'jku at the attacker': await signToken({ ...claims, role: 'admin' }, attacker.privateKey, { algorithm: 'RS256', header: { jku: 'https://evil.example/jwks.json', kid: 'evil' } }),
      'x5u at the attacker': await signToken({ ...claims, role: 'admin' }, attacker.privateKey, { algorithm: 'RS256', header: { x5u: 'https://evil.example/cert.pem' } }),
      'embedded jwk of the attacker': await signToken({ ...claims, role: 'admin' }, attacker.privateKey, {
        algorithm: 'RS256', header: { jwk: { kty: 'RSA', ...(createPublicKey(attacker.publicKey).export({ format: 'jwk' })) } },
      }),
      'HS256 with another secret': await signToken({ role: 'admin', ws: 'test' }, 'another-secret-that-is-long-enough-0123456789', { subject: 'x', expiresIn: 3600, issuer: ISSUER, audience: AUDIENCE }),
      'another issuer': await valid('admin', { issuer: 'https://evil.example' }),
      'another audience': await valid('admin', { audience: 'billing' }),
      'no issuer': await token('admin', 'test', 'someone', { audience: AUDIENCE }),
      'no audience': await token('admin', 'test', 'someone', { issuer: ISSUER }),
      'audience list without ours': await valid('admin', { audience: ['billing', 'hr'] }),
      'expired': await valid('admin', { expiresIn: -60 }),
      'not yet valid': await valid('admin', { notBefore: 3600 }),
      'no expiry': await signToken({ role: 'admin', ws: 'test', sub: 'x', iss: ISSUER, aud: AUDIENCE }, SECRET),
      'role outside the list': (await valid('admin')).replace(/\..*\./, () => `.${b64({ ...claims, role: 'superuser' })}.`),
      'signature stripped': `${b64(reader.header)}.${b64(claims)}.`,
      'payload not JSON': `${b64(reader.header)}.${Buffer.from('not json').toString('base64url')}.${reader.signature}`,
      'four parts': `${await valid('admin')}.extra`,
    }
    const before = await tableCounts(t)
    for (const [what, forgedToken] of Object.entries(forged)) {
      for (const req of [
        t.app.inject({ method: 'GET', url: '/api/v1/purposes', headers: { authorization: `Bearer ${forgedToken}` } }),
        t.app.inject({ method: 'POST', url: '/api/v1/legal-bases', headers: { authorization: `Bearer ${forgedToken}` }, payload: { code: 'SE-FORGED', kind: 'national-law', articleReference: 'x', name: 'Forged' } }),
      ]) {
        const res = await req as Answer
        expect(expectErrorShape(res, 401, what).code, what).to.equal('unauthorized')
        expect(res.headers['www-authenticate'], what).to.match(/^Bearer realm="register", error="invalid_token"/)
      }
    }
    expect(await tableCounts(t)).to.deep.equal(before)
  })
})

describe('abuse: the limit on failed authentication', () => {
  let t: TestApp
  before(async () => { t = await buildTestApp({ AUTH_FAILURES_PER_MINUTE: '3' }) })
  after(async () => t.close())

  const from = (remoteAddress: string, authorization: string | undefined, method: 'GET' | 'POST' = 'GET', payload?: string) => t.app.inject({
    method, url: '/api/v1/purposes', remoteAddress, payload,
    headers: { ...(authorization ? { authorization } : {}), ...(payload ? { 'content-type': 'application/json' } : {}) },
  }) as Promise<Answer>

  it('counts forged tokens as failures, per client address, says when to retry, and refuses before reading the body', async () => {
    const reader = await token('reader')
    const [h, p] = reader.split('.')
    const escalated = `${h}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p, 'base64url').toString()), role: 'admin' })).toString('base64url')}.${reader.split('.')[2]}`
    // a bad token on a write is refused as unauthenticated, not as a malformed body
    const unread = await from('10.0.0.1', `Bearer ${escalated}`, 'POST', '{"name": ')
    expect(unread.statusCode).to.equal(401)
    expect((await from('10.0.0.1', `Bearer ${escalated}`)).statusCode).to.equal(401)
    expect((await from('10.0.0.1', 'Basic YWRtaW46YWRtaW4=')).statusCode).to.equal(401)
    const limited = await from('10.0.0.1', `Bearer ${escalated}`)
    expect(expectErrorShape(limited, 429).code).to.equal('too_many_failed_authentications')
    expect(Number(limited.headers['retry-after'])).to.be.within(1, 60)
    // a 429 even with a huge body: the body is never read
    expect((await from('10.0.0.1', undefined, 'POST', JSON.stringify({ name: 'x'.repeat(500000) }))).statusCode).to.equal(429)
    // another address is not held back by this one's failures, and valid tokens pass everywhere
    expect((await from('10.0.0.2', `Bearer ${escalated}`)).statusCode).to.equal(401)
    expect((await from('10.0.0.1', `Bearer ${reader}`)).statusCode).to.equal(200)
    const write = await from('10.0.0.1', `Bearer ${await token('editor')}`, 'POST', '{"name":"Legitimate"}')
    expect(write.statusCode).to.equal(201)
  })
})

describe('abuse: security headers on every kind of answer', () => {
  let t: TestApp
  before(async () => { t = await buildTestApp({ BODY_LIMIT: '2048' }) })
  after(async () => t.close())

  const expectHardened = (res: Answer, what: string): void => {
    expect(res.headers['x-content-type-options'], what).to.equal('nosniff')
    expect(res.headers['strict-transport-security'], what).to.match(/max-age=\d+/)
    expect(res.headers['x-frame-options'], what).to.equal('SAMEORIGIN')
    expect(res.headers['content-security-policy'], what).to.match(/frame-ancestors 'none'|default-src/)
    expect(res.headers['referrer-policy'], what).to.equal('no-referrer')
    expect(res.headers['x-powered-by'], what).to.equal(undefined)
    expect(res.headers['access-control-allow-origin'], what).to.equal(undefined)
  }

  it('hardens API answers, errors and the documentation alike', async () => {
    const reader = await t.auth('reader')
    const answers: [string, Answer][] = [
      ['a list', await t.app.inject({ method: 'GET', url: '/api/v1/purposes', headers: { authorization: reader } })],
      ['401', await t.app.inject({ method: 'GET', url: '/api/v1/purposes' })],
      ['404', await t.app.inject({ method: 'GET', url: '/api/v1/nothing', headers: { authorization: reader } })],
      ['413', await t.app.inject({ method: 'POST', url: '/api/v1/purposes', headers: { authorization: await t.auth('editor'), 'content-type': 'application/json' }, payload: JSON.stringify({ name: 'x'.repeat(5000) }) })],
      ['400 bad url', await t.app.inject({ method: 'GET', url: '/api/v1/purposes/%ZZ', headers: { authorization: reader } })],
      ['/openapi.json', await t.app.inject({ method: 'GET', url: '/openapi.json' })],
      ['/health', await t.app.inject({ method: 'GET', url: '/health' })],
    ]
    for (const [what, res] of answers) {
      if (what === '400 bad url') {
        // refused by the router, before any hook: the essentials are set by hand
        expect(res.headers['x-content-type-options'], what).to.equal('nosniff')
        expect(res.headers['content-security-policy'], what).to.contain("default-src 'none'")
        expect(res.headers['x-request-id'], what).to.equal(res.json().requestId)
        continue
      }
      expectHardened(res, what)
      expect(res.headers['content-type'], what).to.match(/application\/json/)
    }

    const docs = await t.app.inject({ method: 'GET', url: '/docs/' })
    expect(docs.statusCode).to.equal(200)
    expect(docs.headers['content-type']).to.match(/text\/html/)
    expectHardened(docs, '/docs')
    // Swagger UI runs under its own policy: scripts from itself only, no inline handlers from elsewhere
    expect(docs.headers['content-security-policy']).to.match(/script-src 'self'/)
    expect(docs.headers['content-security-policy']).to.not.match(/unsafe-eval/)
  })
})
