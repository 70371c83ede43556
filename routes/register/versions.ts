import { FastifyInstance } from 'fastify'
import { exportDocumentSchema } from '../../src/register/exchange/export-document'
import { registerDate } from '../../src/register/wording/dates'
import {
  approveVersion, backupDocument, getVersion, listVersions, proposeVersion, rejectVersion, versionChanges, VersionStatus,
} from '../../src/register/accountability/versions'
import { historyKeys } from '../../src/register/accountability/checkpoints'
import { PageQuery, pageParams } from '../../src/schemas/paging'
import { errorResponses, json, longAnswerResponses } from '../crud'

const TAGS = ['Register versions']

const numberParams = {
  type: 'object',
  properties: { number: { type: 'integer', minimum: 1, maximum: 2147483647, description: 'The version\'s number in the workspace', examples: [3] } },
  required: ['number'],
} as const

/** A register version by its number in the path. */
interface ByNumber {
  Params: { number: number }
}

/**
 * The lifecycle of established register versions: propose (freeze), approve as another admin or
 * reject, list, read, compare. Exports of a version are GET /api/v1/register/export?version=.
 */
export default async function versionRoutes(app: FastifyInstance): Promise<void> {
  app.post('/api/v1/register/versions', {
    config: { auth: 'editor', expensive: true },
    schema: {
      summary: '1. Propose a version: freeze the register as it is now',
      description: [
        'Freezes the whole register of the workspace (the Art. 30(1) and Art. 30(2) records) as the next version, status `proposed`.',
        'The frozen JSON document is kept byte for byte; its SHA-256 is `contentHash`. The version records the history chain\'s head',
        '(`historyHead`, with a signed checkpoint of it in the document), the records per kind (`counts`) and the open findings at that moment.',
        'The proposal is a history entry, and the version carries the signed checkpoint that covers it (`checkpoint`). An admin other than the proposer then approves or rejects it.',
      ].join(' '),
      tags: TAGS, security: [{ bearerAuth: [] }], operationId: 'proposeRegisterVersion',
      body: { $ref: 'VersionProposal#' },
      response: { 201: json('The version, frozen and proposed', 'RegisterVersion'), ...errorResponses(413, 415) },
    },
  }, async (request, reply) => {
    const version = await proposeVersion(app.db, request.principal, request.body, app.config.registerTimeZone, await historyKeys(app.config.history))
    reply.code(201).header('location', `/api/v1/register/versions/${version.number}`)
    return version
  })

  app.post<ByNumber>('/api/v1/register/versions/:number/approve', {
    config: { auth: 'admin' },
    schema: {
      summary: '2. Approve a proposed version (another admin: four eyes)',
      description: [
        'Establishes the version: status `approved`, with who and when. The version approved before it becomes `superseded`.',
        'Both are history entries, signed by a new checkpoint that the version carries.',
        'Only a proposed version can be approved (409 otherwise), and not by the admin who proposed it (403), unless the service',
        'runs with VERSIONS_FOUR_EYES=false (one-person organisations).',
      ].join(' '),
      tags: TAGS, security: [{ bearerAuth: [] }], operationId: 'approveRegisterVersion',
      params: numberParams, body: { $ref: 'VersionApproval#' },
      response: { 200: json('The version, approved', 'RegisterVersion'), ...errorResponses(404, 409, 413, 415) },
    },
  }, async (request) => {
    const { number } = request.params
    return approveVersion(app.db, request.principal, number, request.body, app.config.versionsFourEyes, await historyKeys(app.config.history))
  })

  app.post<ByNumber>('/api/v1/register/versions/:number/reject', {
    config: { auth: 'admin' },
    schema: {
      summary: '2. Reject a proposed version',
      description: 'Status `rejected`, with who, when and why. Only a proposed version can be rejected (409 otherwise).',
      tags: TAGS, security: [{ bearerAuth: [] }], operationId: 'rejectRegisterVersion',
      params: numberParams, body: { $ref: 'VersionRejection#' },
      response: { 200: json('The version, rejected', 'RegisterVersion'), ...errorResponses(404, 409, 413, 415) },
    },
  }, async (request) => {
    const { number } = request.params
    return rejectVersion(app.db, request.principal, number, request.body, await historyKeys(app.config.history))
  })

  app.get<{ Querystring: PageQuery & { status?: VersionStatus } }>('/api/v1/register/versions', {
    config: { auth: 'reader' },
    schema: {
      summary: 'List the register\'s versions, newest first',
      tags: TAGS, security: [{ bearerAuth: [] }], operationId: 'listRegisterVersions',
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: {
          status: { type: 'string', enum: ['proposed', 'approved', 'rejected', 'superseded'] },
          ...pageParams,
        },
      },
      response: { 200: json('A page of versions', 'RegisterVersionList'), ...errorResponses() },
    },
  }, async (request) => listVersions(app.db, request.principal.ws, request.query))

  app.get('/api/v1/register/backup', {
    config: { auth: 'admin', expensive: true },
    schema: {
      summary: 'Back up the workspace: the register with its history and versions',
      description: [
        'The whole register as one JSON export document (`record: "all"`), with the workspace\'s whole history as stored (each entry',
        'with its hash) and every register version with its frozen document, all as of one moment, and every signed checkpoint (the head',
        'is signed as the backup is made). `npm run verify` checks it offline. POST /api/v1/register/import (admin)',
        'takes it back into a workspace without a register of its own: the versions keep their numbers, statuses and contentHash',
        '(their exports are byte for byte the same), and GET /api/v1/history/verify finds the restored chain valid, with every',
        'historyHead the versions recorded.',
      ].join(' '),
      tags: TAGS, security: [{ bearerAuth: [] }], operationId: 'backupRegister',
      response: {
        200: { description: 'The backup', content: { 'application/json': { schema: exportDocumentSchema() } } },
        ...errorResponses(),
        ...longAnswerResponses(),
      },
    },
  }, async (request, reply) => {
    const ws = request.principal.ws
    const document = await backupDocument(app.db, ws, app.config.registerTimeZone, await historyKeys(app.config.history))
    const day = registerDate(new Date(), app.config.registerTimeZone)
    return reply.header('content-type', 'application/json; charset=utf-8')
      .header('content-disposition', `attachment; filename="register-backup-${day}.json"`).send(document)
  })

  app.get<ByNumber>('/api/v1/register/versions/:number', {
    config: { auth: 'reader' },
    schema: {
      summary: 'Read a version',
      description: 'Its status, who proposed and decided it and when, contentHash, historyHead, counts and findings. Download it with GET /api/v1/register/export?version={number}.',
      tags: TAGS, security: [{ bearerAuth: [] }], operationId: 'getRegisterVersion',
      params: numberParams,
      response: { 200: json('The version', 'RegisterVersion'), ...errorResponses(404) },
    },
  }, async (request) => getVersion(app.db, request.principal.ws, request.params.number))

  app.get<ByNumber & { Querystring: { against?: number } }>('/api/v1/register/versions/:number/changes', {
    config: { auth: 'reader' },
    schema: {
      summary: '3. What changed between two versions',
      description: 'Processing activities added, changed (field by field) and removed from version `against` (default: the version before) to this one, in the shape of /register/changes.',
      tags: TAGS, security: [{ bearerAuth: [] }], operationId: 'listRegisterVersionChanges',
      params: numberParams,
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: { against: { type: 'integer', minimum: 1, maximum: 2147483647, description: 'The version to compare with; default: number − 1', examples: [2] } },
      },
      response: { 200: json('What changed', 'VersionChanges'), ...errorResponses(404) },
    },
  }, async (request) => {
    const { number } = request.params
    const { against } = request.query
    return versionChanges(app.db, request.principal.ws, number, against ?? Math.max(1, number - 1))
  })
}
