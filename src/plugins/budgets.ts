import fp from 'fastify-plugin'
import { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import rateLimit from '@fastify/rate-limit'
import { AppError } from '../errors'
import { flowLayout } from '../register/reading/flow-layout'

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * The route is an expensive operation (an export, a backup, a report, a picture, an import, a version
     * proposal): it counts against its workspace's EXPENSIVE_PER_WORKSPACE until its answer's last byte is sent.
     */
    expensive?: boolean
  }
}

/** Seconds a client refused for its workspace's expensive operations is asked to wait. */
export const EXPENSIVE_RETRY_AFTER_S = 5

/** Expensive operations in flight, per workspace: each workspace has its own count and limit. */
export class InFlight {
  private readonly counts = new Map<string, number>()

  constructor(readonly limit: number) {}

  count(workspace: string): number {
    return this.counts.get(workspace) ?? 0
  }

  /** Takes a place in the workspace's budget; false when it is spent. */
  take(workspace: string): boolean {
    const n = this.count(workspace)
    if (n >= this.limit) return false
    this.counts.set(workspace, n + 1)
    return true
  }

  give(workspace: string): void {
    const n = this.count(workspace) - 1
    if (n > 0) this.counts.set(workspace, n)
    else this.counts.delete(workspace)
  }
}

/**
 * An AbortSignal aborted when the client goes away before its answer is complete (the raw
 * response closes unfinished): work done only for that answer can stop.
 */
export function clientGone(reply: FastifyReply): AbortSignal {
  const controller = new AbortController()
  const response = reply.raw
  if (response.destroyed && !response.writableFinished) controller.abort()
  else response.once('close', () => { if (!response.writableFinished) controller.abort() })
  return controller.signal
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The expensive operations in flight, per workspace (budgets plugin). */
    expensiveInFlight: InFlight
  }
}

/**
 * Budgets that keep one caller from taking the service from everyone else, beside the limit on
 * failed authentication (security.ts). Registered after auth: they count verified tokens.
 *
 * - Requests per token: REQUESTS_PER_MINUTE per `sub` in its workspace (@fastify/rate-limit, its own
 *   counters), with the rate-limit headers on every answer and 429 `too_many_requests` beyond.
 * - Expensive operations (routes with `config.expensive`) in flight per workspace:
 *   EXPENSIVE_PER_WORKSPACE, a download counting until its last byte is sent or its client has gone
 *   (the raw response's `close`); beyond, 429 `too_many_requests`. Each workspace has its own budget,
 *   so one at its limit never refuses another.
 * - Any error carrying `retryAfterSeconds` (a busy layout pool, a layout that took too long) is
 *   answered with Retry-After.
 */
export default fp(async function budgets(app: FastifyInstance) {
  // every operation under /api may be refused for a spent budget: documented with the others (OpenAPI)
  app.addHook('onRoute', (route) => {
    if (!route.config?.auth || !route.schema) return
    const responses = (route.schema.response ??= {}) as Record<number, unknown>
    const meaning = route.config.expensive
      ? 'Too many requests from this token (REQUESTS_PER_MINUTE), or too many expensive operations under way in this workspace (EXPENSIVE_PER_WORKSPACE); retry after Retry-After seconds'
      : 'Too many requests from this token (REQUESTS_PER_MINUTE) or, without a valid token, from this address; retry after Retry-After seconds'
    const example = {
      statusCode: 429, error: 'Too Many Requests', code: 'too_many_requests', requestId: '3f2b8c1e-7d4a-4e9b-9c1f-5a6b7c8d9e0f',
      message: route.config.expensive
        ? 'This workspace has 8 exports, backups, reports, pictures, imports or version proposals under way, the most it may have at once (EXPENSIVE_PER_WORKSPACE); retry in 5 s, when one has finished'
        : 'This token made more than 600 requests in a minute (REQUESTS_PER_MINUTE); retry in 42 s',
    }
    responses[429] ??= { description: meaning, content: { 'application/json': { schema: { $ref: 'Error#' }, example } } }
  })

  const inFlight = new InFlight(app.config.expensivePerWorkspace)
  flowLayout.options.timeoutMs = app.config.layoutTimeoutMs
  app.decorate('expensiveInFlight', inFlight)

  // Its own registration of the plugin: its own counters, and its own once-per-request mark, so that
  // the failed-authentication limit and this one both run on every request.
  await app.register(rateLimit, {
    global: true,
    max: app.config.requestsPerMinute,
    timeWindow: 60_000,
    hook: 'onRequest',
    // runs after the auth plugin's application-wide hook: only verified tokens are counted here
    allowList: (request) => !request.routeOptions.config.auth || request.principal === null,
    keyGenerator: (request) => (request.principal ? `${request.principal.ws}\u0000${request.principal.sub}` : request.ip),
    errorResponseBuilder: (_request, context) =>
      new AppError(429, 'too_many_requests', `This token made more than ${context.max} requests in a minute (REQUESTS_PER_MINUTE); retry in ${Math.ceil(context.ttl / 1000)} s`),
  })

  // After the auth plugin's preParsing (the role and workspace are checked) and before the body is read.
  app.addHook('preParsing', async (request: FastifyRequest, reply: FastifyReply, payload) => {
    if (!request.routeOptions.config.expensive || !request.principal) return payload
    const { ws } = request.principal
    if (!inFlight.take(ws)) {
      reply.header('retry-after', String(EXPENSIVE_RETRY_AFTER_S))
      throw new AppError(429, 'too_many_requests', `This workspace has ${inFlight.limit} exports, backups, reports, pictures, imports or version proposals under way, `
        + `the most it may have at once (EXPENSIVE_PER_WORKSPACE); retry in ${EXPENSIVE_RETRY_AFTER_S} s, when one has finished`)
    }
    const response = reply.raw
    const give = (): void => inFlight.give(ws)
    // 'close' comes once: after the last byte was handed over, or when the client went away
    if (response.destroyed) give()
    else response.once('close', give)
    return payload
  })

  app.addHook('onError', async (_request, reply, error) => {
    const seconds = (error as { retryAfterSeconds?: unknown }).retryAfterSeconds
    if (typeof seconds === 'number') reply.header('retry-after', String(seconds))
  })
}, { name: 'budgets', dependencies: ['errors', 'auth', 'security'] })
