import { Config } from '../config'
import { Database } from '../db/database'
import { Role } from '../register/model'
import { Principal } from '../register/writes'

declare module 'fastify' {
  interface FastifyInstance {
    config: Config
    db: Database
  }
  interface FastifyRequest {
    /** Who is calling, from a verified token; set on every /api route. */
    principal: Principal
  }
  interface FastifyContextConfig {
    /** The least role a route needs; every route under /api declares one. */
    auth?: Role
  }
}
