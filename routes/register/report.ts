import { FastifyInstance } from 'fastify'
import { checkControllerFilter } from '../../src/register/records/walk'
import { LAYOUT_UNAVAILABLE } from '../../src/register/reading/flow-layout'
import { REPORT_CSP, registerReport, ReportQuery } from '../../src/register/reading/report'
import { reportProof } from '../../src/register/accountability/checkpoints'
import { registerDate } from '../../src/register/wording/dates'
import { errorExampleOf, errorResponse, errorResponses, json, longAnswerResponses } from '../crud'
import { clientGone } from '../../src/plugins/budgets'

const querystring = {
  type: 'object',
  additionalProperties: false,
  properties: {
    format: { type: 'string', enum: ['html'], default: 'html', description: 'html: a self-contained page, printable on A4' },
    lang: { type: 'string', enum: ['en', 'sv'], default: 'en', description: 'Language of the report; register text is given as recorded' },
    controllerId: { type: 'string', format: 'uuid', description: 'Only the activities this controller keeps or is a joint controller of' },
  },
} as const

/** The register as people read it on paper: a printable report for an authority, an auditor or management. */
export default async function reportRoutes(app: FastifyInstance): Promise<void> {
  app.get<{ Querystring: ReportQuery }>('/api/v1/register/report', {
    config: { auth: 'reader', expensive: true },
    schema: {
      summary: 'A printable report of the register (HTML)',
      description: [
        'A cover with the controllers, their contact details, representative and DPO; a table of contents; the data-flow picture;',
        'one section per processing activity (not retired) with every Art. 30(1)(a)–(g) item in words (legal bases with their',
        'article, retention in words, transfers with their mechanism); the open findings. Print CSS: A4, each activity on a new page,',
        'page numbers. Self-contained (no script, nothing fetched); its Content-Security-Policy allows only its own stylesheet, by hash.',
      ].join(' '),
      tags: ['Register'],
      security: [{ bearerAuth: [] }],
      operationId: 'getRegisterReport',
      querystring,
      response: {
        200: { description: 'The report', content: { 'text/html': { schema: { type: 'string', description: 'A standalone HTML document, UTF-8' } } } },
        ...errorResponses(),
        ...longAnswerResponses(),
        503: errorResponse(503, `${LAYOUT_UNAVAILABLE}. Also answered when the database is busy (code busy)`, errorExampleOf(503, 'Service Unavailable', 'layout_busy', 'Too many data-flow pictures are being drawn at the moment; retry shortly, or ask for format=json')),
      },
    },
  }, async (request, reply) => {
    const { ws } = request.principal
    const query = request.query
    await checkControllerFilter(app.db, ws, query.controllerId)
    const html = await registerReport(app.db, ws, query, new Date(), app.config.registerTimeZone, clientGone(reply), await reportProof(app.db, ws))
    // Replaces helmet's API policy (default-src 'none') for this page: its one inline stylesheet is allowed by hash.
    // inline: a browser shows it to read and print; saved, it keeps a dated name with its extension
    const file = `${query.lang === 'sv' ? 'registerforteckning-rapport' : 'register-report'}-${registerDate(new Date(), app.config.registerTimeZone)}.html`
    return reply.header('content-security-policy', REPORT_CSP).header('content-type', 'text/html; charset=utf-8')
      .header('content-disposition', `inline; filename="${file}"`).send(html)
  })
}
