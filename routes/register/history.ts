import { FastifyInstance } from 'fastify'
import { activityChanges, HistoryQuery, listHistory, verifyHistory } from '../../src/register/accountability/history'
import { HISTORY_OPERATIONS, HISTORY_RECORD_TYPES } from '../../src/schemas/accountability'
import { ValidationFailed } from '../../src/errors'
import { historyKeys } from '../../src/register/accountability/checkpoints'
import { pageParams } from '../../src/schemas/paging'
import { errorResponses, json, longAnswerResponses } from '../crud'

/** The change history (append-only: there is no route that changes or removes it) and what changed when. */
export default async function historyRoutes(app: FastifyInstance): Promise<void> {
  app.get<{ Querystring: HistoryQuery }>('/api/v1/history', {
    config: { auth: 'reader' },
    schema: {
      summary: 'List the change history',
      description: 'Every create, update and delete, oldest first: who (the token\'s subject), when, which record and version, and the record\'s full state after the change (before it, for a delete); and every approval, rejection and superseding of a register version (`recordType=register-version`), with the note or reason. History cannot be changed or removed.',
      tags: ['History'], security: [{ bearerAuth: [] }], operationId: 'listHistory',
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: {
          recordType: { type: 'string', enum: HISTORY_RECORD_TYPES },
          recordId: { type: 'string', format: 'uuid' },
          actor: { type: 'string', maxLength: 200, description: 'The token subject who made the change' },
          operation: { type: 'string', enum: HISTORY_OPERATIONS },
          from: { type: 'string', format: 'date-time', description: 'Changes at or after this moment' },
          to: { type: 'string', format: 'date-time', description: 'Changes at or before this moment' },
          ...pageParams,
        },
      },
      response: { 200: json('History entries', 'HistoryList'), ...errorResponses() },
    },
  }, async (request) => {
    const q = { ...request.query }
    if (q.from) q.from = new Date(q.from).toISOString()
    if (q.to) q.to = new Date(q.to).toISOString()
    return app.db.read((m) => listHistory(m, request.principal.ws, q))
  })

  app.get('/api/v1/history/verify', {
    config: { auth: 'reader' },
    schema: {
      summary: 'Verify the history\'s hash chain',
      description: [
        'Each history entry carries a SHA-256 over the previous entry\'s hash and its own content, one chain per workspace.',
        'This recomputes the chain from the first entry: `valid` is false when an entry was changed, removed or inserted outside',
        'the service (for instance by someone with the database file), and `firstBroken` names the first entry that fails.',
        '`head` is the latest hash, which register versions record as their historyHead; a version whose historyHead is no longer',
        'in the chain (the latest entries were removed) is listed in `versionsWithoutHead`. Every signed checkpoint is checked too: its signature,',
        'and that the entry it names still has the head it signed, so a chain rewritten with every hash recomputed is found at the first checkpoint after the change.',
      ].join(' '),
      tags: ['History'], security: [{ bearerAuth: [] }], operationId: 'verifyHistory',
      response: { 200: json('The chain, checked', 'HistoryVerification'), ...errorResponses(), ...longAnswerResponses() },
    },
  }, async (request) => verifyHistory(app.db, request.principal.ws, await historyKeys(app.config.history)))

  app.get<{ Querystring: { since: string; until?: string } }>('/api/v1/register/changes', {
    config: { auth: 'reader' },
    schema: {
      summary: 'Processing activities added, changed and removed between two moments',
      description: 'Compares each activity as it stood at `since` with how it stood at `until` (default: now), with field-level differences.',
      tags: ['History'], security: [{ bearerAuth: [] }], operationId: 'listRegisterChanges',
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: {
          since: { type: 'string', format: 'date-time' },
          until: { type: 'string', format: 'date-time', description: 'Default: now' },
        },
        required: ['since'],
      },
      response: { 200: json('What changed', 'ActivityChanges'), ...errorResponses(), ...longAnswerResponses() },
    },
  }, async (request) => {
    const q = request.query
    const since = new Date(q.since).toISOString()
    const until = q.until ? new Date(q.until).toISOString() : new Date().toISOString()
    if (until < since) throw new ValidationFailed([{ field: 'until', message: 'until must not be before since' }])
    return activityChanges(app.db, request.principal.ws, since, until)
  })
}
