import fp from 'fastify-plugin'
import { FastifyInstance } from 'fastify'
import helmet, { HelmetOptions } from 'helmet'
import cors from '@fastify/cors'
import rateLimit from '@fastify/rate-limit'
import { AppError, Unauthorized, ValidationFailed } from '../errors'

const UTF8 = new TextDecoder('utf-8', { fatal: true })

/** The headers helmet sets, in its order and spelling, and those it removes. */
export interface HelmetHeaders {
  set: [name: string, value: string][]
  removed: string[]
}

/**
 * What helmet does to a response with these options, found once by running its middleware on a
 * response that records it. Static options make the same headers for every request, and helmet
 * itself (through @fastify/helmet, which builds the middleware and parses the policy again on
 * every request) took a tenth of the CPU time of a GET of one record.
 */
export function helmetHeaders(options: Readonly<HelmetOptions>): HelmetHeaders {
  const recorded: HelmetHeaders = { set: [], removed: [] }
  const response = {
    setHeader: (name: string, value: unknown) => { recorded.set.push([name, String(value)]) },
    removeHeader: (name: string) => { recorded.removed.push(name) },
  }
  helmet(options)({} as never, response as never, (err?: unknown) => { if (err) throw err })
  return recorded
}

/** Swagger UI sets its own, stricter policy for /docs (staticCSP); the API answers JSON only. */
export const HELMET_OPTIONS: Readonly<HelmetOptions> = {
  contentSecurityPolicy: { directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
}

/**
 * Swagger UI signs in through a window of the identity provider, and the page the provider sends
 * that window back to (oauth2-redirect.html) hands the code to Swagger UI through window.opener.
 * Under helmet's `same-origin` opener policy the window loses its opener as soon as it shows the
 * provider's page: Swagger UI keeps its popups, and the page they return to sets no policy (so it
 * stays with the window that opened it).
 */
function docsOpenerPolicy(path: string, response: { setHeader(name: string, value: string): unknown; removeHeader(name: string): void }): void {
  if (path === '/docs/static/oauth2-redirect.html') response.removeHeader('cross-origin-opener-policy')
  else response.setHeader('cross-origin-opener-policy', 'same-origin-allow-popups')
}

/**
 * Security headers (helmet), CORS only for the origins configured, and a rate limit on failed
 * authentication per client address: requests with a valid token are never counted, so
 * integrations can call as fast as they like while guessing tokens is slowed down.
 */
export default fp(async function security(app: FastifyInstance) {
  const { set, removed } = helmetHeaders(HELMET_OPTIONS)
  app.addHook('onRequest', (request, reply, done) => {
    const response = reply.raw
    for (const [name, value] of set) response.setHeader(name, value)
    for (const name of removed) response.removeHeader(name)
    if (request.url.startsWith('/docs')) docsOpenerPolicy(request.url.split('?')[0], response)
    done()
  })

  const origins = app.config.corsOrigins
  if (origins.length) {
    await app.register(cors, {
      origin: origins,
      methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
      allowedHeaders: ['authorization', 'content-type', 'if-match', 'x-request-id'],
      exposedHeaders: ['etag', 'location', 'x-request-id', 'content-disposition', 'retry-after', 'x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset'],
      maxAge: 600,
    })
  }

  // JSON bodies are decoded strictly: invalid UTF-8 is refused instead of being stored as U+FFFD.
  const parseJson = app.getDefaultJsonParser('error', 'error')
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, raw, done) => {
    let text: string
    try {
      text = UTF8.decode(raw as Buffer)
    } catch {
      done(new AppError(400, 'invalid_json', 'The body is not valid UTF-8'), undefined)
      return
    }
    parseJson(request, text, done)
  })

  // No text in a URL holds NUL (PostgreSQL refuses it in a query): refused before it reaches one.
  app.addHook('preValidation', async (request) => {
    if (!request.url.includes('%00') && !request.url.includes('\u0000')) return
    const query = request.query as Record<string, unknown> | undefined
    const fields = Object.entries(query ?? {}).filter(([, v]) => String(v).includes('\u0000')).map(([k]) => k)
    const details = (fields.length ? fields : ['url']).map((field) => ({ field, message: `${field} must not contain NUL characters` }))
    throw new ValidationFailed(details)
  })

  await app.register(rateLimit, {
    global: true,
    max: app.config.authFailuresPerMinute,
    timeWindow: 60_000,
    hook: 'onRequest',
    // The auth plugin verified the token on arrival (its hook runs before this route-level one):
    // counted are the requests it refused as unauthenticated, or never saw (fails closed).
    allowList: (request) => !request.routeOptions.config.auth || request.principal !== null
      || (request.authFailure !== null && !(request.authFailure instanceof Unauthorized)),
    addHeadersOnExceeding: { 'x-ratelimit-limit': false, 'x-ratelimit-remaining': false, 'x-ratelimit-reset': false },
    errorResponseBuilder: (_request, context) =>
      new AppError(429, 'too_many_failed_authentications', `Too many requests without a valid token from this address; retry in ${Math.ceil(context.ttl / 1000)} s`),
  })
}, { name: 'security', dependencies: ['errors'] })
