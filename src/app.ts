import 'reflect-metadata'
import { randomUUID } from 'node:crypto'
import { FastifyHttpOptions, FastifyInstance, FastifyReply, FastifyRequest, FastifyServerOptions, LogController } from 'fastify'
import type { Server } from 'node:http'
import fp from 'fastify-plugin'
import { Config } from './config'
import './plugins/types'
import database from './plugins/database'
import spool from './plugins/spool'
import errors, { clientError, frameworkError } from './plugins/errors'
import openapi from './plugins/swagger'
import auth from './plugins/auth'
import security from './plugins/security'
import budgets from './plugins/budgets'
import { buildSerializer, buildValidator } from './plugins/schema-compilers'
import serviceRoutes from '../routes/service'
import controllers from '../routes/controllers'
import processors from '../routes/processors'
import purposes from '../routes/purposes'
import legalBases from '../routes/legal-bases'
import dataSubjectCategories from '../routes/data-subject-categories'
import dataCategories from '../routes/data-categories'
import recipients from '../routes/recipients'
import retentionRules from '../routes/retention-rules'
import securityMeasures from '../routes/security-measures'
import processingActivities from '../routes/processing-activities'
import registerExport from '../routes/register/export'
import registerImport from '../routes/register/import'
import registerFindings from '../routes/register/findings'
import privacyNotice from '../routes/privacy-notice'
import registerHistory from '../routes/register/history'
import registerReviews from '../routes/register/reviews'
import registerDataFlow from '../routes/register/data-flow'
import registerReport from '../routes/register/report'
import registerVersions from '../routes/register/versions'
import { completeCatalogues, openWorkspace } from './register/records/workspaces'
import historyCheckpoints from '../routes/register/checkpoints'
import registerLinks from '../routes/register/links'
import registerWorkbook from '../routes/register/workbook'
import redactions from '../routes/register/redactions'
import { compileViewSerializers, SERIALIZER_OPTIONS } from './register/records/stored-views'

/** A safe incoming X-Request-Id is kept (to follow a request across services); otherwise a new one. */
const REQUEST_ID = /^[A-Za-z0-9._:-]{8,128}$/

/**
 * The structured (pino) log. No tokens and no personal data in it: request headers are not
 * logged, and URLs are logged without their query string (a search text may be a person's name).
 */
export function loggerOptions(config: Config, stream?: NodeJS.WritableStream): FastifyServerOptions['logger'] {
  return {
    level: config.logLevel,
    ...(stream ? { stream } : {}),
    redact: ['req.headers.authorization', 'req.headers.cookie'],
    serializers: {
      req: (req: { method: string; url: string; ip: string }) => ({ method: req.method, url: req.url.split('?')[0], remoteAddress: req.ip }),
    },
  } as FastifyServerOptions['logger']
}

/**
 * The access log: one line per request, when it completes (`request completed`, or `request
 * errored` when the response failed), with the request id, method, URL (without its query
 * string), client address, status and time taken, instead of Fastify's two lines, one on arrival
 * and one on completion: each line cost about 8 µs of the 60 µs of CPU a GET of one record took.
 */
export class AccessLog extends LogController {
  incomingRequest(): void {}

  requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (this.isLogDisabled(request)) return
    if (error) reply.log.error({ req: request, res: reply, err: error, responseTime: reply.elapsedTime }, 'request errored')
    else reply.log.info({ req: request, res: reply, responseTime: reply.elapsedTime }, 'request completed')
  }
}

/**
 * TRUST_PROXY as Fastify takes it. A hop count trusts that many addresses from the connection's end of
 * X-Forwarded-For whoever sent them (Fastify itself would trust none): only for a service that nothing
 * reaches but through its proxies.
 */
function trustProxy(setting: Config['trustProxy']): FastifyServerOptions['trustProxy'] {
  return typeof setting === 'number' ? (_address: string, hop: number) => hop < setting : setting
}

/** Options of the Fastify instance that both the server and the tests create. */
export function fastifyOptions(config: Config, logger: FastifyServerOptions['logger'] = false): FastifyHttpOptions<Server> {
  return {
    logger,
    logController: new AccessLog(),
    bodyLimit: config.bodyLimit,
    trustProxy: trustProxy(config.trustProxy),
    // a client that sends its request slowly, or keeps an idle connection, is cut off (README, Limits);
    // the idle download timeout is set per answer (plugins/spool)
    requestTimeout: config.limits.requestTimeoutMs,
    keepAliveTimeout: config.limits.keepAliveTimeoutMs,
    http: { headersTimeout: config.limits.headersTimeoutMs },
    requestIdHeader: false,
    frameworkErrors: frameworkError,
    clientErrorHandler: clientError,
    // building the route serialisers takes seconds of CPU; on a loaded machine (several instances
    // starting at once) Fastify's default 10 s for a plugin to load was reached
    pluginTimeout: 60000,
    // Responses are serialised, not validated: formats would only decide between the branches of
    // a nullable reference, and an address such as hudateljén@… (valid, taken by class-validator)
    // fails ajv's ASCII `format: email` and turned a stored write into a 500.
    serializerOpts: SERIALIZER_OPTIONS,
    genReqId: (req) => {
      const given = req.headers['x-request-id']
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID()
    },
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: true } },
    schemaController: {
      compilersFactory: { buildValidator: buildValidator as any, buildSerializer: buildSerializer as any },
    },
  }
}

export interface AppOptions {
  config: Config
}

/**
 * The application as a plugin, loaded in one visible order: configuration and external plugins,
 * then application plugins, then routes. The server (src/server.ts) and the tests both register it.
 */
async function app(instance: FastifyInstance, opts: AppOptions): Promise<void> {
  instance.decorate('config', opts.config)
  // before the server answers anyone, not in the first request that composes a view; tests compile on first use
  if (opts.config.nodeEnv !== 'test') instance.addHook('onReady', async () => compileViewSerializers())
  instance.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id)
  })

  // external
  await instance.register(errors)
  await instance.register(security)
  await instance.register(database)
  await instance.register(spool)
  await instance.register(openapi)
  // application
  // every workspace's built-in catalogue, before the first request: reads never write it
  const catalogued = await completeCatalogues(instance.db)
  if (catalogued.length) instance.log.info({ workspaces: catalogued }, 'built-in catalogue completed')
  await instance.register(auth, { openWorkspace: (ws) => openWorkspace(instance.db, ws, !opts.config.knownWorkspacesOnly) })
  await instance.register(budgets)
  // routes
  for (const routes of [
    serviceRoutes,
    controllers, processors, purposes, legalBases, dataSubjectCategories, dataCategories, recipients, retentionRules,
    securityMeasures, processingActivities,
    registerExport, registerImport, registerFindings, privacyNotice, registerHistory, registerReviews, registerVersions,
    registerDataFlow, registerReport, historyCheckpoints, registerLinks, registerWorkbook, redactions,
  ]) {
    await instance.register(routes)
  }
}

// Not encapsulated: the server and tests see its decorators (db, swagger) on the instance they create.
export default fp(app, { name: 'register-app' })
