import { expect } from 'chai'
import { decodeJwt, decodeProtectedHeader, SignJWT } from 'jose'
import { buildTestApp, SECRET, TestApp, token } from './helper'
import { ConfigError, loadConfig } from '../src/config'

/**
 * Links that open one GET in a browser without a token (POST /api/v1/register/links), and the
 * attacks on them: another path or query, another method, expired, forged, another workspace,
 * another role; and the secret never written to the log.
 */
describe('links that open in a browser', function () {
  this.timeout(180_000)
  let t: TestApp
  let controllerId: string
  const LINK_SECRET = 'a-link-key-that-only-this-test-holds-0123456789'

  before(async () => {
    t = await buildTestApp({ LINK_SECRET, LINK_TTL: '15m' })
    const editor = await t.auth('editor')
    const c = await t.http.post('/api/v1/controllers').set('authorization', editor).send({ name: 'Hudateljén Östersund', email: 'info@hudateljen.se' })
    controllerId = c.body.id
    await t.http.post('/api/v1/processing-activities').set('authorization', editor)
      .send({ name: 'Journalföring av hudbehandlingar', role: 'controller', status: 'active', controllerId })
    // another workspace's register, which no link of "test" may show
    const other = await t.auth('editor', 'other')
    await t.http.post('/api/v1/controllers').set('authorization', other).send({ name: 'Annan Klinik AB' })
  })
  after(async () => t.close())

  const make = async (path: unknown, authorization?: string) =>
    t.http.post('/api/v1/register/links').set('authorization', authorization ?? await t.auth('reader')).send({ path })
  /** The path, query and capability of a link, to send to the app under test. */
  const local = (url: string): string => { const u = new URL(url); return u.pathname + u.search }
  const capability = (url: string): string => new URL(url).searchParams.get('access')!

  it('makes a link for the report that opens without a token, for 15 minutes', async () => {
    const before = Date.now()
    const res = await make('/api/v1/register/report?lang=sv')
    const after = Date.now()
    expect(res.status, JSON.stringify(res.body)).to.equal(201)
    expect(Object.keys(res.body).sort()).to.deep.equal(['expiresAt', 'url'])
    expect(res.body.url).to.match(/^http:\/\/127\.0\.0\.1(:\d+)?\/api\/v1\/register\/report\?lang=sv&access=[\w-]+\.[\w-]+\.[\w-]+$/)
    // 15 minutes from the moment it was made (in whole seconds, as a JWT counts), which is
    // between the request and its answer
    expect(Date.parse(res.body.expiresAt)).to.be.within(before - 1000 + 15 * 60_000, after + 15 * 60_000)
    const opened = await t.http.get(local(res.body.url))
    expect(opened.status, opened.text.slice(0, 300)).to.equal(200)
    expect(opened.headers['content-type']).to.match(/^text\/html/)
    expect(opened.text).to.contain('Journalföring av hudbehandlingar')
    expect(opened.headers['cache-control']).to.equal('no-store')
    expect(opened.headers['content-disposition']).to.match(/^inline; filename="registerforteckning-rapport-\d{4}-\d{2}-\d{2}\.html"$/)
  })

  it('is signed by the service (HS256, its own key, a type of its own), and names the path, workspace, role and subject', async () => {
    const res = await make('/api/v1/register/data-flow?format=svg&lang=sv', await t.auth('reader', 'test', 'anna'))
    const jws = capability(res.body.url)
    expect(decodeProtectedHeader(jws)).to.deep.equal({ alg: 'HS256', typ: 'ropa-link+jwt' })
    const claims = decodeJwt(jws)
    expect(claims).to.include({ ws: 'test', role: 'reader', sub: 'anna', get: '/api/v1/register/data-flow?format=svg&lang=sv' })
    expect(claims.exp! - claims.iat!).to.equal(15 * 60)
    // the link's key is not the tokens' key: signed with JWT_SECRET it is refused
    const withTokenKey = await new SignJWT({ ws: 'test', role: 'reader', get: claims.get })
      .setProtectedHeader({ alg: 'HS256', typ: 'ropa-link+jwt' }).setSubject('anna').setIssuedAt().setExpirationTime('10m')
      .sign(new TextEncoder().encode(SECRET))
    const refused = await t.http.get(`/api/v1/register/data-flow?format=svg&lang=sv&access=${withTokenKey}`)
    expect(refused.status).to.equal(401)
    expect(refused.body.message).to.equal('The link is not valid')
  })

  it('opens only its own path and query: another path, another query, a parameter added or moved are refused', async () => {
    const res = await make('/api/v1/register/report?lang=sv')
    const jws = capability(res.body.url)
    for (const url of [
      `/api/v1/register/report?lang=en&access=${jws}`,
      `/api/v1/register/report?access=${jws}`,
      `/api/v1/register/report?lang=sv&controllerId=${controllerId}&access=${jws}`,
      `/api/v1/register/data-flow?lang=sv&access=${jws}`,
      `/api/v1/register/export?lang=sv&access=${jws}`,
      `/api/v1/controllers?lang=sv&access=${jws}`,
    ]) {
      const opened = await t.http.get(url)
      expect(opened.status, url).to.equal(401)
      expect(opened.body.message, url).to.equal('The link is for another address: it opens only the path and query it was made for')
    }
    const moved = await t.http.get(`/api/v1/register/report?access=${jws}&lang=sv`)
    expect(moved.status).to.equal(401)
    expect(moved.body.message).to.match(/must come last/)
  })

  it('opens only with GET: POST, PUT, PATCH, DELETE and HEAD with a link are refused, and write nothing', async () => {
    const res = await make(`/api/v1/controllers/${controllerId}`)
    const url = local(res.body.url)
    expect((await t.http.get(url)).body.name).to.equal('Hudateljén Östersund')
    for (const method of ['put', 'patch', 'delete'] as const) {
      const sent = await t.http[method](url).send({ name: 'Ändrad av en länk' })
      expect(sent.status, method).to.equal(401)
      expect(sent.body.message, method).to.equal('A link opens only with GET')
    }
    expect((await t.http.head(url)).status).to.equal(401)
    // a link to a list refused as a way to create in it
    const list = await make('/api/v1/controllers')
    const created = await t.http.post(local(list.body.url)).send({ name: 'Skapad av en länk' })
    expect(created.status).to.equal(401)
    const now = await t.http.get(`/api/v1/controllers/${controllerId}`).set('authorization', await t.auth('reader'))
    expect(now.body.name).to.equal('Hudateljén Östersund')
    expect(now.body.version).to.equal(1)
  })

  it('expires: after LINK_TTL it is refused, with no clock tolerance beyond a second', async () => {
    const short = await buildTestApp({ LINK_SECRET, LINK_TTL: '2s' })
    try {
      const res = await short.http.post('/api/v1/register/links').set('authorization', await short.auth('reader')).send({ path: '/api/v1/register/findings' })
      expect(res.status).to.equal(201)
      const expiresAt = Date.parse(res.body.expiresAt)
      expect(expiresAt - Date.now()).to.be.within(0, 2000)
      expect((await short.http.get(local(res.body.url))).status).to.equal(200)
      await new Promise((resolve) => setTimeout(resolve, expiresAt - Date.now() + 1000))
      const late = await short.http.get(local(res.body.url))
      expect(late.status).to.equal(401)
      expect(late.body.message).to.equal('The link has expired: make a new one with POST /api/v1/register/links')
    } finally {
      await short.close()
    }
  })

  it('lives no longer than the token it was made with', async () => {
    const shortToken = await token('reader', 'test', 'reader-user', { expiresIn: 90 })
    const res = await make('/api/v1/register/report?lang=en', `Bearer ${shortToken}`)
    expect(res.status).to.equal(201)
    expect(Date.parse(res.body.expiresAt) / 1000).to.equal(decodeJwt(shortToken).exp)
  })

  it('keeps to the workspace of the token that made it: another workspace\'s link shows only that register, and a changed workspace is refused', async () => {
    const res = await make('/api/v1/controllers', await t.auth('reader', 'other'))
    const list = await t.http.get(local(res.body.url))
    expect(list.status).to.equal(200)
    expect(list.body.items.map((c: { name: string }) => c.name)).to.deep.equal(['Annan Klinik AB'])
    // the same link with its workspace rewritten to "test": the signature no longer holds
    const [header, payload, signature] = capability(res.body.url).split('.')
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString())
    const forged = [header, Buffer.from(JSON.stringify({ ...claims, ws: 'test' })).toString('base64url'), signature].join('.')
    const refused = await t.http.get(`/api/v1/controllers?access=${forged}`)
    expect(refused.status).to.equal(401)
    expect(refused.body.message).to.equal('The link is not valid')
    // a record of "test" through a link of "other": as if it did not exist
    const byId = await make(`/api/v1/controllers/${controllerId}`, await t.auth('reader', 'other'))
    expect((await t.http.get(local(byId.body.url))).status).to.equal(404)
  })

  it('opens no more than its role: a reader cannot make a link for an admin\'s read, nor raise the role of one', async () => {
    const backup = await make('/api/v1/register/backup')
    expect(backup.status).to.equal(403)
    expect(backup.body.message).to.match(/needs the admin role; the token has reader/)
    // a reader's link for a record, its role rewritten to admin and its path to the backup: refused
    const res = await make(`/api/v1/controllers/${controllerId}`)
    const [header, payload, signature] = capability(res.body.url).split('.')
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString())
    const raised = [header, Buffer.from(JSON.stringify({ ...claims, role: 'admin', get: '/api/v1/register/backup' })).toString('base64url'), signature].join('.')
    expect((await t.http.get(`/api/v1/register/backup?access=${raised}`)).status).to.equal(401)
    // an editor's operation (a write) opened with a reader's link: refused as a write
    const activity = await make('/api/v1/processing-activities')
    const written = await t.http.post(local(activity.body.url)).send({ name: 'X', role: 'controller', controllerId })
    expect(written.status).to.equal(401)
    // an admin may make a link for the backup: it downloads as a .json file
    const adminLink = await make('/api/v1/register/backup', await t.auth('admin'))
    expect(adminLink.status).to.equal(201)
    const opened = await t.http.get(local(adminLink.body.url))
    expect(opened.status).to.equal(200)
    expect(opened.headers['content-disposition']).to.match(/^attachment; filename="register-backup-\d{4}-\d{2}-\d{2}\.json"$/)
  })

  it('refuses, with 400 naming path, what is not a GET read of this API', async () => {
    for (const path of [
      '/api/v1/register/links', '/api/v1/register/import', '/docs/', '/openapi.json', '/health', 'api/v1/controllers',
      '//evil.example/api/v1/controllers', '/\\evil.example/api/v1/controllers', 'https://evil.example/api/v1/controllers', '/api/v1/nothing-here',
      '/api/v1/register/report?lang=sv#top', '/api/v1/register/report?access=x', 'x'.repeat(3000), 42, '',
    ]) {
      const res = await make(path)
      expect(res.status, String(path).slice(0, 60)).to.equal(400)
      expect(res.body.details?.[0]?.field, String(path).slice(0, 60)).to.match(/path/)
    }
    const missing = await t.http.post('/api/v1/register/links').set('authorization', await t.auth('reader')).send({})
    expect(missing.status).to.equal(400)
    expect(missing.body.details[0].message).to.match(/path is required/)
    const extra = await t.http.post('/api/v1/register/links').set('authorization', await t.auth('reader')).send({ path: '/api/v1/register/report', ttl: '1d' })
    expect(extra.status).to.equal(400)
    expect(extra.body.details[0]).to.include({ field: 'ttl' })
    // without a token there is no link to be had
    expect((await t.http.post('/api/v1/register/links').send({ path: '/api/v1/register/report' })).status).to.equal(401)
  })

  it('signs the address as a browser sends it: å, ä, ö and spaces in a search are percent-encoded', async () => {
    const res = await make('/api/v1/controllers?q=hudateljén östersund')
    expect(res.status).to.equal(201)
    expect(res.body.url).to.contain('/api/v1/controllers?q=hudatelj%C3%A9n%20%C3%B6stersund&access=')
    const list = await t.http.get(local(res.body.url))
    expect(list.status).to.equal(200)
    expect(list.body.items.map((c: { name: string }) => c.name)).to.deep.equal(['Hudateljén Östersund'])
  })

  it('refuses a link with a bad signature, a token passed off as a link, and a link passed off as a token', async () => {
    const res = await make('/api/v1/register/findings')
    const jws = capability(res.body.url)
    const tampered = jws.slice(0, -2) + (jws.endsWith('AA') ? 'BB' : 'AA')
    expect((await t.http.get(`/api/v1/register/findings?access=${tampered}`)).status).to.equal(401)
    const bearer = await token('admin')
    expect((await t.http.get(`/api/v1/register/findings?access=${bearer}`)).status).to.equal(401)
    const asBearer = await t.http.get('/api/v1/register/findings').set('authorization', `Bearer ${jws}`)
    expect(asBearer.status).to.equal(401)
  })

  it('never writes the link\'s secret to the log (the access log holds paths without query strings)', async () => {
    const res = await make('/api/v1/register/report?lang=sv')
    const jws = capability(res.body.url)
    await t.http.get(local(res.body.url))
    await t.http.get(local(res.body.url).replace('lang=sv', 'lang=en'))
    const text = JSON.stringify(t.logs)
    expect(text).to.not.contain(jws)
    expect(text).to.not.contain(jws.split('.')[2])
    expect(t.logs.some((l) => l.req?.url === '/api/v1/register/report')).to.equal(true)
  })

  it('answers a flood of bad links with 429, as it does bad tokens', async () => {
    const limited = await buildTestApp({ LINK_SECRET, AUTH_FAILURES_PER_MINUTE: '5' })
    try {
      const statuses: number[] = []
      for (let i = 0; i < 8; i++) statuses.push((await limited.http.get(`/api/v1/register/report?access=a.b.c${i}`)).status)
      expect(statuses.slice(0, 5)).to.deep.equal([401, 401, 401, 401, 401])
      expect(statuses.slice(5)).to.deep.equal([429, 429, 429])
    } finally {
      await limited.close()
    }
  })

  it('reads LINK_TTL, LINK_SECRET and PUBLIC_URL, refusing what cannot work', () => {
    const base = { NODE_ENV: 'test', JWT_SECRET: SECRET }
    expect(loadConfig(base).links).to.include({ ttlSeconds: 900, randomSecret: true, publicUrl: null })
    expect(loadConfig({ ...base, LINK_TTL: '5m', PUBLIC_URL: 'https://ropa.example.se/' }).links).to.include({ ttlSeconds: 300, publicUrl: 'https://ropa.example.se' })
    expect(() => loadConfig({ ...base, LINK_TTL: 'soon' })).to.throw(ConfigError, /LINK_TTL/)
    expect(() => loadConfig({ ...base, LINK_SECRET: 'short' })).to.throw(ConfigError, /LINK_SECRET must be at least 32/)
    expect(() => loadConfig({ ...base, LINK_SECRET: SECRET })).to.throw(ConfigError, /LINK_SECRET must differ from JWT_SECRET/)
    expect(() => loadConfig({ ...base, PUBLIC_URL: 'ropa.example.se' })).to.throw(ConfigError, /PUBLIC_URL/)
  })

  it('warns at start in production when LINK_SECRET is not set, as each instance would refuse the others\' links', async () => {
    const production = { NODE_ENV: 'production', JWT_ISSUER: 'https://idp.example.se', JWT_AUDIENCE: 'ropa' }
    const without = await buildTestApp(production)
    const withKey = await buildTestApp({ ...production, LINK_SECRET })
    try {
      expect(without.logs.filter((l) => /LINK_SECRET is not set/.test(l.msg)).map((l) => l.level)).to.deep.equal([40])
      expect(withKey.logs.some((l) => /LINK_SECRET/.test(l.msg))).to.equal(false)
    } finally {
      await without.close()
      await withKey.close()
    }
  })

  it('uses PUBLIC_URL for the address, when the service is reached through a proxy', async () => {
    const proxied = await buildTestApp({ LINK_SECRET, PUBLIC_URL: 'https://ropa.example.se/registret' })
    try {
      const res = await proxied.http.post('/api/v1/register/links').set('authorization', await proxied.auth('reader')).send({ path: '/api/v1/register/report' })
      expect(res.body.url).to.match(/^https:\/\/ropa\.example\.se\/registret\/api\/v1\/register\/report\?access=/)
    } finally {
      await proxied.close()
    }
  })
})
