import { FastifyInstance } from 'fastify'
import { demoId } from '../../src/register/demo/demo'
import { ValidationFailed } from '../../src/errors'
import { errorResponses } from '../crud'

const body = {
  type: 'object',
  additionalProperties: false,
  required: ['path'],
  properties: {
    path: {
      type: 'string', minLength: 1, maxLength: 2048,
      description: 'The path and query of a GET operation of this API, exactly as the link will open it',
      examples: ['/api/v1/register/report?lang=sv'],
    },
  },
} as const

const EXAMPLES = {
  report: { summary: 'The printable report, in Swedish', value: { path: '/api/v1/register/report?lang=sv' } },
  dataFlow: { summary: 'The data-flow picture (SVG)', value: { path: '/api/v1/register/data-flow?format=svg&lang=sv' } },
  workbook: { summary: 'The Excel workbook', value: { path: '/api/v1/register/export?format=xlsx&lang=sv' } },
  csv: { summary: 'The Art. 30(1) record as CSV for Excel', value: { path: '/api/v1/register/export?format=csv&lang=sv' } },
  json: { summary: 'The JSON export document', value: { path: '/api/v1/register/export?format=json' } },
  notice: {
    summary: 'A controller\'s privacy notice (HTML)',
    description: 'The id is the demo\'s HALTEA AB (workspace `demo`); elsewhere take a controller\'s id from GET /api/v1/controllers.',
    value: { path: `/api/v1/controllers/${demoId('haltea')}/privacy-notice?lang=sv&format=html` },
  },
}

const link = {
  type: 'object',
  additionalProperties: false,
  required: ['url', 'expiresAt'],
  properties: {
    url: {
      type: 'string', format: 'uri',
      description: 'Open it in a browser, or fetch it, without a token: GET only, this path and query only. Treat it as a password until it expires.',
      examples: ['http://127.0.0.1:3000/api/v1/register/report?lang=sv&access=eyJhbGciOiJIUzI1NiIsInR5cCI6InJvcGEtbGluaytqd3QifQ.eyJ3cyI6ImRlbW8iLCJyb2xlIjoicmVhZGVyIn0.c2lnbmF0dXJl'],
    },
    expiresAt: { type: 'string', format: 'date-time', description: 'When the link stops opening: LINK_TTL after now (15 minutes by default), never after the token it was made with' },
  },
} as const

/** The body's path (checked further by Links.target); bodies are checked by hand where no request class declares them. */
function linkPath(given: unknown): unknown {
  const example = 'such as {"path": "/api/v1/register/report?lang=sv"}'
  if (!given || typeof given !== 'object' || Array.isArray(given)) {
    throw new ValidationFailed([{ field: 'body', message: `The body must be a JSON object ${example}` }])
  }
  const unknown = Object.keys(given).filter((k) => k !== 'path')
  if (unknown.length) throw new ValidationFailed(unknown.map((field) => ({ field, message: `${field} is not a known field; the body holds only path, ${example}` })))
  if (!Object.hasOwn(given, 'path')) throw new ValidationFailed([{ field: 'path', message: `path is required, ${example}` }])
  return (given as { path: unknown }).path
}

/**
 * Links that open in a browser: a reader asks for a link to one GET (the report, the data-flow
 * picture, a privacy notice, an export) and hands it to a browser tab, a colleague's mail or a
 * spreadsheet's "open from URL", none of which can send a bearer token. src/auth/links.ts signs them.
 */
export default async function linkRoutes(app: FastifyInstance): Promise<void> {
  app.post<{ Body: { path: string } }>('/api/v1/register/links', {
    config: { auth: 'reader' },
    schema: {
      summary: 'Make a link that opens a report, picture, notice or export in a browser',
      description: [
        'A link to one GET of this API that a browser opens without a token: for that path and query exactly, in your workspace and',
        'with your role, for `LINK_TTL` (15 minutes by default) and never longer than your token. Execute, then open the `url`',
        'in a new tab: the report to read and print, the data-flow picture, a privacy notice, or an export saved under its file name.',
        'Anyone holding the link can open it until it expires: share it as you would the document.',
      ].join(' '),
      tags: ['Register'], security: [{ bearerAuth: [] }], operationId: 'createLink',
      body: { ...body, 'x-examples': EXAMPLES },
      response: { 201: { description: 'The link', ...link }, ...errorResponses(413, 415) },
    },
  }, async (request, reply) => {
    const made = await app.links.make(request.principal, linkPath(request.body))
    const origin = app.config.links.publicUrl ?? `${request.protocol}://${request.host}`
    return reply.code(201).header('cache-control', 'no-store')
      .send({ url: origin + made.pathAndCapability, expiresAt: made.expiresAt.toISOString() })
  })
}
