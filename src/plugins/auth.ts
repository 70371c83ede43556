import fp from 'fastify-plugin'
import { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { AppError, Forbidden, Unauthorized } from '../errors'
import { RANK, Role, UnknownWorkspace } from '../auth/principal'
import { TokenVerifier } from '../auth/verify-token'
import { carriesLink, LINK_PARAMETER, Links } from '../auth/links'

declare module 'fastify' {
  interface FastifyInstance {
    /** Links that open one GET without a token (POST /api/v1/register/links makes them). */
    links: Links
  }
}

/**
 * Authentication on every route that declares `config.auth`. The bearer token, or a link (an
 * `access` query parameter: src/auth/links.ts, good for its one GET only), is verified once per
 * request, on arrival (see TokenVerifier for what is checked); the rate limit's allow-list reads the
 * outcome, so that only requests without a valid token are counted. The refusal itself waits for
 * preParsing, after the rate limit had its say and before the body is read. Then the role, then the
 * workspace: in production it must be registered (`npm run workspace -- add`), elsewhere it is
 * created on first use (with its built-in catalogue, in one transaction); opening a registered one only reads.
 */
export interface AuthOptions {
  /**
   * Makes a workspace ready for its first request in this process: false when it is unknown and
   * may not be created. The register supplies it, so that authentication knows nothing of records.
   */
  openWorkspace(ws: string): Promise<boolean>
}

export default fp(async function auth(app: FastifyInstance, options: AuthOptions) {
  const verifier = new TokenVerifier(app.config.jwt, app.log)
  const opened = new Set<string>()
  const links = new Links(app.config.links.secret, app.config.links.ttlSeconds)
  app.decorate('links', links)

  app.decorateRequest('principal', null as never)
  app.decorateRequest('authFailure', null)

  // No route under /api can be registered without saying which role it needs ('public': none, no token read).
  app.addHook('onRoute', (route) => {
    if (route.url.startsWith('/api') && !(route.config as { auth?: Role } | undefined)?.auth) {
      throw new Error(`route ${route.method} ${route.url} must declare config.auth (the least role it needs)`)
    }
    const role = (route.config as { auth?: Role } | undefined)?.auth
    if (role && route.url.startsWith('/api/') && [route.method].flat().includes('GET')) links.addReadOperation(route.url, role)
  })

  if (app.config.links.randomSecret && app.config.nodeEnv === 'production') {
    // several instances behind a load balancer would each refuse the others' links
    app.addHook('onReady', async () => { app.log.warn('LINK_SECRET is not set: links open only on this instance, until it restarts; give every instance the same LINK_SECRET') })
  }

  if (verifier.keySet) {
    // fetched once at start, so that a wrong JWT_JWKS_URL shows in the start log (a failure is logged, not fatal)
    app.addHook('onReady', () => verifier.keySet!.refresh())
  }

  // An application-wide hook: it runs before the rate limit's, which is route-level.
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    if (!request.routeOptions.config.auth || request.routeOptions.config.auth === 'public') return
    try {
      if (carriesLink(request.url)) {
        // a link speaks for itself, whatever Authorization header comes with it
        request.principal = await links.open(request.method, request.url)
        delete (request.query as Record<string, unknown>)[LINK_PARAMETER]
        // what a link opened is nobody else's to keep: no cache, shared or the browser's own
        reply.header('cache-control', 'no-store')
      } else {
        request.principal = await verifier.verify(request.headers.authorization)
      }
    } catch (err) {
      if (!(err instanceof AppError)) throw err
      request.authFailure = err
    }
  })

  app.addHook('preParsing', async (request: FastifyRequest, reply: FastifyReply, payload) => {
    const needed = request.routeOptions.config.auth
    if (!needed || needed === 'public') return payload
    const failure = request.authFailure
    if (failure) {
      if (failure instanceof Unauthorized) {
        reply.header('www-authenticate', request.headers.authorization ? 'Bearer realm="register", error="invalid_token"' : 'Bearer realm="register"')
      }
      throw failure
    }
    if (!request.principal) throw new Unauthorized()
    const { role, ws } = request.principal
    if (RANK[role] < RANK[needed]) {
      throw new Forbidden(`This operation needs the ${needed} role; the token has ${role}`)
    }
    if (!opened.has(ws)) {
      if (!(await options.openWorkspace(ws))) throw new UnknownWorkspace(ws, app.config.jwt.workspaceClaim)
      opened.add(ws)
    }
    return payload
  })
}, { name: 'auth', dependencies: ['database'] })
