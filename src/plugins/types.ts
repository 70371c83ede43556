import { Config } from '../config'
import { Database } from '../db/database'
import { AppError } from '../errors'
import { Principal, Role } from '../auth/principal'

declare module 'fastify' {
  interface FastifyInstance {
    config: Config
    db: Database
  }
  interface FastifyRequest {
    /** Who is calling, from a verified token; set on every /api route. */
    principal: Principal
    /** Why the token was refused, when it was: kept from arrival until the refusal is answered. */
    authFailure: AppError | null
  }
  interface FastifyContextConfig {
    /** The least role a route needs; every route under /api declares one ('public': no token, e.g. the checkpoint keys). */
    auth?: Role | 'public'
  }
}
