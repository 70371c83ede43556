import fp from 'fastify-plugin'
import { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { STATUS_CODES } from 'node:http'
import { randomUUID } from 'node:crypto'
import { Duplex } from 'node:stream'
import { QueryFailedError } from 'typeorm'
import { AppError, FieldError, invalidFields } from '../errors'
import { databaseBusy } from '../db/database'
import { FORMAT_EXPECTED, PATTERN_EXPECTED } from '../schemas/formats'

interface ErrorBody {
  statusCode: number
  error: string
  code: string
  message: string
  requestId: string
  details?: FieldError[]
  references?: { type: string; id: string; name: string }[]
}

function body(request: FastifyRequest, statusCode: number, code: string, message: string, extra: Partial<ErrorBody> = {}): ErrorBody {
  return { statusCode, error: STATUS_CODES[statusCode] ?? 'Error', code, message, requestId: String(request.id), ...extra }
}

/** Ajv errors on the query string, path or headers → the fields they concern. */
function ajvDetails(error: FastifyError): FieldError[] {
  return (error.validation ?? []).map((v) => {
    const params = v.params as Record<string, unknown>
    const path = v.instancePath.replace(/^\//, '').replace(/\//g, '.')
    const field = (params.missingProperty ?? params.additionalProperty ?? path) || error.validationContext || 'request'
    const expected = v.keyword === 'format' ? FORMAT_EXPECTED[String(params.format)]
      : v.keyword === 'pattern' ? PATTERN_EXPECTED[String(params.pattern)] : undefined
    const message = params.additionalProperty ? `${field} is not a known parameter`
      : params.missingProperty ? `${field} is required`
        : Array.isArray(params.allowedValues) ? `${field} must be one of: ${params.allowedValues.join(', ')}`
          : expected ? `${field} must be ${expected}`
            : `${field} ${v.message ?? 'is not valid'}`
    return { field: String(field), message }
  })
}

const FASTIFY_CODES: Record<string, string> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'body_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_INVALID_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'invalid_content_length',
}

/** Constraint violations the database caught: a concurrent change raced past our own checks. */
function databaseConflict(err: unknown): string | null {
  if (!(err instanceof QueryFailedError)) return null
  const code = String((err as any).driverError?.code ?? (err as any).code ?? '')
  if (code === 'SQLITE_CONSTRAINT_FOREIGNKEY' || code === '23503') return 'A referenced record was changed or deleted at the same time; read it again and retry'
  if (code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === '23505') return 'The record was created or changed at the same time by someone else; read it again and retry'
  return null
}

/** Words after which a quoted name in a database message is a table, column or type, not a value. */
const NAMED = /\b(relation|table|column|constraint|type|index|schema|function|database|sequence|role|trigger)\s*$/i

/**
 * A database error as it may be logged: TypeORM's QueryFailedError carries the SQL `query`, its
 * `parameters` and the driver's error (PostgreSQL's `detail` says "Failing row contains (…)"),
 * and PostgreSQL quotes the refused value in some messages (`invalid input syntax for type
 * integer: "070-123 45 67"`). All of these may be a person's name, e-mail or phone number, so
 * only the error's name, the driver's code and its message with quoted values blanked are kept;
 * quoted table, column and type names stay, to find the cause.
 */
/** What is logged of a QueryFailedError (pino names the class as the error's `type`). */
class RedactedQueryFailedError extends Error {
  code?: string
}

export function loggableError(err: unknown): unknown {
  if (!(err instanceof QueryFailedError)) return err
  const message = err.message.replace(/"(?:[^"]|"")*"|'(?:[^']|'')*'/g, (quoted, offset: number, whole: string) =>
    NAMED.test(whole.slice(0, offset)) ? quoted : '"…"')
  const safe = new RedactedQueryFailedError(message)
  const code = (err as any).driverError?.code ?? (err as any).code
  if (code !== undefined) safe.code = String(code)
  // the original stack starts with the unredacted message: keep only its frames
  safe.stack = `RedactedQueryFailedError: ${message}\n${(err.stack ?? '').split('\n').filter((line) => /^\s+at /.test(line)).join('\n')}`
  return safe
}

function isBusy(err: unknown): boolean {
  const code = String((err as any)?.driverError?.code ?? (err as any)?.code ?? '')
  return databaseBusy(err) || code === '40001' || code === '40P01'
}

/**
 * Errors Fastify's router meets before any route or hook (a malformed percent-encoding, a path
 * segment longer than maxParamLength): answered in the one shape too. Passed as `frameworkErrors`.
 */
export function frameworkError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const message = error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 'A path segment is longer than any id' : 'The URL is not valid'
  // no hook runs for these (helmet's included): the headers a JSON error needs most, by hand
  reply.code(400).header('x-request-id', request.id).header('x-content-type-options', 'nosniff')
    .header('content-security-policy', "default-src 'none'; frame-ancestors 'none'")
    .send(body(request, 400, 'bad_url', message))
}

const CLIENT_ERRORS: Record<string, [number, string, string]> = {
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'timeout', 'The request took too long to arrive'],
  HPE_HEADER_OVERFLOW: [431, 'headers_too_large', 'The request headers are larger than the service accepts'],
}

/**
 * Requests Node's HTTP parser refuses before Fastify sees them (a raw non-ASCII character in the
 * URL, a malformed header): answered in the one shape, with a request id to quote, instead of
 * Fastify's `{"message":"Client Error"}`. Passed as `clientErrorHandler`.
 */
export function clientError(this: FastifyInstance, err: NodeJS.ErrnoException, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return
  const [statusCode, code, message] = CLIENT_ERRORS[err.code ?? ''] ??
    [400, 'bad_request', 'The request is not valid HTTP; characters outside ASCII in a URL must be percent-encoded (ö as %C3%B6)']
  const requestId = randomUUID()
  const payload = JSON.stringify({ statusCode, error: STATUS_CODES[statusCode], code, message, requestId })
  this.log.debug({ code: err.code, requestId }, 'client error')
  if (socket.writable) {
    socket.write(`HTTP/1.1 ${statusCode} ${STATUS_CODES[statusCode]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(payload)}\r\nX-Request-Id: ${requestId}\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n${payload}`)
  }
  socket.destroy()
}

const megabytes = (bytes: number): string => `${Number((bytes / 1048576).toFixed(1))} MB`

/** Fastify's own client errors in words that say what to do: the limit a body passed, the content types taken. */
function clientMessage(error: FastifyError, request: FastifyRequest): string {
  if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    const limit = request.routeOptions.bodyLimit ?? request.server.initialConfig.bodyLimit
    return limit ? `The request body is larger than this endpoint accepts: at most ${limit} bytes (${megabytes(limit)})` : error.message
  }
  if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    const sent = String(request.headers['content-type'] ?? '').split(';')[0].trim() || 'none'
    return `The body must be JSON: send it with Content-Type: application/json (the content type sent was ${sent})`
  }
  return error.message
}

/**
 * One error handler and one JSON error shape for every 4xx and 5xx. Client errors keep their
 * message; server errors say only "Internal Server Error" and are logged with the request id.
 */
export default fp(async function errors(app: FastifyInstance) {
  app.setErrorHandler(async (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    if (error instanceof AppError) {
      if (error.statusCode >= 500) request.log.error({ err: loggableError(error) }, 'request failed')
      return reply.code(error.statusCode).send(body(request, error.statusCode, error.code, error.message, {
        ...(error.details ? { details: error.details } : {}),
        ...(error.references ? { references: error.references } : {}),
      }))
    }
    if (error.validation) {
      const details = ajvDetails(error)
      return reply.code(400).send(body(request, 400, 'validation_failed', invalidFields(details), { details }))
    }
    const conflict = databaseConflict(error)
    if (conflict) {
      request.log.warn({ code: (error as any).driverError?.code }, 'database constraint refused a write')
      return reply.code(409).send(body(request, 409, 'conflict', conflict))
    }
    if (isBusy(error)) {
      // the driver's code (SQLITE_BUSY_SNAPSHOT, 40P01…) tells a long writer from a refusal
      request.log.warn({ code: (error as any).driverError?.code ?? (error as any).code }, 'database busy')
      return reply.code(503).header('retry-after', '1').send(body(request, 503, 'busy', 'The database is busy; retry in a moment'))
    }
    const status = typeof error.statusCode === 'number' ? error.statusCode : 500
    if (status >= 400 && status < 500) {
      const code = FASTIFY_CODES[error.code] ?? (error instanceof SyntaxError ? 'invalid_json' : 'bad_request')
      return reply.code(status).send(body(request, status, code, clientMessage(error, request)))
    }
    request.log.error({ err: loggableError(error) }, 'request failed')
    return reply.code(500).send(body(request, 500, 'internal_error', 'Internal Server Error'))
  })

  app.setNotFoundHandler(async (request: FastifyRequest, reply: FastifyReply) => {
    return reply.code(404).send(body(request, 404, 'not_found', `No route ${request.method} ${request.url.split('?')[0]}`))
  })
}, { name: 'errors' })
