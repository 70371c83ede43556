import { FastifyInstance } from 'fastify'
import { checkpointHead, historyKeys, listCheckpoints } from '../../src/register/accountability/checkpoints'
import { holdHistoryChain } from '../../src/register/records/journal'
import { Conflict } from '../../src/errors'
import { PageQuery, pageParams } from '../../src/schemas/paging'
import { errorResponses, json } from '../crud'

const TAGS = ['History']

/**
 * Signed checkpoints of the history's head and the public keys that verify them: what an auditor
 * keeps outside the service, and checks with any JOSE library or `npm run verify`.
 */
export default async function checkpointRoutes(app: FastifyInstance): Promise<void> {
  app.get('/api/v1/history/keys', {
    config: { auth: 'public' },
    schema: {
      summary: 'The public keys of history checkpoints (JWKS)',
      description: [
        'The Ed25519 public keys that verify checkpoints (EdDSA), as a JSON Web Key Set: the key signing now and the keys it replaced,',
        'so that checkpoints signed before a rotation still verify. No token needed: anyone who holds a checkpoint may check it.',
        'Save it beside a backup for `npm run verify -- backup.json --jwks keys.json`.',
      ].join(' '),
      tags: TAGS, operationId: 'historyKeys',
      response: { 200: json('The key set', 'HistoryKeySet') },
    },
  }, async (_request, reply) => {
    const keys = await historyKeys(app.config.history)
    reply.header('cache-control', 'public, max-age=300')
    return { keys: keys.published }
  })

  app.post('/api/v1/history/checkpoints', {
    config: { auth: 'editor' },
    schema: {
      summary: 'Sign the history\'s head now',
      description: [
        'Signs `{ ws, seq, head, iat }` (seq: entries in the workspace\'s history, head: the hash of the last) as a compact JWS with EdDSA',
        '(Ed25519), with a key held outside the database. 201 with the new checkpoint; 200 with the latest one when it already signs the',
        'current head. A checkpoint is also made whenever a version is proposed, approved or rejected, and with every backup.',
      ].join(' '),
      tags: TAGS, security: [{ bearerAuth: [] }], operationId: 'signHistoryHead',
      body: { type: 'object', additionalProperties: false, properties: {}, description: 'Nothing: the head is the one signed (an empty body, or none, is accepted)' },
      response: { 200: json('The latest checkpoint, which already signs the head', 'HistoryCheckpoint'), 201: json('The checkpoint', 'HistoryCheckpoint'), ...errorResponses(409) },
    },
  }, async (request, reply) => {
    const ws = request.principal.ws
    const keys = await historyKeys(app.config.history)
    const signed = await app.db.write(async (m) => {
      await holdHistoryChain(m, ws)
      return checkpointHead(m, ws, keys)
    })
    if (!signed) throw new Conflict('history_empty', 'The workspace has no history yet: there is no head to sign')
    reply.code(signed.created ? 201 : 200)
    return signed.checkpoint
  })

  app.get<{ Querystring: PageQuery }>('/api/v1/history/checkpoints', {
    config: { auth: 'reader' },
    schema: {
      summary: 'List the history\'s signed checkpoints, newest first',
      tags: TAGS, security: [{ bearerAuth: [] }], operationId: 'listHistoryCheckpoints',
      querystring: { type: 'object', additionalProperties: false, properties: { ...pageParams } },
      response: { 200: json('A page of checkpoints', 'HistoryCheckpointList'), ...errorResponses() },
    },
  }, async (request) => listCheckpoints(app.db, request.principal.ws, request.query))
}
