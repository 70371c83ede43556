import { FastifyInstance } from 'fastify'
import { AppError } from '../src/errors'

const status = (value: string) => ({
  type: 'object', properties: { status: { type: 'string', enum: [value] } }, required: ['status'], additionalProperties: false,
})

/** Liveness and readiness for load balancers and orchestrators; no authentication. */
export default async function serviceRoutes(app: FastifyInstance): Promise<void> {
  app.get('/health', {
    schema: { summary: 'The process is alive', tags: ['Service'], operationId: 'health', response: { 200: status('ok') } },
  }, async () => ({ status: 'ok' }))

  app.get('/ready', {
    schema: {
      summary: 'The database is reachable', tags: ['Service'], operationId: 'ready',
      response: { 200: status('ready'), 503: { $ref: 'Error#' } },
    },
  }, async () => {
    try {
      await app.db.read((m) => m.query('SELECT 1'))
    } catch {
      throw new AppError(503, 'not_ready', 'The database is not reachable')
    }
    return { status: 'ready' }
  })
}
