import fp from 'fastify-plugin'
import { FastifyInstance } from 'fastify'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import { allSchemas } from '../schemas/views'
import { RESOURCES } from '../register/model'

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
          'Locally: `npm run token -- --role editor --ws demo --sub you`.',
          '',
          'Every error has one shape (`Error`): statusCode, error, code, message, requestId, and the offending `details`.',
          'Records carry a `version`; GET returns it as the ETag, and PUT, PATCH and DELETE honour `If-Match` (412 when stale).',
        ].join('\n'),
      },
      components: {
        securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      },
      tags: [
        ...RESOURCES.map((r) => ({ name: r.tag, description: `The register's ${r.titlePlural}` })),
        { name: 'Register', description: 'The register as a whole: export and import, findings, reviews' },
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
    refResolver: {
      buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`),
    },
  })

  await app.register(swaggerUi, {
    routePrefix: '/docs',
    uiConfig: { persistAuthorization: false, displayOperationId: true, defaultModelsExpandDepth: 0, tryItOutEnabled: true },
    staticCSP: true,
  })

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger())
}, { name: 'openapi' })

/** The OpenAPI document as committed in openapi/openapi.json: stable byte for byte. */
export function openapiText(app: FastifyInstance): string {
  return JSON.stringify(app.swagger(), null, 2) + '\n'
}
