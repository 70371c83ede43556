import fp from 'fastify-plugin'
import { FastifyInstance } from 'fastify'
import helmet from '@fastify/helmet'
import cors from '@fastify/cors'
import rateLimit from '@fastify/rate-limit'
import { AppError } from '../errors'
import { verifyBearer } from './auth'

/**
 * Security headers (helmet), CORS only for the origins configured, and a rate limit on failed
 * authentication per client address: requests with a valid token are never counted, so
 * integrations can call as fast as they like while guessing tokens is slowed down.
 */
export default fp(async function security(app: FastifyInstance) {
  await app.register(helmet, {
    // Swagger UI sets its own, stricter policy for /docs (staticCSP); the API answers JSON only.
    contentSecurityPolicy: { directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
  })

  const origins = app.config.corsOrigins
  if (origins.length) {
    await app.register(cors, {
      origin: origins,
      methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
      allowedHeaders: ['authorization', 'content-type', 'if-match', 'x-request-id'],
      exposedHeaders: ['etag', 'location', 'x-request-id', 'content-disposition'],
      maxAge: 600,
    })
  }

  await app.register(rateLimit, {
    global: true,
    max: app.config.authFailuresPerMinute,
    timeWindow: 60_000,
    hook: 'onRequest',
    allowList: (request) => {
      if (!request.routeOptions.config.auth) return true
      try {
        verifyBearer(request.headers.authorization, app.config.jwt)
        return true
      } catch {
        return false
      }
    },
    addHeadersOnExceeding: { 'x-ratelimit-limit': false, 'x-ratelimit-remaining': false, 'x-ratelimit-reset': false },
    errorResponseBuilder: (_request, context) =>
      new AppError(429, 'too_many_failed_authentications', `Too many requests without a valid token from this address; retry in ${Math.ceil(context.ttl / 1000)} s`),
  })
}, { name: 'security', dependencies: ['errors'] })
