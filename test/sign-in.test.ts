import { expect } from 'chai'
import { generateKeyPairSync } from 'node:crypto'
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http'
import { AddressInfo } from 'node:net'
import { Browser } from 'playwright-core'
import { buildTestApp, HISTORY_KEY_FILE, TestApp } from './helper'
import { launchChromium } from './chromium'
import { CHROMIUM_TOOL, needTool } from './tools'
import { ConfigError, loadConfig } from '../src/config'

const AUDIENCE = 'ropa-register'
const CLIENT_ID = 'ropa-swagger-ui'

/** Who may sign in at the test's provider, and the role and workspace its access tokens give them. */
const ACCOUNTS: Record<string, { role: string; ws: string }> = { 'anna.reader': { role: 'reader', ws: 'test' } }

interface OidcProvider {
  callback(): (req: IncomingMessage, res: ServerResponse) => void
}

/**
 * A real OpenID provider (node-oidc-provider) on loopback: authorization code with PKCE for a public
 * client (Swagger UI), its development login and consent pages, JWT access tokens for the register
 * (audience ropa-register) carrying the account's role and workspace, signed with a key it publishes.
 */
interface TestProvider {
  issuer: string
  server: Server
  /** Statuses of the token endpoint's answers. */
  issued: string[]
  /** Starts answering (the redirect URI is known once the register listens). */
  start(): Promise<void>
}

async function startProvider(redirectUri: () => string): Promise<TestProvider> {
  let handler: ((req: IncomingMessage, res: ServerResponse) => void) | null = null
  const server = createServer((req, res) => (handler ? handler(req, res) : res.writeHead(503).end()))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const issued: string[] = []
  const start = async () => {
    // oidc-provider is an ES module: imported, not required
    const { default: Provider } = (await import('oidc-provider' as string)) as { default: new (issuer: string, config: object) => OidcProvider }
    const key = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' })
    const provider = new Provider(issuer, {
      clients: [{
        client_id: CLIENT_ID, token_endpoint_auth_method: 'none', application_type: 'web',
        redirect_uris: [redirectUri()], grant_types: ['authorization_code'], response_types: ['code'],
      }],
      jwks: { keys: [{ ...key, kid: 'test-2026-12', alg: 'RS256', use: 'sig' }] },
      cookies: { keys: ['a-cookie-key-for-the-test-provider'] },
      // Swagger UI's page fetches the token endpoint from the register's origin
      clientBasedCORS: () => true,
      findAccount: (_ctx: unknown, id: string) => ({ accountId: id, claims: () => ({ sub: id }) }),
      features: {
        devInteractions: { enabled: true },
        resourceIndicators: {
          enabled: true,
          defaultResource: () => 'https://ropa.example.se/api',
          useGrantedResource: () => true,
          getResourceServerInfo: () => ({ scope: 'openid', audience: AUDIENCE, accessTokenFormat: 'jwt', accessTokenTTL: 600, jwt: { sign: { alg: 'RS256' } } }),
        },
      },
      extraTokenClaims: (_ctx: unknown, token: { accountId: string; kind: string }) => {
        if (token.kind !== 'AccessToken') return undefined
        return ACCOUNTS[token.accountId] ?? {}
      },
    })
    const callback = provider.callback()
    handler = (req, res) => {
      if (req.url === '/token' && req.method === 'POST') res.on('finish', () => issued.push(String(res.statusCode)))
      callback(req, res)
    }
  }
  return { issuer, server, issued, start }
}

describe('signing in from Swagger UI', function () {
  this.timeout(180_000)

  it('declares the openIdConnect scheme only with OIDC_ISSUER and SWAGGER_OAUTH_CLIENT_ID, both or neither', async () => {
    const base = { NODE_ENV: 'test', JWT_SECRET: 'test-secret-that-is-long-enough-0123456789' }
    expect(loadConfig(base).swaggerOAuth).to.equal(null)
    expect(loadConfig({ ...base, OIDC_ISSUER: 'https://sso.acme.se/realms/acme/', SWAGGER_OAUTH_CLIENT_ID: 'ropa-swagger' }).swaggerOAuth).to.deep.equal({
      issuer: 'https://sso.acme.se/realms/acme', discoveryUrl: 'https://sso.acme.se/realms/acme/.well-known/openid-configuration', clientId: 'ropa-swagger',
    })
    expect(() => loadConfig({ ...base, OIDC_ISSUER: 'https://sso.acme.se/realms/acme' })).to.throw(ConfigError, /SWAGGER_OAUTH_CLIENT_ID is not set/)
    expect(() => loadConfig({ ...base, SWAGGER_OAUTH_CLIENT_ID: 'x' })).to.throw(ConfigError, /OIDC_ISSUER is not set/)
    expect(() => loadConfig({ ...base, NODE_ENV: 'production', HISTORY_SIGNING_KEY_FILE: HISTORY_KEY_FILE, JWT_ISSUER: 'x', JWT_AUDIENCE: 'y', OIDC_ISSUER: 'http://sso.acme.se/realms/acme', SWAGGER_OAUTH_CLIENT_ID: 'x' }))
      .to.throw(ConfigError, /OIDC_ISSUER must be an https:\/\/ address in production/)

    const t = await buildTestApp({ OIDC_ISSUER: 'https://sso.acme.se/realms/acme', SWAGGER_OAUTH_CLIENT_ID: 'ropa-swagger' })
    try {
      const doc = (await t.http.get('/openapi.json')).body
      expect(doc.components.securitySchemes).to.deep.equal({
        bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
        openIdConnect: { type: 'openIdConnect', openIdConnectUrl: 'https://sso.acme.se/realms/acme/.well-known/openid-configuration' },
      })
      expect(doc.paths['/api/v1/controllers'].get.security).to.deep.equal([{ bearerAuth: [] }, { openIdConnect: [] }])
      // the page may fetch the provider's discovery document and token endpoint, and nothing else outside
      expect((await t.http.get('/docs/')).headers['content-security-policy']).to.contain("connect-src 'self' https://sso.acme.se;")
      const init = await t.http.get('/docs/static/swagger-initializer.js')
      expect(init.text).to.match(/initOAuth\(\{"clientId":"ropa-swagger","usePkceWithAuthorizationCodeGrant":true,"scopes":"openid"\}\)/)
      expect((await t.http.get('/docs/static/oauth2-redirect.html')).status).to.equal(200)
    } finally {
      await t.close()
    }
    const plain = await buildTestApp()
    try {
      expect(Object.keys((await plain.http.get('/openapi.json')).body.components.securitySchemes)).to.deep.equal(['bearerAuth'])
    } finally {
      await plain.close()
    }
  })

  it('signs in through the provider (authorization code with PKCE), and calls the API with the access token', async function () {
    needTool(this, CHROMIUM_TOOL)
    let base = ''
    const provider = await startProvider(() => `${base}/docs/static/oauth2-redirect.html`)
    let t: TestApp | undefined
    let browser: Browser | undefined
    try {
      t = await buildTestApp({
        JWT_SECRET: '', JWT_JWKS_URL: `${provider.issuer}/jwks`, JWT_ISSUER: provider.issuer, JWT_AUDIENCE: AUDIENCE,
        JWT_JWKS_COOLDOWN: '0s', OIDC_ISSUER: provider.issuer, SWAGGER_OAUTH_CLIENT_ID: CLIENT_ID,
      })
      base = await t.app.listen({ host: '127.0.0.1', port: 0 })
      await provider.start()
      browser = await launchChromium()
      const context = await browser.newContext()
      const asked: string[] = []
      context.on('request', (r) => { if (r.url().startsWith(`${provider.issuer}/auth?`)) asked.push(r.url()) })
      const page = await context.newPage()
      const problems: string[] = []
      page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`) })
      page.on('pageerror', (e) => problems.push(`page error: ${e.message}`))
      await page.goto(`${base}/docs/`)
      await page.getByRole('button', { name: /authorize/i }).first().click()
      const section = page.locator('.modal-ux .auth-container').filter({ hasText: /authorization_code|Authorization Code/i }).first()
      await section.waitFor()
      expect(await section.innerText()).to.match(/PKCE/i)
      // openid, selected by initOAuth
      expect(await section.locator('input[type=checkbox][data-value=openid]').isChecked()).to.equal(true)
      const [popup] = await Promise.all([context.waitForEvent('page'), section.locator('button.authorize').click()])
      // the provider's own login and consent pages
      await popup.waitForLoadState('load')
      expect(popup.url().startsWith(provider.issuer)).to.equal(true)
      await popup.locator('input[name=login]').fill('anna.reader')
      await popup.locator('input[name=password]').fill('anything')
      await popup.locator('button[type=submit]').click()
      // the consent page's button, not the login page's still on screen while a busy machine navigates
      await popup.locator('input[name=login]').waitFor({ state: 'detached' })
      // oauth2-redirect.html hands the code to Swagger UI and closes the window, possibly before the
      // click's answer arrives: listen first
      const closed = popup.waitForEvent('close')
      await popup.locator('button[type=submit]').click() // consent
      await closed
      const [authorization] = asked.map((url) => new URL(url))
      expect(authorization.searchParams.get('response_type')).to.equal('code')
      expect(authorization.searchParams.get('client_id')).to.equal(CLIENT_ID)
      expect(authorization.searchParams.get('code_challenge_method')).to.equal('S256')
      expect(authorization.searchParams.get('redirect_uri')).to.equal(`${base}/docs/static/oauth2-redirect.html`)
      await section.locator('button.logout, button:has-text("Logout")').first().waitFor()
      await page.locator('.modal-ux button.btn-done, .modal-ux button.close-modal').first().click()

      await page.locator('#operations-tag-Controllers').click()
      const operation = page.locator('#operations-Controllers-listControllers')
      await operation.locator('.opblock-summary').click()
      await operation.getByRole('button', { name: /execute/i }).click()
      const response = operation.locator('.responses-wrapper .live-responses-table .response').first()
      await response.waitFor()
      expect((await response.locator('.response-col_status').innerText()).trim()).to.equal('200')
      expect(provider.issued).to.deep.equal(['200'])
      expect(problems).to.deep.equal([])
    } finally {
      await browser?.close()
      await t?.close()
      await new Promise((resolve) => provider.server.close(resolve))
    }
  })
})
