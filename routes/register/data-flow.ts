import { FastifyInstance } from 'fastify'
import { ACTIVITY_STATUSES } from '../../src/register/records/catalogue'
import { dataFlow, DataFlowQuery, dataFlowSchema, dataFlowSvg, MAX_SVG_NODES } from '../../src/register/reading/data-flow'
import { LAYOUT_UNAVAILABLE } from '../../src/register/reading/flow-layout'
import { checkControllerFilter } from '../../src/register/records/walk'
import { registerDate } from '../../src/register/wording/dates'
import { errorExampleOf, errorResponse, errorResponses, json, longAnswerResponses } from '../crud'
import { clientGone } from '../../src/plugins/budgets'

const querystring = {
  type: 'object',
  additionalProperties: false,
  properties: {
    format: { type: 'string', enum: ['json', 'svg'], default: 'json', description: 'json: nodes and links; svg: the picture, drawn on the server' },
    lang: { type: 'string', enum: ['en', 'sv'], default: 'en', description: 'Language of country and mechanism names and of the picture\'s headings' },
    controllerId: { type: 'string', format: 'uuid', description: 'Only the activities this controller keeps or is a joint controller of' },
    status: { type: 'string', enum: [...ACTIVITY_STATUSES], description: 'Only activities with this status; default: every activity that is not retired' },
  },
} as const

/** Where personal data goes: the register as a flow, as data or as a picture. */
export default async function dataFlowRoutes(app: FastifyInstance): Promise<void> {
  app.get<{ Querystring: DataFlowQuery & { format: 'json' | 'svg' } }>('/api/v1/register/data-flow', {
    config: { auth: 'reader', expensive: true },
    schema: {
      summary: 'The register as a data flow (JSON or SVG)',
      description: [
        'Categories of data subjects → processing activities → recipients and processors → third countries. A transfer link carries',
        'its Chapter V mechanism; a transfer without one is marked (`missingMechanism`), and a recipient or processor located in a',
        'third country whose transfer no activity records gets a link with `recorded: false`. SVG: a layered layout (ELK) sized for',
        `an A4 page, register text escaped; refused with 422 above ${MAX_SVG_NODES} nodes (filter by controllerId or status).`,
      ].join(' '),
      tags: ['Register'],
      security: [{ bearerAuth: [] }],
      operationId: 'getDataFlow',
      querystring,
      response: {
        200: {
          description: 'The flow',
          content: {
            'application/json': { schema: dataFlowSchema() },
            'image/svg+xml': { schema: { type: 'string', description: 'A standalone SVG image, UTF-8' } },
          },
        },
        ...errorResponses(),
        ...longAnswerResponses(),
        422: errorResponse(422, `format=svg: the flow has more than ${MAX_SVG_NODES} nodes`, errorExampleOf(422, 'Unprocessable Entity', 'flow_too_large', `The flow has 412 nodes, more than the ${MAX_SVG_NODES} a picture can show legibly; choose a controllerId or a status, or ask for format=json`)),
        503: errorResponse(503, `${LAYOUT_UNAVAILABLE}. Also answered when the database is busy (code busy)`, errorExampleOf(503, 'Service Unavailable', 'layout_busy', 'Too many data-flow pictures are being drawn at the moment; retry shortly, or ask for format=json')),
      },
    },
  }, async (request, reply) => {
    const { ws } = request.principal
    const query = request.query
    await checkControllerFilter(app.db, ws, query.controllerId)
    const flow = await dataFlow(app.db, ws, query)
    // inline: a browser shows it; saved, it keeps a dated name with the format's extension
    const file = `${query.lang === 'sv' ? 'dataflode' : 'data-flow'}-${registerDate(new Date(), app.config.registerTimeZone)}.${query.format}`
    reply.header('content-disposition', `inline; filename="${file}"`)
    if (query.format === 'json') return flow
    return reply.header('content-type', 'image/svg+xml; charset=utf-8')
      .send(await dataFlowSvg(flow, query.lang, { workspace: ws, signal: clientGone(reply) }))
  })
}
