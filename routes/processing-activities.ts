import { FastifyInstance } from 'fastify'
import { NotFound } from '../src/errors'
import { processingActivities } from '../src/register/records/model'
import { readStoredView } from '../src/register/records/stored-views'
import { screenActivity } from '../src/register/records/dpia-screening'
import { crudRoutes, errorResponses, idParams, json } from './crud'

const crud = crudRoutes(processingActivities)

/** The activities' operations, and their DPIA screening explained. */
export default async function routes(app: FastifyInstance): Promise<void> {
  await crud(app)

  app.get<{ Params: { id: string } }>('/api/v1/processing-activities/:id/dpia-screening', {
    config: { auth: 'reader' },
    schema: {
      summary: 'The DPIA screening of a processing activity, explained',
      description: 'Computed from the register, never entered by hand: the nine WP248 rev.01 criteria and the three cases of Art. 35(3), ' +
        'each met, not met or open (null) with why and the fields it read; the outcome (required when an Art. 35(3) case or two criteria are met, ' +
        'IMY\'s list; not-required only when every fact it needs is answered; otherwise undetermined, naming the unanswered facts). ' +
        'The decision stays with people: dpia.required, justification, dpoAdvice, decidedBy, decidedAt. Rules and sources: docs/dpia-screening.md.',
      tags: ['Processing activities'], security: [{ bearerAuth: [] }], operationId: 'getProcessingActivityDpiaScreening',
      params: idParams,
      response: { 200: json('The screening, criterion by criterion', 'DpiaScreening'), ...errorResponses(404) },
    },
  }, async (request) => {
    const { id } = request.params
    // from the stored view: the facts it shows are those of the records it refers to, as stored with it
    const stored = await readStoredView(app.db, request.principal.ws, processingActivities, id)
    if (!stored) throw new NotFound(processingActivities.title, id)
    return screenActivity(JSON.parse(String(stored.json)))
  })
}
