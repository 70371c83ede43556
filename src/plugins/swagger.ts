import fp from 'fastify-plugin'
import { FastifyInstance } from 'fastify'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import { allSchemas } from '../register/records/view-schemas'
import { findingSchemas } from '../register/review/findings'
import { JsonSchema } from '../schemas/json-schema'
import type { Role } from '../auth/principal'
import { RESOURCES } from '../register/records/model'

/** Every shared schema the API publishes: the records' and the findings'. */
export const publishedSchemas = (): JsonSchema[] => [...allSchemas(), ...findingSchemas()]

export const API_TITLE = 'Register of processing activities (GDPR Art. 30)'

/**
 * The OpenAPI document, generated from the route schemas, and Swagger UI at /docs. Shared schemas
 * are registered here (before any route) and appear under components/schemas by their names.
 */
export default fp(async function openapi(app: FastifyInstance) {
  for (const schema of publishedSchemas()) app.addSchema(schema)
  const oauth = app.config.swaggerOAuth

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: API_TITLE,
        version: '1',
        description: [
          'Keeps an organisation\'s register of processing activities (registerförteckning) as GDPR Article 30 asks,',
          'and hands it to a supervisory authority on request.',
          '',
          'Authorise with a bearer token (JWT with `sub`, `role` = reader | editor | admin, and `ws` = workspace).',
          'Locally: `npm run token -- --role editor --ws demo --sub you`. Each operation names the least role it needs in `x-required-role`.',
          ...(oauth ? ['Or sign in through the identity provider: Authorize, then `openIdConnect` (authorization code with PKCE).'] : []),
          '',
          'To open the report, the data-flow picture, a privacy notice or an export in a browser tab (which sends no token),',
          'make a link with POST /api/v1/register/links and open its `url`: it opens that one GET, for 15 minutes.',
          '',
          'Every error has one shape (`Error`): statusCode, error, code, message, requestId, and the offending `details`.',
          'Records carry a `version`; GET returns it as the ETag, and PUT, PATCH and DELETE honour `If-Match` (412 when stale).',
        ].join('\n'),
      },
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
          // Swagger UI reads the provider's discovery document and signs in with the authorization code and PKCE
          ...(oauth ? { openIdConnect: { type: 'openIdConnect', openIdConnectUrl: oauth.discoveryUrl } } : {}),
        },
      },
      // Swagger UI shows the groups in this order: the order a person works in
      tags: [
        { name: 'Controllers', description: 'The organisations responsible for processing (personuppgiftsansvariga), with contact details, representative and data protection officer; and each one\'s privacy notice' },
        { name: 'Processing activities', description: 'The register\'s entries (behandlingar): what is processed, why, on which legal basis, about whom, shared with whom, kept how long. Start here once a controller exists.' },
        ...RESOURCES.filter((r) => !['controller', 'processing-activity'].includes(r.type))
          .map((r) => ({ name: r.tag, description: `Catalogue: the ${r.titlePlural} that processing activities refer to` })),
        { name: 'Register', description: 'The register as a whole: the file for a supervisory authority (export), backups (import), findings to fix, reviews due' },
        { name: 'History', description: 'Who changed what and when (append-only), and the register as it stood' },
        { name: 'Redactions', description: 'Erasing personal data from history and register versions (Art. 17, Art. 5(1)(e)) with four eyes, while the history chain and the versions\' hashes still verify' },
        {
          name: 'Register versions',
          description: [
            'Established versions of the register (fastställd registerförteckning), in four steps:',
            '1. an editor proposes a version: the whole register is frozen (POST /api/v1/register/versions);',
            '2. an admin other than the proposer approves it (four eyes), or rejects it; the version approved before is superseded;',
            '3. compare versions (…/versions/{number}/changes?against=);',
            '4. download it: GET /api/v1/register/export?version={number}|approved in JSON or CSV, the same bytes on every download;',
            'the JSON file\'s SHA-256 is the version\'s contentHash (`sha256sum` checks a file an authority received).',
          ].join('\n'),
        },
        { name: 'Service', description: 'Health and readiness' },
      ],
    },
    // every operation says the least role it needs, from the route's own declaration
    // and, with sign-in configured, takes the provider's access token as well as a pasted one
    transform: ({ schema, url, route }) => {
      const role = (route.config as { auth?: Role | 'public' } | undefined)?.auth
      if (!schema || !role || role === 'public') return { schema, url }
      const security = schema.security
      return {
        schema: { ...schema, 'x-required-role': role, ...(oauth && security ? { security: [...security, { openIdConnect: [] }] } : {}) },
        url,
      }
    },
    refResolver: {
      buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`),
    },
  })

  await app.register(swaggerUi, {
    routePrefix: '/docs',
    uiConfig: {
      docExpansion: 'none', // 80 operations: open the one you need
      filter: true,
      // the token is kept in the browser's local storage until "Logout"; tokens expire (exp is required)
      persistAuthorization: true,
      displayOperationId: false,
      defaultModelsExpandDepth: 0,
      tryItOutEnabled: true,
      responseInterceptor: restoreByteOrderMark,
      // without the top bar (the spec's URL and Swagger's logo, whose inline <style> the policy refuses)
      layout: 'BaseLayout',
      plugins: [documentsPlugin],
    },
    ...(oauth ? { initOAuth: { clientId: oauth.clientId, usePkceWithAuthorizationCodeGrant: true, scopes: 'openid' } } : {}),
    staticCSP: docsPolicy(oauth?.issuer),
  })

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger())
}, { name: 'openapi' })

/**
 * Runs in the browser, inside Swagger UI (serialised into its initializer, so it must not use
 * anything from this module). Swagger UI reads a CSV as text, which drops the byte-order mark,
 * and "Download file" then saved a file in which Excel breaks å, ä and ö. Putting the mark back
 * makes the saved file the bytes the service sent.
 */
export function restoreByteOrderMark<T>(response: T): T {
  // swagger-client's response: plain headers object, the body as `text` and `data`
  const res = response as { headers?: Record<string, string>; text?: unknown; data?: unknown }
  const type = String((res.headers && (res.headers['content-type'] || res.headers['Content-Type'])) || '')
  if (/^text\/csv/i.test(type) && typeof res.text === 'string' && res.text.charCodeAt(0) !== 0xfeff) {
    res.text = '\ufeff' + res.text
    res.data = res.text
  }
  return response
}

/**
 * Swagger UI's Content-Security-Policy: its own files only, and the identity provider's discovery
 * document and token endpoint when it signs in there (fetched by the page; the sign-in itself is a
 * window of the provider's).
 */
export function docsPolicy(issuer?: string): string {
  const provider = issuer ? ` ${new URL(issuer).origin}` : ''
  return [
    "default-src 'self'", "base-uri 'self'", "font-src 'self' data:", "frame-ancestors 'self'", "img-src 'self' data:",
    "object-src 'none'", "script-src 'self'", "script-src-attr 'none'", "style-src 'self'", `connect-src 'self'${provider}`,
    "form-action 'self'", 'upgrade-insecure-requests',
  ].join('; ')
}

/**
 * A Swagger UI plugin (serialised into its initializer, so it must not use anything from this
 * module). An HTML page or SVG picture the service sends inline (the report, a notice, the data
 * flow) is offered as "Download file" under the service's file name, not as text saved as
 * response_….txt or .xml; and the link POST /register/links answers with gets an anchor that
 * opens it in a new tab.
 */
export function documentsPlugin(system: { React: { createElement: (...args: unknown[]) => unknown } }) {
  const h = system.React.createElement
  type Props = { headers?: Record<string, string>; contentType?: string; content?: unknown }
  return {
    wrapComponents: {
      responseBody: (Original: unknown) => (props: Props) => {
        const headers = props.headers || {}
        const disposition = headers['content-disposition'] || headers['Content-Disposition'] || ''
        let shown = props
        if (/^\s*inline/i.test(disposition) && /^(text\/html|image\/svg)/i.test(props.contentType || '')) {
          shown = Object.assign({}, props, { headers: Object.assign({}, headers, { 'content-disposition': disposition.replace(/^\s*inline/i, 'attachment') }) })
        }
        const body = h(Original, shown)
        let url: string | null = null
        if (/json/i.test(props.contentType || '') && typeof props.content === 'string') {
          try {
            const answer = JSON.parse(props.content)
            if (answer && typeof answer.url === 'string' && typeof answer.expiresAt === 'string' && /^https?:\/\//.test(answer.url)) url = answer.url
          } catch { /* not JSON: nothing to open */ }
        }
        if (!url) return body
        return h('div', null, body, h('p', null, h('a', { href: url, target: '_blank', rel: 'noopener noreferrer', className: 'register-link' }, 'Open the link in a new tab')))
      },
    },
  }
}

/** The OpenAPI document as committed in openapi/openapi.json: stable byte for byte. */
export function openapiText(app: FastifyInstance): string {
  return JSON.stringify(app.swagger(), null, 2) + '\n'
}
