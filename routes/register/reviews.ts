import { FastifyInstance } from 'fastify'
import { reviewsDue } from '../../src/register/accountability/reviews'
import { markReviewed } from '../../src/register/records/writes'
import { registerToday } from '../../src/register/wording/dates'
import { PageQuery, pageParams } from '../../src/schemas/paging'
import { errorResponses, expectedVersion, idParams, ifMatchHeader, json } from '../crud'

/** Periodic review of the register: what is due, and marking an activity reviewed. */
export default async function reviewRoutes(app: FastifyInstance): Promise<void> {
  app.get<{ Querystring: PageQuery & { controllerId?: string } }>('/api/v1/register/reviews-due', {
    config: { auth: 'reader' },
    schema: {
      summary: 'List processing activities due for review',
      description: 'Activities (not retired) never reviewed, past their next review date, or with no next review planned.',
      tags: ['Register'], security: [{ bearerAuth: [] }], operationId: 'listReviewsDue',
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: {
          controllerId: { type: 'string', format: 'uuid' },
          ...pageParams,
        },
      },
      response: { 200: json('Activities due for review', 'ReviewDueList'), ...errorResponses() },
    },
  }, async (request) => reviewsDue(app.db, request.principal.ws, request.query, registerToday(app.config.registerTimeZone)))

  app.post<{ Params: { id: string } }>('/api/v1/processing-activities/:id/review', {
    config: { auth: 'editor' },
    schema: {
      summary: 'Mark a processing activity reviewed',
      description: 'Records who reviewed it (the token\'s subject) and when (today), and when the next review is due.',
      tags: ['Processing activities'], security: [{ bearerAuth: [] }], operationId: 'reviewProcessingActivity',
      params: idParams, headers: ifMatchHeader, body: { $ref: 'ReviewWrite#' },
      response: { 200: json('The activity as stored now', 'ProcessingActivity'), ...errorResponses(404, 409, 412) },
    },
  }, async (request, reply) => {
    const { id } = request.params
    const view = await markReviewed(app.db, request.principal, id, request.body ?? {}, registerToday(app.config.registerTimeZone), expectedVersion(request))
    reply.header('etag', `"${view.version}"`)
    return view
  })
}
