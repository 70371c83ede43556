import { FastifyInstance } from 'fastify'
import { exportDocumentSchema, SECTIONS } from '../../src/register/exchange/export-document'
import { importRegister } from '../../src/register/exchange/import'
import { historyKeys } from '../../src/register/accountability/checkpoints'
import { restoreProof } from '../../src/register/accountability/proof'
import { errorResponses } from '../crud'

const counts = (description: string) => ({
  type: 'object',
  description,
  properties: Object.fromEntries(SECTIONS.map((s) => [s.key, { type: 'integer', minimum: 0 }])),
  required: SECTIONS.map((s) => s.key),
  additionalProperties: false,
})

const importResult = {
  type: 'object',
  description: 'What the import did (or, on a dry run, would do)',
  properties: {
    dryRun: { type: 'boolean' },
    created: counts('Records created, per list of the document'),
    updated: counts('Records changed'),
    unchanged: counts('Records already stored exactly as in the document'),
    errors: {
      type: 'array',
      description: 'Dry run: every problem found, with its JSON path in the document; empty when the import would succeed',
      items: {
        type: 'object',
        properties: { path: { type: 'string', examples: ['processingActivities[3].purposes[0].legalBases[1].id'] }, message: { type: 'string' } },
        required: ['path', 'message'],
        additionalProperties: false,
      },
    },
    leftOut: {
      type: 'array',
      description: 'A restore\'s register versions not restored, each with why: a proposal made before proposals were history entries and never decided is covered by no signed history, so it is left out (never restored as decided). Present only when there is one',
      items: {
        type: 'object',
        properties: { path: { type: 'string', examples: ['registerVersions[2]'] }, message: { type: 'string' } },
        required: ['path', 'message'],
        additionalProperties: false,
      },
    },
  },
  required: ['dryRun', 'created', 'updated', 'unchanged', 'errors'],
  additionalProperties: false,
}

/** A whole register: 10,000 activities export to about 53 MB. */
export const IMPORT_BODY_LIMIT = 100 * 1024 * 1024

/** Takes an export document back: creates or updates every record by id, all or nothing. */
export default async function importRoutes(app: FastifyInstance): Promise<void> {
  app.post<{ Querystring: { dryRun: boolean } }>('/api/v1/register/import', {
    config: { auth: 'editor', expensive: true },
    bodyLimit: IMPORT_BODY_LIMIT,
    schema: {
      summary: 'Import a register export document',
      description: [
        'Takes the JSON document of GET /api/v1/register/export?format=json and creates or updates each record by its id,',
        'through the same validation and reference checks as the other write operations, in one transaction: all or nothing.',
        'Built-in legal bases are matched by id and code, never created; creating or changing a legal basis needs the admin role.',
        'With dryRun=true nothing is written: the answer tells what would be created and updated, and every error with its JSON path.',
        'A failed import answers 400 (403 for legal-basis changes without the admin role) with each error in details, field = JSON path.',
        'A backup (GET /api/v1/register/backup) with history, register versions and checkpoints is restored only by an admin (403 otherwise,',
        'nothing written), into the token\'s workspace, and only when every entry and version has the expected shape, the chain verifies, and',
        'its head is signed by a checkpoint of a key this service trusts (its own, or HISTORY_TRUSTED_KEYS); a failure is a 400 naming the entry.',
      ].join(' '),
      tags: ['Register'],
      security: [{ bearerAuth: [] }],
      operationId: 'importRegister',
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: { dryRun: { type: 'boolean', default: false, description: 'Check and count only; write nothing' } },
      },
      body: exportDocumentSchema(),
      response: { 200: importResult, ...errorResponses(413, 415) },
    },
  }, async (request) => {
    const { dryRun } = request.query
    return importRegister(app.db, request.principal, request.body, dryRun, restoreProof(await historyKeys(app.config.history)))
  })
}
