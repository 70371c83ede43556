import fp from 'fastify-plugin'
import { FastifyInstance } from 'fastify'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import { allSchemas } from '../schemas/views'
import type { Role } from '../auth/principal'
import { RESOURCES } from '../register/records/model'

export const API_TITLE = 'Register of processing activities (GDPR Art. 30)'

/**
 * The OpenAPI document, generated from the route schemas, and Swagger UI at /docs. Shared schemas
 * are registered here (before any route) and appear under components/schemas by their names.
 */
export default fp(async function openapi(app: FastifyInstance) {
  for (const schema of allSchemas()) app.addSchema(schema)

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
          '',
          'Every error has one shape (`Error`): statusCode, error, code, message, requestId, and the offending `details`.',
          'Records carry a `version`; GET returns it as the ETag, and PUT, PATCH and DELETE honour `If-Match` (412 when stale).',
        ].join('\n'),
      },
      components: {
        securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      },
      // Swagger UI shows the groups in this order: the order a person works in
      tags: [
        { name: 'Controllers', description: 'The organisations responsible for processing (personuppgiftsansvariga), with contact details, representative and data protection officer; and each one\'s privacy notice' },
        { name: 'Processing activities', description: 'The register\'s entries (behandlingar): what is processed, why, on which legal basis, about whom, shared with whom, kept how long. Start here once a controller exists.' },
        ...RESOURCES.filter((r) => !['controller', 'processing-activity'].includes(r.type))
          .map((r) => ({ name: r.tag, description: `Catalogue: the ${r.titlePlural} that processing activities refer to` })),
        { name: 'Register', description: 'The register as a whole: the file for a supervisory authority (export), backups (import), findings to fix, reviews due' },
        { name: 'History', description: 'Who changed what and when (append-only), and the register as it stood' },
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
    transform: ({ schema, url, route }) => {
      const role = (route.config as { auth?: Role | 'public' } | undefined)?.auth
      return { schema: schema && role && role !== 'public' ? { ...schema, 'x-required-role': role } : schema, url }
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
    },
    staticCSP: true,
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

/** The OpenAPI document as committed in openapi/openapi.json: stable byte for byte. */
export function openapiText(app: FastifyInstance): string {
  return JSON.stringify(app.swagger(), null, 2) + '\n'
}
