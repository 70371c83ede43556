import fp from 'fastify-plugin'
import { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import jwt, { JsonWebTokenError, TokenExpiredError } from 'jsonwebtoken'
import { Forbidden, Unauthorized } from '../errors'
import { Role } from '../register/model'
import { ensureCatalogue } from '../register/writes'

export const ROLES: Role[] = ['reader', 'editor', 'admin']
const RANK: Record<Role, number> = { reader: 0, editor: 1, admin: 2 }

/** A workspace id: letters, digits, dot, dash and underscore. */
export const WORKSPACE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/

/**
 * Authentication on every route that declares `config.auth`: a bearer JWT, verified with the one
 * configured algorithm (so `alg: none` and HS256 signed with the public key are refused), issuer
 * and audience when configured, and a mandatory expiry. Claims: `sub`, `role`, `ws`.
 */
export default fp(async function auth(app: FastifyInstance) {
  const { algorithm, verifyKey, issuer, audience } = app.config.jwt
  const catalogued = new Set<string>()

  app.decorateRequest('principal', null as never)

  // No route under /api can be registered without saying which role it needs.
  app.addHook('onRoute', (route) => {
    if (route.url.startsWith('/api') && !(route.config as { auth?: Role } | undefined)?.auth) {
      throw new Error(`route ${route.method} ${route.url} must declare config.auth (the least role it needs)`)
    }
  })

  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    const needed = request.routeOptions.config.auth
    if (!needed) return
    const header = request.headers.authorization
    const match = /^Bearer ([A-Za-z0-9\-_]+\.[A-Za-z0-9\-_]*\.[A-Za-z0-9\-_]*)$/.exec(header ?? '')
    if (!match) {
      reply.header('www-authenticate', 'Bearer realm="register"')
      throw new Unauthorized(header ? 'The Authorization header must be "Bearer <JWT>"' : 'A bearer token is required')
    }
    let claims: jwt.JwtPayload
    try {
      const decoded = jwt.verify(match[1], verifyKey, { algorithms: [algorithm], issuer, audience, clockTolerance: 5 })
      if (typeof decoded === 'string') throw new JsonWebTokenError('payload is not a JSON object')
      claims = decoded
    } catch (err) {
      reply.header('www-authenticate', 'Bearer realm="register", error="invalid_token"')
      if (err instanceof TokenExpiredError) throw new Unauthorized('The token has expired')
      throw new Unauthorized('The token is not valid')
    }
    const { sub, role, ws, exp } = claims as Record<string, unknown>
    const problems = [
      typeof exp !== 'number' && 'exp',
      !(typeof sub === 'string' && sub.length > 0 && sub.length <= 200) && 'sub',
      !(typeof role === 'string' && ROLES.includes(role as Role)) && 'role',
      !(typeof ws === 'string' && WORKSPACE_PATTERN.test(ws)) && 'ws',
    ].filter(Boolean)
    if (problems.length) {
      reply.header('www-authenticate', 'Bearer realm="register", error="invalid_token"')
      throw new Unauthorized(`The token lacks valid claims: ${problems.join(', ')}`)
    }
    request.principal = { sub: sub as string, role: role as Role, ws: ws as string }
    if (RANK[role as Role] < RANK[needed]) {
      throw new Forbidden(`This operation needs the ${needed} role; the token has ${role}`)
    }
    if (!catalogued.has(ws as string)) {
      await ensureCatalogue(app.db, ws as string)
      catalogued.add(ws as string)
    }
  })
}, { name: 'auth', dependencies: ['database'] })
