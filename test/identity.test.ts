import { expect } from 'chai'
import { execFile } from 'node:child_process'
import { generateKeyPairSync, KeyObject, randomUUID } from 'node:crypto'
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, Server } from 'node:http'
import { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { decodeToken, SignOptions, signToken } from './tokens'
import { DataSource } from 'typeorm'
import { ConfigError, loadConfig } from '../src/config'
import { createDataSource, dataSourceOptions, dialectOf, migrationsDir } from '../src/db/data-source'
import { BUILT_IN_LEGAL_BASES } from '../src/register/records/catalogue'
import { addWorkspace } from '../src/register/records/workspaces'
import { buildTestApp, freshDatabase, HISTORY_KEY_FILE, TestApp, TestDatabase } from './helper'

type Alg = 'RS256' | 'PS256' | 'ES256'

/** A signing key of the identity provider: the private half signs tokens, the public half is published. */
interface ProviderKey {
  kid: string
  alg: Alg
  privateKey: string
  publicPem: string
  jwk: Record<string, unknown>
}

function providerKey(kid: string, alg: Alg): ProviderKey {
  const pair = alg === 'ES256' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('rsa', { modulusLength: 2048 })
  const pub = pair.publicKey as KeyObject
  return {
    kid,
    alg,
    privateKey: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    publicPem: pub.export({ type: 'spki', format: 'pem' }) as string,
    jwk: { ...pub.export({ format: 'jwk' }), kid, alg, use: 'sig' },
  }
}

/** The provider's JWKS endpoint on loopback, as Keycloak serves it; it counts the fetches. */
class Provider {
  keys: ProviderKey[]
  fetches = 0
  failing = false
  private constructor(private readonly server: Server, keys: ProviderKey[]) { this.keys = keys }

  static async start(keys: ProviderKey[]): Promise<Provider> {
    let provider!: Provider
    const server = createServer((req, res) => {
      provider.fetches++
      if (provider.failing) {
        res.writeHead(503).end('down for maintenance')
        return
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: provider.keys.map((k) => k.jwk) }))
    })
    provider = new Provider(server, keys)
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    return provider
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/realms/acme/protocol/openid-connect/certs`
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()))
  }
}

const ISSUER = 'https://idp.example.se/realms/acme'
const AUDIENCE = 'ropa-register'
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** A token as the provider would issue it (Keycloak-style claims unless overridden). */
function issue(key: ProviderKey, claims: object, options: SignOptions = {}): Promise<string> {
  const all: SignOptions = { algorithm: key.alg, keyid: key.kid, subject: 'alice', expiresIn: '30m', issuer: ISSUER, audience: AUDIENCE, ...options }
  return signToken(claims as Record<string, unknown>, key.privateKey, all)
}

const unsigned = (header: object, payload: object): string => {
  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url')
  return `${b64(header)}.${b64(payload)}.`
}

const bearer = (token: string) => `Bearer ${token}`

describe('behind an identity provider (JWKS)', function () {
  this.timeout(120_000)
  const rsa = providerKey('rsa-2026-11', 'RS256')
  const ec = providerKey('ec-2026-11', 'ES256')
  const pss = providerKey('pss-2026-11', 'PS256')
  const attacker = providerKey('rsa-2026-11', 'RS256') // same kid as the real key, another key pair

  describe('tokens, claims and the role map', () => {
    let provider: Provider
    let t: TestApp
    const realm = (roles: unknown, extra: object = {}) => ({ realm_access: { roles }, tenant: 'test', ...extra })

    before(async () => {
      provider = await Provider.start([rsa, ec, pss])
      t = await buildTestApp({
        JWT_SECRET: '', JWT_JWKS_URL: provider.url, JWT_ISSUER: ISSUER, JWT_AUDIENCE: AUDIENCE,
        JWT_ROLE_CLAIM: 'realm_access.roles', JWT_ROLE_MAP: 'ropa-admin=admin,ropa-editor=editor,ropa-reader=reader',
        JWT_WORKSPACE_CLAIM: 'tenant', JWT_MAX_AGE: '1h',
        // long, so that no test here can trigger a second fetch: the cool-down test counts them
        JWT_JWKS_COOLDOWN: '10m',
      })
    })
    after(async () => {
      await t.close()
      await provider.close()
    })

    const get = (token: string) => t.http.get('/api/v1/purposes').set('authorization', bearer(token))
    const expect401 = async (token: string, message: RegExp) => {
      const res = await get(token)
      expect(res.status, JSON.stringify(res.body)).to.equal(401)
      expect(res.body.code).to.equal('unauthorized')
      expect(res.body.message).to.match(message)
      expect(res.headers['www-authenticate']).to.match(/^Bearer realm="register", error="invalid_token"/)
    }

    it('fetched the key set once at start', () => {
      expect(provider.fetches).to.equal(1)
    })

    it('accepts RS256, PS256 and ES256 tokens signed with a published key, picked by kid', async () => {
      for (const key of [rsa, pss, ec]) {
        const res = await get(await issue(key, realm(['ropa-reader'])))
        expect(res.status, `${key.alg}: ${JSON.stringify(res.body)}`).to.equal(200)
      }
    })

    it('refuses a kid the provider does not publish, a token without kid, and a published kid with another key', async () => {
      const stranger = providerKey('stranger', 'RS256')
      await expect401(await issue(stranger, realm(['ropa-admin'])), /key the identity provider does not publish/)
      await expect401(await signToken(realm(['ropa-admin']), rsa.privateKey, { algorithm: 'RS256', subject: 'alice', expiresIn: 1800, issuer: ISSUER, audience: AUDIENCE }), /names no signing key \(kid\)/)
      await expect401(await issue(attacker, realm(['ropa-admin'])), /not valid/)
    })

    it('refuses another issuer and another audience', async () => {
      await expect401(await issue(rsa, realm(['ropa-reader']), { issuer: 'https://idp.example.se/realms/other' }), /issuer \(iss\)/)
      await expect401(await issue(rsa, realm(['ropa-reader']), { audience: 'account' }), /audience \(aud\)/)
      await expect401(await issue(rsa, realm(['ropa-reader']), { audience: undefined }), /audience \(aud\)/)
    })

    it('refuses an expired token, one living longer than JWT_MAX_AGE, and one without iat', async () => {
      await expect401(await issue(rsa, realm(['ropa-reader']), { expiresIn: -60 }), /expired/)
      await expect401(await issue(rsa, realm(['ropa-reader']), { expiresIn: '2h' }), /lives longer than the 3600 s/)
      await expect401(await issue(rsa, realm(['ropa-reader']), { noTimestamp: true }), /lacks the issue time \(iat\)/)
      const now = Math.floor(Date.now() / 1000)
      await expect401(await issue(rsa, { ...realm(['ropa-reader']), iat: now - 7200, exp: now + 600 }, { expiresIn: undefined }), /longer than the 3600 s|issued longer ago/)
      expect((await get(await issue(rsa, realm(['ropa-reader']), { expiresIn: '1h' }))).status).to.equal(200)
    })

    it('refuses alg: none, and HS256 signed with the published public key or its JWK', async () => {
      const claims = { ...realm(['ropa-admin']), sub: 'alice', iss: ISSUER, aud: AUDIENCE, iat: Math.floor(Date.now() / 1000), exp: Math.floor(Date.now() / 1000) + 600 }
      await expect401(unsigned({ alg: 'none', typ: 'JWT', kid: rsa.kid }, claims), /not valid/)
      await expect401(await signToken(claims, Buffer.from(rsa.publicPem), { algorithm: 'HS256', keyid: rsa.kid }), /not valid/)
      await expect401(await signToken(claims, Buffer.from(JSON.stringify(rsa.jwk)), { algorithm: 'HS256', keyid: rsa.kid }), /not valid/)
      await expect401(await signToken(claims, Buffer.from(String(rsa.jwk.n), 'base64url'), { algorithm: 'HS256', keyid: rsa.kid }), /not valid/)
    })

    it('maps the nested role claim through JWT_ROLE_MAP, the highest mapped role winning', async () => {
      const reader = await issue(rsa, realm(['offline_access', 'ropa-reader', 'uma_authorization']))
      expect((await get(reader)).status).to.equal(200)
      expect((await t.http.post('/api/v1/purposes').set('authorization', bearer(reader)).send({ name: 'Lön' })).status).to.equal(403)
      const editor = await issue(rsa, realm('ropa-editor')) // a single string is a role too
      expect((await t.http.post('/api/v1/purposes').set('authorization', bearer(editor)).send({ name: 'Lön' })).status).to.equal(201)
      const admin = await issue(ec, realm(['ropa-reader', 'ropa-admin', 'ropa-editor']))
      const lb = await t.http.post('/api/v1/legal-bases').set('authorization', bearer(admin))
        .send({ code: 'SE-KOMMUN-1', kind: 'national-law', articleReference: 'Kommunallagen', name: 'x' })
      expect(lb.status, JSON.stringify(lb.body)).to.equal(201)
      const history = await t.http.get(`/api/v1/legal-bases/${lb.body.id}/history`).set('authorization', bearer(admin))
      expect(history.body.items[0].actor).to.equal('alice')
    })

    it('answers 403 to a valid token with no mapped role, naming the claim', async () => {
      for (const claims of [realm(['offline_access', 'uma_authorization']), realm([]), { tenant: 'test', role: 'admin' }, realm([{ name: 'ropa-admin' }])]) {
        const res = await get(await issue(rsa, claims))
        expect(res.status, JSON.stringify(claims)).to.equal(403)
        expect(res.body.code).to.equal('forbidden')
        expect(res.body.message).to.match(/realm_access\.roles claim holds none of the roles this service maps/)
      }
    })

    it('takes the workspace from JWT_WORKSPACE_CLAIM and, outside production, registers a new one on first use', async () => {
      await expect401(await issue(rsa, { realm_access: { roles: ['ropa-reader'] }, ws: 'test' }), /lacks valid claims: tenant/)
      const res = await get(await issue(rsa, realm(['ropa-reader'], { tenant: 'first-use' })))
      expect(res.status).to.equal(200)
      const rows = await t.app.db.dataSource.query(`SELECT id, name FROM workspaces WHERE id = 'first-use'`)
      expect(rows).to.deep.equal([{ id: 'first-use', name: 'first-use' }])
      const catalogue = await t.app.db.dataSource.query(`SELECT COUNT(*) AS n FROM legal_bases WHERE workspace_id = 'first-use'`)
      expect(Number(catalogue[0].n)).to.equal(BUILT_IN_LEGAL_BASES.length)
    })

    it('signs with `npm run token` in the shape the provider is configured with (nested role claim, map, kid)', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'ropa-token-'))
      try {
        writeFileSync(join(dir, 'key.pem'), rsa.privateKey)
        const env = {
          PATH: process.env.PATH!, NODE_ENV: 'test', JWT_JWKS_URL: provider.url, JWT_ISSUER: ISSUER, JWT_AUDIENCE: AUDIENCE,
          JWT_ROLE_CLAIM: 'realm_access.roles', JWT_ROLE_MAP: 'ropa-admin=admin,ropa-editor=editor,ropa-reader=reader',
          JWT_WORKSPACE_CLAIM: 'tenant', JWT_MAX_AGE: '1h',
        }
        const token = await run('dist/src/cli/token.js', ['--role', 'editor', '--ws', 'test', '--sub', 'bob', '--key', join(dir, 'key.pem'), '--kid', rsa.kid], env)
        expect(token.code, token.stderr).to.equal(0)
        const claims = decodeToken(token.stdout.trim())
        expect(claims.header.kid).to.equal(rsa.kid)
        expect(claims.payload).to.deep.include({ realm_access: { roles: 'ropa-editor' }, tenant: 'test', sub: 'bob', iss: ISSUER, aud: AUDIENCE })
        const res = await t.http.post('/api/v1/purposes').set('authorization', bearer(token.stdout.trim())).send({ name: 'Rekrytering' })
        expect(res.status, JSON.stringify(res.body)).to.equal(201)
        const noKid = await run('dist/src/cli/token.js', ['--role', 'editor', '--key', join(dir, 'key.pem')], env)
        expect(noKid.code).to.equal(2)
        expect(noKid.stderr).to.match(/--kid/)
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    })

    it('fetches the key set no more than once per cool-down, however many unknown kids arrive', async () => {
      expect(provider.fetches).to.equal(1)
      const answers = await Promise.all(Array.from({ length: 25 }, async () => {
        const forged = await signToken(realm(['ropa-admin']), attacker.privateKey, { algorithm: 'RS256', keyid: randomUUID(), subject: 'x', expiresIn: 300, issuer: ISSUER, audience: AUDIENCE })
        return t.app.inject({ method: 'GET', url: '/api/v1/purposes', headers: { authorization: bearer(forged) } })
      }))
      expect(answers.map((a) => a.statusCode)).to.deep.equal(Array(25).fill(401))
      expect(provider.fetches).to.equal(1)
    })
  })

  describe('key rotation at the provider, the cool-down and outages', () => {
    let provider: Provider
    let t: TestApp
    const first = providerKey('key-1', 'RS256')
    const second = providerKey('key-2', 'ES256')
    const claims = { role: 'reader', ws: 'test' }
    const status = async (key: ProviderKey) => (await t.http.get('/api/v1/purposes').set('authorization', bearer(await issue(key, claims)))).status

    before(async () => {
      provider = await Provider.start([first])
      t = await buildTestApp({
        JWT_SECRET: '', JWT_JWKS_URL: provider.url, JWT_ISSUER: ISSUER, JWT_AUDIENCE: AUDIENCE, JWT_JWKS_COOLDOWN: '2s', JWT_JWKS_REFRESH: '3s',
      })
    })
    after(async () => {
      await t.close()
      await provider.close()
    })

    it('trusts a key the provider adds, and stops trusting one it withdraws, without a restart', async () => {
      expect(await status(first)).to.equal(200)
      // the provider publishes its next key beside the current one, then signs with it
      provider.keys = [first, second]
      await sleep(2100)
      expect(await status(second)).to.equal(200)
      expect(await status(first)).to.equal(200)
      // the old key is withdrawn: once the set is older than JWT_JWKS_REFRESH it is fetched again
      provider.keys = [second]
      await sleep(3100)
      expect(await status(first)).to.equal(401)
      expect(await status(second)).to.equal(200)
    })

    it('after the cool-down, a burst of unknown kids costs one fetch', async () => {
      await sleep(2100)
      const before = provider.fetches
      const answers = await Promise.all(Array.from({ length: 20 }, async () => {
        const stranger = await issue({ ...second, kid: randomUUID() }, claims)
        return t.app.inject({ method: 'GET', url: '/api/v1/purposes', headers: { authorization: bearer(stranger) } })
      }))
      expect(answers.map((a) => a.statusCode)).to.deep.equal(Array(20).fill(401))
      expect(provider.fetches - before).to.equal(1)
    })

    it('keeps the keys it has while the provider is down, trying again once per cool-down', async () => {
      provider.failing = true
      await sleep(3100)
      const before = provider.fetches
      const answers = await Promise.all(Array.from({ length: 20 }, async () => t.app.inject({ method: 'GET', url: '/api/v1/purposes', headers: { authorization: bearer(await issue(second, claims)) } })))
      expect(answers.map((a) => a.statusCode)).to.deep.equal(Array(20).fill(200))
      expect(provider.fetches - before).to.equal(1)
      provider.failing = false
    })
  })

  describe('one verification per request', () => {
    let provider: Provider
    let t: TestApp
    const key = providerKey('every-time', 'RS256')

    before(async () => {
      provider = await Provider.start([key])
      // a key set that is stale at once: every verification fetches it, so fetches count verifications
      t = await buildTestApp({
        JWT_SECRET: '', JWT_JWKS_URL: provider.url, JWT_ISSUER: ISSUER, JWT_AUDIENCE: AUDIENCE, JWT_JWKS_REFRESH: '0s', JWT_JWKS_COOLDOWN: '0s', AUTH_FAILURES_PER_MINUTE: '5',
      })
    })
    after(async () => {
      await t.close()
      await provider.close()
    })

    it('verifies a token once, for the rate limit and the authorisation together', async () => {
      const before = provider.fetches
      for (const claims of [{ role: 'reader', ws: 'test' }, { role: 'editor', ws: 'test' }, { role: 'nobody', ws: 'test' }]) {
        await t.http.post('/api/v1/purposes').set('authorization', bearer(await issue(key, claims))).send({ name: 'Lön' })
      }
      expect(provider.fetches - before).to.equal(3)
      // and valid tokens are never counted as failures: far more than AUTH_FAILURES_PER_MINUTE pass
      for (let i = 0; i < 8; i++) expect((await t.http.get('/api/v1/purposes').set('authorization', bearer(await issue(key, { role: 'reader', ws: 'test' })))).status).to.equal(200)
    })
  })

  describe('in production', () => {
    let provider: Provider
    let t: TestApp
    const key = providerKey('prod-1', 'ES256')
    const reader = async (ws: string) => bearer(await issue(key, { role: 'reader', ws }))

    before(async () => {
      provider = await Provider.start([key])
      provider.failing = true
      t = await buildTestApp({
        NODE_ENV: 'production', JWT_SECRET: '', JWT_JWKS_URL: provider.url, JWT_ISSUER: ISSUER, JWT_AUDIENCE: AUDIENCE, JWT_JWKS_COOLDOWN: '2s',
      })
    })
    after(async () => {
      await t.close()
      await provider.close()
    })

    it('answers 503 while it has no keys, and asks the provider again only after the cool-down', async () => {
      expect(provider.fetches).to.equal(1) // at start
      const unavailable = async () => {
        const res = await t.http.get('/api/v1/purposes').set('authorization', await reader('test'))
        expect(res.status).to.equal(503)
        expect(res.body).to.include({ statusCode: 503, code: 'identity_provider_unavailable' })
      }
      await unavailable()
      const tried = provider.fetches
      for (let i = 0; i < 10; i++) await unavailable()
      expect(provider.fetches).to.equal(tried)
      provider.failing = false
      await sleep(2100)
    })

    it('answers 403 unknown_workspace to a valid token naming a workspace nobody registered, and writes nothing', async () => {
      const before = await t.app.db.dataSource.query('SELECT (SELECT COUNT(*) FROM workspaces) AS w, (SELECT COUNT(*) FROM legal_bases) AS lb, (SELECT COUNT(*) FROM history) AS h')
      for (const url of ['/api/v1/purposes', '/api/v1/legal-bases?code=A6-1-b']) {
        const res = await t.http.get(url).set('authorization', await reader('acme-typo'))
        expect(res.status).to.equal(403)
        expect(res.body).to.include({ statusCode: 403, code: 'unknown_workspace' })
        expect(res.body.message).to.include('npm run workspace -- add acme-typo')
      }
      const after = await t.app.db.dataSource.query('SELECT (SELECT COUNT(*) FROM workspaces) AS w, (SELECT COUNT(*) FROM legal_bases) AS lb, (SELECT COUNT(*) FROM history) AS h')
      expect(after).to.deep.equal(before)
    })

    it('serves a workspace as soon as it is registered, without a restart', async () => {
      expect((await t.http.get('/api/v1/purposes').set('authorization', await reader('acme'))).status).to.equal(403)
      await addWorkspace(t.app.db, 'acme', 'Acme AB')
      const res = await t.http.get('/api/v1/legal-bases?code=A6-1-b').set('authorization', await reader('acme'))
      expect(res.status).to.equal(200)
      expect(res.body.items.map((i: { code: string }) => i.code)).to.deep.equal(['A6-1-b'])
    })
  })

  describe('configuration', () => {
    const jwks = 'https://idp.example.se/realms/acme/protocol/openid-connect/certs'

    it('refuses a production start without JWT_ISSUER or JWT_AUDIENCE, naming the variable', async () => {
      const cwd = mkdtempSync(join(tmpdir(), 'ropa-start-'))
      try {
        const server = join(process.cwd(), 'dist/src/server.js')
        const base = { PATH: process.env.PATH!, NODE_ENV: 'production', JWT_JWKS_URL: jwks, PORT: '0' }
        const noIssuer = await run(server, [], { ...base, JWT_AUDIENCE: AUDIENCE }, cwd)
        expect(noIssuer.code).to.equal(1)
        expect(noIssuer.stderr).to.match(/Configuration error: NODE_ENV=production needs JWT_ISSUER:/)
        const noAudience = await run(server, [], { ...base, JWT_ISSUER: ISSUER }, cwd)
        expect(noAudience.code).to.equal(1)
        expect(noAudience.stderr).to.match(/needs JWT_AUDIENCE:/)
        expect(readdirSync(cwd)).to.deep.equal([]) // refused before opening a database
      } finally {
        rmSync(cwd, { recursive: true, force: true })
      }
    })

    it('names the variable at fault for other mistakes', () => {
      const prod = { NODE_ENV: 'production', JWT_ISSUER: ISSUER, JWT_AUDIENCE: AUDIENCE }
      const cases: [Record<string, string>, RegExp][] = [
        [{ ...prod, JWT_JWKS_URL: 'http://idp.example.se/certs' }, /JWT_JWKS_URL must be an https:\/\/ address in production/],
        [{ JWT_JWKS_URL: jwks, JWT_SECRET: 'x'.repeat(40) }, /only one of/],
        [{ JWT_JWKS_URL: jwks, JWT_ALGORITHM: 'HS256' }, /JWT_ALGORITHM=HS256 needs JWT_SECRET/],
        [{ JWT_JWKS_URL: jwks, JWT_ALGORITHM: 'RS512' }, /JWT_ALGORITHM must be/],
        [{ JWT_JWKS_URL: jwks, JWT_ROLE_MAP: 'ropa-admin=root' }, /JWT_ROLE_MAP/],
        [{ JWT_JWKS_URL: jwks, JWT_MAX_AGE: 'a week' }, /JWT_MAX_AGE must be a duration/],
        [{ JWT_JWKS_URL: jwks, JWT_JWKS_COOLDOWN: '-1' }, /JWT_JWKS_COOLDOWN must be a duration/],
        [{ JWT_JWKS_URL: jwks, JWT_ROLE_CLAIM: 'realm_access..roles' }, /JWT_ROLE_CLAIM/],
        [{ JWT_PUBLIC_KEY: rsa.publicPem, JWT_ALGORITHM: 'ES256' }, /does not fit the RSA key/],
      ]
      for (const [env, message] of cases) expect(() => loadConfig(env, () => 'dev'), JSON.stringify(env)).to.throw(ConfigError, message)
      const settings = loadConfig({ ...prod, HISTORY_SIGNING_KEY_FILE: HISTORY_KEY_FILE, JWT_JWKS_URL: jwks, JWT_ROLE_MAP: 'ropa-admin=admin, ropa-reader=reader', JWT_MAX_AGE: '8h' }).jwt
      expect(settings).to.deep.include({ algorithms: ['RS256', 'PS256', 'ES256'], roleMap: { 'ropa-admin': 'admin', 'ropa-reader': 'reader' }, maxAgeSeconds: 28800, roleClaim: 'role', workspaceClaim: 'ws' })
      expect(settings.keys).to.deep.equal({ kind: 'jwks', url: jwks, refreshMs: 600_000, cooldownMs: 30_000 })
      expect(loadConfig({ JWT_PUBLIC_KEY: pss.publicPem, JWT_ALGORITHM: 'PS256' }).jwt.algorithms).to.deep.equal(['PS256'])
      expect(loadConfig({ JWT_PUBLIC_KEY: ec.publicPem }).jwt.algorithms).to.deep.equal(['ES256'])
    })
  })
})

describe('workspaces', function () {
  this.timeout(240_000) // `npm run workspace` starts npm and Node each time: 63 s for the test in CI beside two other suites
  let db: TestDatabase
  beforeEach(async () => { db = await freshDatabase() })
  afterEach(async () => db.drop())

  it('are added, listed and renamed with `npm run workspace`', async () => {
    const env = { PATH: process.env.PATH!, DATABASE_URL: db.url }
    const cli = (...args: string[]) => run('dist/src/cli/workspace.js', args, env)
    const added = await cli('add', 'region-jh', '--name', 'Region Jämtland Härjedalen')
    expect(added.code, added.stderr).to.equal(0)
    expect((await cli('add', 'kommun')).code).to.equal(0)
    const again = await cli('add', 'kommun', '--name', 'Östersunds kommun')
    expect(again.code).to.equal(2)
    expect(again.stderr).to.match(/kommun is already registered/)
    const bad = await cli('add', '../etc')
    expect(bad.code).to.equal(2)
    expect(bad.stderr).to.match(/id/)
    expect((await cli('rename', 'kommun', '--name', 'Östersunds kommun')).code).to.equal(0)
    const unknown = await cli('rename', 'nowhere', '--name', 'x')
    expect(unknown.code).to.equal(2)
    expect(unknown.stderr).to.match(/No workspace with id nowhere/)
    const list = await cli('list')
    expect(list.stdout.trim().split('\n').map((l) => l.replace(/\s+\(since .*\)$/, '').split(/\s{2,}/))).to.deep.equal([
      ['kommun', 'Östersunds kommun'], ['region-jh', 'Region Jämtland Härjedalen'],
    ])
    const ds = createDataSource({ databaseUrl: db.url })
    await ds.initialize()
    try {
      const catalogue = await ds.query(`SELECT COUNT(*) AS n FROM legal_bases WHERE workspace_id = 'region-jh'`)
      expect(Number(catalogue[0].n)).to.equal(BUILT_IN_LEGAL_BASES.length)
    } finally {
      await ds.destroy()
    }
  })

  it('holding rows before the upgrade are registered by the migration, so production keeps serving them', async () => {
    const dir = migrationsDir(dialectOf(db.url))
    const files = readdirSync(dir).filter((f) => f.endsWith('.js')).sort()
    // a database from before this release: before the workspaces and before the stored views (rows
    // inserted by hand after StoredViews would lack the view it builds for the rows it finds)
    const mine = Math.min(...['-Workspaces.js', '-StoredViews.js'].map((name) => files.findIndex((f) => f.endsWith(name))))
    expect(mine).to.be.greaterThan(0)
    const before = new DataSource({ ...dataSourceOptions({ databaseUrl: db.url }), migrations: files.slice(0, mine).map((f) => join(dir, f)) } as any)
    await before.initialize()
    await before.runMigrations()
    const at = (day: string) => `2026-0${day}T08:00:00.000Z`
    await before.query(`INSERT INTO controllers (workspace_id, id, created_at, updated_at, version, name) VALUES ('north', '${randomUUID()}', '${at('3-01')}', '${at('3-01')}', 1, 'Norrland AB')`)
    await before.query(`INSERT INTO purposes (workspace_id, id, created_at, updated_at, version, name) VALUES ('north', '${randomUUID()}', '${at('2-01')}', '${at('2-01')}', 1, 'Lön')`)
    await before.query(`INSERT INTO purposes (workspace_id, id, created_at, updated_at, version, name) VALUES ('south', '${randomUUID()}', '${at('4-01')}', '${at('4-01')}', 1, 'Vård')`)
    await before.destroy()

    const t = await buildTestApp({ DATABASE_URL: db.url, NODE_ENV: 'production', JWT_ISSUER: ISSUER, JWT_AUDIENCE: AUDIENCE })
    try {
      expect(await t.app.db.dataSource.query('SELECT id, name, created_at FROM workspaces ORDER BY id')).to.deep.equal([
        { id: 'north', name: 'north', created_at: at('2-01') },
        { id: 'south', name: 'south', created_at: at('4-01') },
      ])
      const token = async (ws: string) => `Bearer ${await signToken({ role: 'reader', ws }, t.config.jwt.keys.kind === 'secret' ? t.config.jwt.keys.secret : '', { subject: 'x', expiresIn: 300, issuer: ISSUER, audience: AUDIENCE })}`
      const north = await t.http.get('/api/v1/purposes').set('authorization', await token('north'))
      expect(north.status).to.equal(200)
      expect(north.body.items.map((p: { name: string }) => p.name)).to.deep.equal(['Lön'])
      expect((await t.http.get('/api/v1/purposes').set('authorization', await token('west'))).body.code).to.equal('unknown_workspace')
    } finally {
      await t.close()
    }
  })
})

interface Ran { code: number; stdout: string; stderr: string }

function run(script: string, args: string[], env: Record<string, string>, cwd = process.cwd()): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(process.execPath, [script, ...args], { env, cwd, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr })
    })
  })
}
