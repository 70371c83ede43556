import fp from 'fastify-plugin'
import { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { createPublicKey, createSecretKey, KeyObject } from 'node:crypto'
import jwt, { JsonWebTokenError, TokenExpiredError } from 'jsonwebtoken'
import { Forbidden, Unauthorized } from '../errors'
import { Role } from '../register/model'
import { ensureCatalogue, Principal } from '../register/writes'
import { Config } from '../config'

export const ROLES: Role[] = ['reader', 'editor', 'admin']
const RANK: Record<Role, number> = { reader: 0, editor: 1, admin: 2 }

/** A workspace id: letters, digits, dot, dash and underscore. */
export const WORKSPACE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/

/**
 * Verifies an Authorization header: a bearer JWT checked with the one configured algorithm (so
 * `alg: none` and HS256 signed with the public key are refused), issuer and audience when
 * configured, a mandatory expiry, and the claims `sub`, `role` and `ws`.
 */
/**
 * The verification key as a KeyObject, made once per key text the way jsonwebtoken makes it from a
 * string (a public key if it parses as one, else a secret): from a string it would do so on every
 * request, through a thrown and caught error for a secret (measured: 15% of a GET's CPU).
 */
const keyObjects = new Map<string, KeyObject>()
function keyObject(text: string): KeyObject {
  let key = keyObjects.get(text)
  if (!key) {
    try {
      key = createPublicKey(text)
    } catch {
      key = createSecretKey(Buffer.from(text))
    }
    keyObjects.set(text, key)
  }
  return key
}

export function verifyBearer(header: string | undefined, settings: Config['jwt']): Principal {
  const match = /^Bearer ([A-Za-z0-9\-_]+\.[A-Za-z0-9\-_]*\.[A-Za-z0-9\-_]*)$/.exec(header ?? '')
  if (!match) throw new Unauthorized(header ? 'The Authorization header must be "Bearer <JWT>"' : 'A bearer token is required')
  let claims: jwt.JwtPayload
  try {
    const decoded = jwt.verify(match[1], keyObject(settings.verifyKey), {
      algorithms: [settings.algorithm], issuer: settings.issuer, audience: settings.audience, clockTolerance: 5,
    })
    if (typeof decoded === 'string') throw new JsonWebTokenError('payload is not a JSON object')
    claims = decoded
  } catch (err) {
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
  if (problems.length) throw new Unauthorized(`The token lacks valid claims: ${problems.join(', ')}`)
  return { sub: sub as string, role: role as Role, ws: ws as string }
}

/**
 * Authentication on every route that declares `config.auth`: a bearer JWT, verified with the one
 * configured algorithm (so `alg: none` and HS256 signed with the public key are refused), issuer
 * and audience when configured, and a mandatory expiry. Claims: `sub`, `role`, `ws`.
 */
export default fp(async function auth(app: FastifyInstance) {
  const catalogued = new Set<string>()

  app.decorateRequest('principal', null as never)

  // No route under /api can be registered without saying which role it needs.
  app.addHook('onRoute', (route) => {
    if (route.url.startsWith('/api') && !(route.config as { auth?: Role } | undefined)?.auth) {
      throw new Error(`route ${route.method} ${route.url} must declare config.auth (the least role it needs)`)
    }
  })

  // After the rate limit (a route-level onRequest hook) has counted failed attempts, and before the
  // body is parsed: an unauthenticated request costs as little as possible.
  app.addHook('preParsing', async (request: FastifyRequest, reply: FastifyReply, payload) => {
    const needed = request.routeOptions.config.auth
    if (!needed) return payload
    let principal: Principal
    try {
      principal = verifyBearer(request.headers.authorization, app.config.jwt)
    } catch (err) {
      reply.header('www-authenticate', request.headers.authorization ? 'Bearer realm="register", error="invalid_token"' : 'Bearer realm="register"')
      throw err
    }
    request.principal = principal
    const { role, ws } = principal
    if (RANK[role] < RANK[needed]) {
      throw new Forbidden(`This operation needs the ${needed} role; the token has ${role}`)
    }
    if (!catalogued.has(ws)) {
      await ensureCatalogue(app.db, ws)
      catalogued.add(ws)
    }
    return payload
  })
}, { name: 'auth', dependencies: ['database'] })
