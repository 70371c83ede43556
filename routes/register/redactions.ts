import { FastifyInstance } from 'fastify'
import { approveRedaction, getRedaction, listRedactions, proposeRedaction, rejectRedaction, RedactionStatus } from '../../src/register/accountability/redactions'
import { historyKeys } from '../../src/register/accountability/checkpoints'
import { PageQuery, pageParams } from '../../src/schemas/paging'
import { errorResponses, json } from '../crud'

const TAGS = ['Redactions']

const idParams = {
  type: 'object',
  properties: { id: { type: 'string', format: 'uuid', description: 'The redaction\'s id', examples: ['3b0f6c2e-8a51-4c8e-9a8e-2f1f5b7c9d10'] } },
  required: ['id'],
} as const

interface ById {
  Params: { id: string }
}

/**
 * Erasing personal data from history and register versions, with four eyes: propose (admin),
 * approve as another admin or reject, list. The proof survives (docs/verifying-history.md).
 */
export default async function redactionRoutes(app: FastifyInstance): Promise<void> {
  app.post('/api/v1/redactions', {
    config: { auth: 'admin' },
    schema: {
      summary: '1. Propose to erase values from history and versions',
      description: [
        'Names exact values (a departed DPO\'s name, e-mail address or phone number, someone\'s subject) to erase wherever they occur in the',
        'history (states, free text, actors) and in the frozen register versions. Answers how many history entries and versions hold them.',
        'Refused with 409, naming the records, while the live register still holds any of the values: change those records first.',
        'Another admin approves it (four eyes, unless VERSIONS_FOUR_EYES=false) or rejects it; the values are dropped once it is applied or rejected.',
      ].join(' '),
      tags: TAGS, security: [{ bearerAuth: [] }], operationId: 'proposeRedaction',
      body: { $ref: 'RedactionProposal#' },
      response: { 201: json('The redaction, proposed', 'Redaction'), ...errorResponses(409, 413, 415) },
    },
  }, async (request, reply) => {
    const redaction = await proposeRedaction(app.db, request.principal, request.body)
    reply.code(201).header('location', `/api/v1/redactions/${redaction.id}`)
    return redaction
  })

  app.post<ById>('/api/v1/redactions/:id/approve', {
    config: { auth: 'admin' },
    schema: {
      summary: '2. Approve and apply a proposed redaction (another admin: four eyes)',
      description: [
        'Replaces every occurrence of the values by `[redacted]` (`[raderad]` in Swedish exports) in history states and actors, and in the',
        'documents and texts of register versions (their files are rendered again; contentHash stays the one frozen, and the version lists the',
        'redaction). The chain still verifies: the hash covers salted commitments of the values, and the commitments of the erased ones stay.',
        'The redaction is a history entry (who proposed and approved it, when, why, how many occurrences, which fields; never the values),',
        'signed by a new checkpoint. Not by the admin who proposed it (403) unless VERSIONS_FOUR_EYES=false; 409 if it is not proposed or the',
        'live register holds a value again.',
      ].join(' '),
      tags: TAGS, security: [{ bearerAuth: [] }], operationId: 'approveRedaction',
      params: idParams,
      body: { type: 'object', additionalProperties: false, properties: {}, description: 'Nothing (an empty body, or none, is accepted)' },
      response: { 200: json('The redaction, applied', 'Redaction'), ...errorResponses(404, 409, 415) },
    },
  }, async (request) => approveRedaction(app.db, request.principal, request.params.id, app.config.versionsFourEyes, await historyKeys(app.config.history)))

  app.post<ById>('/api/v1/redactions/:id/reject', {
    config: { auth: 'admin' },
    schema: {
      summary: '2. Reject a proposed redaction',
      description: 'Status `rejected`, with who, when and why; its values are dropped. Only a proposed redaction can be rejected (409 otherwise).',
      tags: TAGS, security: [{ bearerAuth: [] }], operationId: 'rejectRedaction',
      params: idParams, body: { $ref: 'RedactionRejection#' },
      response: { 200: json('The redaction, rejected', 'Redaction'), ...errorResponses(404, 409, 413, 415) },
    },
  }, async (request) => rejectRedaction(app.db, request.principal, request.params.id, request.body))

  app.get<{ Querystring: PageQuery & { status?: RedactionStatus } }>('/api/v1/redactions', {
    config: { auth: 'admin' },
    schema: {
      summary: 'List redactions, newest first',
      tags: TAGS, security: [{ bearerAuth: [] }], operationId: 'listRedactions',
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: { status: { type: 'string', enum: ['proposed', 'applied', 'rejected'] }, ...pageParams },
      },
      response: { 200: json('A page of redactions', 'RedactionList'), ...errorResponses() },
    },
  }, async (request) => listRedactions(app.db, request.principal.ws, request.query))

  app.get<ById>('/api/v1/redactions/:id', {
    config: { auth: 'admin' },
    schema: {
      summary: 'Read a redaction',
      tags: TAGS, security: [{ bearerAuth: [] }], operationId: 'getRedaction',
      params: idParams,
      response: { 200: json('The redaction', 'Redaction'), ...errorResponses(404) },
    },
  }, async (request) => getRedaction(app.db, request.principal.ws, request.params.id))
}
