import { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { NotFound, ValidationFailed } from '../src/errors'
import { patchSchemaName } from '../src/register/records/view-schemas'
import { ResourceDef } from '../src/register/records/model'
import { ListQuery, listPage } from '../src/register/records/reads'
import { readStoredView } from '../src/register/records/stored-views'
import { listHistory } from '../src/register/accountability/history'
import { createRecord, deleteRecord, PreconditionFailed, replaceRecord, updateRecord } from '../src/register/records/writes'
import { PageQuery, pageParams } from '../src/schemas/paging'
import { CREATE_EXAMPLES, RequestExample, UPDATE_EXAMPLES } from './examples'

const ERROR_MEANING: Record<number, string> = {
  400: 'Invalid request: every offending field is named in details',
  401: 'Missing, invalid or expired bearer token',
  403: 'The token\'s role does not allow this operation, or its workspace is not registered (code unknown_workspace)',
  404: 'No such record in your workspace',
  409: 'Conflicts with the register: still referenced (references lists by whom), a duplicate, or a built-in entry',
  412: 'If-Match does not match the record\'s current version',
  413: 'The body is larger than the service accepts',
  415: 'The body must be application/json',
  500: 'Internal error; quote the requestId',
  503: 'The database is busy or unreachable (code busy); retry after Retry-After seconds',
  507: 'The answer is larger than the service sends at once (SPOOL_MAX_BYTES, code answer_too_large); ask for less (controllerId, status, record)',
}

/** A JSON response of a shared schema, with what it means. */
export const json = (description: string, schema: string): object =>
  ({ description, content: { 'application/json': { schema: { $ref: `${schema}#` } } } })

const REQUEST_ID = '3f2b8c1e-7d4a-4e9b-9c1f-5a6b7c8d9e0f'
const errorExample = (statusCode: number, error: string, code: string, message: string, more: object = {}) =>
  ({ statusCode, error, code, message, requestId: REQUEST_ID, ...more })

/** What each status looks like, so that Swagger UI shows a 401 as a 401 and not the Error schema's 400. */
const ERROR_EXAMPLES: Record<number, object> = {
  400: errorExample(400, 'Bad Request', 'validation_failed', 'The request is not valid: controllerId', { details: [{ field: 'controllerId', message: 'controllerId is required' }] }),
  401: errorExample(401, 'Unauthorized', 'unauthorized', 'The token has expired'),
  403: errorExample(403, 'Forbidden', 'forbidden', 'This operation needs the editor role; the token has reader'),
  404: errorExample(404, 'Not Found', 'not_found', 'No controller with id 8d0f6a8e-2b1c-4f3a-9e7d-6c5b4a392817'),
  409: errorExample(409, 'Conflict', 'still_referenced', 'This purpose is still referenced by 1 record(s); remove those references first',
    { references: [{ type: 'processing-activity', id: '0d9e3f4a-6a51-4c8e-9a8e-2f1f5b7c9d10', name: 'Försäljning av upplevelser' }] }),
  412: errorExample(412, 'Precondition Failed', 'precondition_failed', 'The record has changed since you read it: it is at version 4. Read it again and reapply your change.'),
  413: errorExample(413, 'Payload Too Large', 'body_too_large', 'Request body is too large'),
  415: errorExample(415, 'Unsupported Media Type', 'unsupported_media_type', 'The body must be application/json'),
  500: errorExample(500, 'Internal Server Error', 'internal_error', 'Internal Server Error'),
  503: errorExample(503, 'Service Unavailable', 'busy', 'The database is busy; retry in a moment'),
  507: errorExample(507, 'Insufficient Storage', 'answer_too_large', 'The answer is larger than this service sends at once (2147483648 bytes, SPOOL_MAX_BYTES); ask for less (controllerId, status, record)'),
}

/** One error answer in the Error shape, with what it means and an example of it. */
export const errorResponse = (status: number, description: string, example: object): object => {
  const response = json(description, 'Error') as { content: Record<string, object> }
  response.content['application/json'] = { ...response.content['application/json'], example }
  return response
}

/** Errors every API operation may answer, all in the one Error shape, each status with its own example. */
export const errorResponses = (...codes: number[]): Record<number, object> =>
  Object.fromEntries([...new Set([400, 401, 403, 500, ...codes])].sort().map((c) => [c, errorResponse(c, ERROR_MEANING[c], ERROR_EXAMPLES[c])]))

/**
 * What an operation that reads much (an export, a backup, a report) may answer besides: 503 busy
 * (no database connection in time, a statement timeout) and, for an answer spooled before it is
 * sent (a stream: plugins/spool), 507 when it is larger than the spool takes. 429 is declared for
 * every operation by the budgets plugin.
 */
export const longAnswerResponses = (options: { spooled?: boolean } = {}): Record<number, object> =>
  errorResponses(503, ...(options.spooled ? [507] : []))

/** An example of an error answer of an operation's own (a 422, a 503 of its own cause). */
export const errorExampleOf = (statusCode: number, error: string, code: string, message: string): object => errorExample(statusCode, error, code, message)

const pascal = (s: string): string => s.replace(/(^|-)([a-z])/g, (_, __, c: string) => c.toUpperCase())
const singular = (def: ResourceDef): string => pascal(def.type)

export const idParams = {
  type: 'object',
  properties: { id: { type: 'string', format: 'uuid', description: 'The record\'s id' } },
  required: ['id'],
} as const

export const ifMatchHeader = {
  type: 'object',
  properties: {
    'if-match': { type: 'string', description: 'The ETag of the version you read; the write fails with 412 when the record has changed since', examples: ['"3"'] },
  },
} as const

/**
 * `"3"`, `W/"3"` or `*` → the version expected. Anything else is not an ETag (an unquoted `3` is
 * the usual slip): a 400 that shows the form, not a 412 about a version nobody asked for.
 */
export function expectedVersion(request: FastifyRequest): number | undefined {
  const header = request.headers['if-match']
  if (header === undefined || header.trim() === '*') return undefined
  const m = /^\s*(?:W\/)?"(\d+)"\s*$/.exec(header)
  if (!m) {
    const bare = /^\s*(\d+)\s*$/.exec(header)
    throw new ValidationFailed([{
      field: 'If-Match',
      message: `must be the ETag of the version you read, in double quotes as the ETag header gives it: "${bare ? bare[1] : '3'}"${bare ? '' : ' (or *)'}; got ${header}`,
    }])
  }
  return Number(m[1])
}

const etag = (reply: FastifyReply, view: { version: number }): void => {
  reply.header('etag', `"${view.version}"`)
}

/** PATCH examples: the resource's own, or a rename. */
function updateExamples(def: ResourceDef): Record<string, RequestExample> {
  const own = UPDATE_EXAMPLES[def.type]
  if (own) return own
  const first = Object.values(CREATE_EXAMPLES[def.type])[0]
  return { rename: { summary: `Rename the ${def.title}`, description: 'Only the fields given change.', value: { name: first.value.name } } }
}

interface ById {
  Params: { id: string }
}

/**
 * The operations of a register resource: list, get, create, replace, update, delete and its
 * history. Each route file calls this with its resource's description; handlers stay thin.
 */
export function crudRoutes(def: ResourceDef) {
  return async function routes(app: FastifyInstance): Promise<void> {
    const base = `/api/v1/${def.plural}`
    const name = singular(def)
    const plural = pascal(def.plural)
    const tags = [def.tag]
    const security = [{ bearerAuth: [] }]
    const sorts = def.sortFields.flatMap((f) => [f, `-${f}`])

    const querystring = {
      type: 'object',
      additionalProperties: false,
      properties: {
        ...pageParams,
        sort: { type: 'string', enum: sorts, default: 'createdAt', description: 'Field to sort by; a leading - sorts descending' },
        q: { type: 'string', minLength: 1, maxLength: 200, description: `Text search in ${def.searchColumns.join(', ')}` },
        ...Object.fromEntries(def.filters.map((f) => [f.param, { ...f.schema, description: `Only ${def.titlePlural} with this ${f.param}` }])),
      },
    }

    app.get<{ Querystring: ListQuery }>(base, {
      config: { auth: 'reader' },
      schema: {
        summary: `List ${def.titlePlural}`, tags, security, operationId: `list${plural}`, querystring,
        response: { 200: json(`A page of ${def.titlePlural}`, `${def.viewSchema}List`), ...errorResponses() },
      },
    }, async (request, reply) => {
      // the page's JSON is assembled from the stored views' bytes, not serialised
      const page = await listPage(app.db, request.principal.ws, def, request.query)
      return reply.header('content-type', 'application/json; charset=utf-8').send(page)
    })

    app.get<ById>(`${base}/:id`, {
      config: { auth: 'reader' },
      schema: {
        summary: `Get a ${def.title}`, tags, security, operationId: `get${name}`, params: idParams,
        response: { 200: json(`The ${def.title}, every reference resolved; its version is in the ETag header`, `${def.viewSchema}`), ...errorResponses(404) },
      },
    }, async (request, reply) => {
      const { id } = request.params
      // the stored view is sent as it is: the bytes Fastify's serialiser made of it when it was written
      const stored = await readStoredView(app.db, request.principal.ws, def, id)
      if (!stored) throw new NotFound(def.title, id)
      etag(reply, stored)
      return reply.header('content-type', 'application/json; charset=utf-8').send(stored.json)
    })

    app.post(base, {
      config: { auth: def.writeRole },
      schema: {
        summary: `Create a ${def.title}`, tags, security, operationId: `create${name}`,
        body: { allOf: [{ $ref: `${def.writeSchema}#` }], 'x-examples': CREATE_EXAMPLES[def.type] },
        response: { 201: json(`The ${def.title} created; Location names it`, `${def.viewSchema}`), ...errorResponses(409, 413, 415) },
      },
    }, async (request, reply) => {
      const view = await createRecord(app.db, request.principal, def, request.body)
      etag(reply, view as { version: number })
      return reply.code(201).header('location', `${base}/${view.id}`).send(view)
    })

    app.put<ById>(`${base}/:id`, {
      config: { auth: def.writeRole },
      schema: {
        summary: `Replace a ${def.title}`, description: 'The body replaces the record whole: fields left out are cleared.',
        tags, security, operationId: `replace${name}`, params: idParams, headers: ifMatchHeader,
        body: { allOf: [{ $ref: `${def.writeSchema}#` }], 'x-examples': CREATE_EXAMPLES[def.type] },
        response: { 200: json(`The ${def.title} as stored now`, `${def.viewSchema}`), ...errorResponses(404, 409, 412, 413, 415) },
      },
    }, async (request, reply) => {
      const { id } = request.params
      const view = await replaceRecord(app.db, request.principal, def, id, request.body, expectedVersion(request))
      etag(reply, view as { version: number })
      return view
    })

    app.patch<ById>(`${base}/:id`, {
      config: { auth: def.writeRole },
      schema: {
        summary: `Update part of a ${def.title}`,
        description: 'Only the fields given change; a list or nested object given replaces the stored one whole; null clears an optional field.',
        tags, security, operationId: `update${name}`, params: idParams, headers: ifMatchHeader,
        body: { allOf: [{ $ref: `${patchSchemaName(def.writeSchema)}#` }], 'x-examples': updateExamples(def) },
        response: { 200: json(`The ${def.title} as stored now`, `${def.viewSchema}`), ...errorResponses(404, 409, 412, 413, 415) },
      },
    }, async (request, reply) => {
      const { id } = request.params
      const view = await updateRecord(app.db, request.principal, def, id, request.body, expectedVersion(request))
      etag(reply, view as { version: number })
      return view
    })

    app.get<ById & { Querystring: PageQuery }>(`${base}/:id/history`, {
      config: { auth: 'reader' },
      schema: {
        summary: `Change history of a ${def.title}`,
        description: 'Every version, oldest first, with who changed it and when; also after the record was deleted.',
        tags, security, operationId: `get${name}History`, params: idParams,
        querystring: {
          type: 'object', additionalProperties: false,
          properties: pageParams,
        },
        response: { 200: json(`The ${def.title}'s history`, 'HistoryList'), ...errorResponses(404) },
      },
    }, async (request) => {
      const { id } = request.params
      const { limit, offset } = request.query
      const page = await app.db.read((m) => listHistory(m, request.principal.ws, { recordType: def.type, recordId: id, limit, offset }))
      if (page.total === 0) throw new NotFound(def.title, id)
      return page
    })

    app.delete<ById>(`${base}/:id`, {
      config: { auth: def.writeRole },
      schema: {
        summary: `Delete a ${def.title}`,
        description: 'Refused with 409, listing them, while other records still refer to it. Nothing is deleted in cascade.',
        tags, security, operationId: `delete${name}`, params: idParams, headers: ifMatchHeader,
        response: { 204: { type: 'null', description: 'Deleted' }, ...errorResponses(404, 409, 412) },
      },
    }, async (request, reply) => {
      const { id } = request.params
      await deleteRecord(app.db, request.principal, def, id, expectedVersion(request))
      return reply.code(204).send()
    })
  }
}
