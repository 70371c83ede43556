import { errors, jwtVerify, SignJWT } from 'jose'
import { Forbidden, Unauthorized, ValidationFailed } from '../errors'
import { Principal, RANK, Role, ROLES, WORKSPACE_PATTERN } from './principal'

/** The query parameter that carries a link's capability; always the last one of the address. */
export const LINK_PARAMETER = 'access'
/** The JWS type of a link, so that nothing else signed with the key passes for one. */
const LINK_TYPE = 'ropa-link+jwt'
const LONGEST_PATH = 2048
const CARRIED = new RegExp(`[?&]${LINK_PARAMETER}=([A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+)$`)
const EXAMPLE = 'such as /api/v1/register/report?lang=sv'

/** A GET operation a link may open: its route as a pattern and the least role it needs. */
interface ReadOperation {
  url: string
  pattern: RegExp
  params: number
  role: Role
}

/** A link the service made: the address a browser opens and when it stops opening. */
export interface Link {
  /** The path and query it opens, followed by the capability: `/api/v1/register/report?lang=sv&access=…`. */
  pathAndCapability: string
  expiresAt: Date
}

/**
 * Links that open one GET in a browser without a token: a capability signed with a key only the
 * service holds (HS256; never the identity provider's), carried in the last query parameter
 * (`access`). It names the one path and query it opens, exactly as a browser sends them, the
 * workspace, role and subject of the token that made it, and lives `ttlSeconds` at most and never
 * beyond that token's expiry. No clock tolerance: the link is checked by the service that signs them.
 */
export class Links {
  private readonly key: Uint8Array
  private readonly reads: ReadOperation[] = []

  constructor(secret: string, private readonly ttlSeconds: number) {
    this.key = new TextEncoder().encode(secret)
  }

  /** Takes note of a GET operation under /api that a link may open. */
  addReadOperation(url: string, role: Role): void {
    const params = (url.match(/:[^/]+/g) ?? []).length
    const source = url.split('/').map((part) => (part.startsWith(':') ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))).join('/')
    this.reads.push({ url, pattern: new RegExp(`^${source}$`), params, role })
    // a static route wins over one with a parameter in the same place, as in Fastify's router
    this.reads.sort((a, b) => a.params - b.params)
  }

  /**
   * The path and query as a browser sends them (percent-encoded), and the operation they name;
   * refused with 400 unless they name a GET operation of the API, and 403 when it needs a higher role.
   */
  target(path: unknown, role: Role): string {
    const refuse = (message: string): never => { throw new ValidationFailed([{ field: 'path', message }]) }
    if (typeof path !== 'string' || !path.startsWith('/') || path.startsWith('//')) {
      return refuse(`path must be the path and query of a GET operation of this API, ${EXAMPLE}`)
    }
    if (path.length > LONGEST_PATH) refuse(`path must be at most ${LONGEST_PATH} characters`)
    if (/[\u0000-\u001f\u007f#]/.test(path)) refuse(`path must hold no control characters and no fragment (#), ${EXAMPLE}`)
    let url: URL
    try {
      url = new URL(path, 'http://link.invalid')
    } catch {
      return refuse(`path must be the path and query of a GET operation of this API, ${EXAMPLE}`)
    }
    // `/\host/…` is another host to a URL parser: a path of this service's, or nothing
    if (url.origin !== 'http://link.invalid') refuse(`path must be a path of this service, ${EXAMPLE}`)
    if (url.searchParams.has(LINK_PARAMETER)) refuse(`path must not itself carry a link (the ${LINK_PARAMETER} parameter)`)
    const operation = this.reads.find((r) => r.pattern.test(url.pathname))
    if (!operation) refuse(`path must name a GET operation of this API (a read: the report, the data flow, a privacy notice, an export, a list or a record), ${EXAMPLE}; ${url.pathname} is none`)
    if (RANK[role] < RANK[operation!.role]) {
      throw new Forbidden(`GET ${operation!.url} needs the ${operation!.role} role; the token has ${role}, and a link opens no more than its token could`)
    }
    return url.pathname + url.search
  }

  /** A link for the caller: for `path` only, in the caller's workspace and role. */
  async make(caller: Principal, path: unknown, now = Date.now()): Promise<Link> {
    const target = this.target(path, caller.role)
    const issuedAt = Math.floor(now / 1000)
    const expiresAt = Math.min(issuedAt + this.ttlSeconds, caller.expiresAt ?? Infinity)
    if (expiresAt <= issuedAt) throw new Unauthorized('The token expires this second: sign in again, then make the link')
    const capability = await new SignJWT({ ws: caller.ws, role: caller.role, get: target })
      .setProtectedHeader({ alg: 'HS256', typ: LINK_TYPE })
      .setSubject(caller.sub)
      .setIssuedAt(issuedAt)
      .setExpirationTime(expiresAt)
      .sign(this.key)
    return { pathAndCapability: `${target}${target.includes('?') ? '&' : '?'}${LINK_PARAMETER}=${capability}`, expiresAt: new Date(expiresAt * 1000) }
  }

  /**
   * Who a link speaks for, when the request is the very GET it was made for. `url` is the request's
   * raw address; the capability must be its last parameter and all before it the signed path and query.
   */
  async open(method: string, url: string): Promise<Principal> {
    const carried = CARRIED.exec(url)
    if (!carried) throw new Unauthorized(`The link is not valid: its ${LINK_PARAMETER} parameter must come last, as the service made it`)
    let claims: Record<string, unknown>
    try {
      claims = (await jwtVerify(carried[1], this.key, {
        algorithms: ['HS256'], typ: LINK_TYPE, clockTolerance: 0, requiredClaims: ['exp', 'sub'],
      })).payload
    } catch (err) {
      if (err instanceof errors.JWTExpired) throw new Unauthorized('The link has expired: make a new one with POST /api/v1/register/links')
      throw new Unauthorized('The link is not valid')
    }
    const { sub, ws, role, get, exp } = claims
    if (typeof sub !== 'string' || typeof ws !== 'string' || !WORKSPACE_PATTERN.test(ws) || !ROLES.includes(role as Role) || typeof get !== 'string') {
      throw new Unauthorized('The link is not valid')
    }
    if (method !== 'GET') throw new Unauthorized('A link opens only with GET')
    if (url.slice(0, carried.index) !== get) throw new Unauthorized('The link is for another address: it opens only the path and query it was made for')
    return { sub, ws, role: role as Role, expiresAt: exp as number }
  }
}

/** Whether a request's address carries a link (an `access` parameter anywhere in its query). */
export function carriesLink(url: string): boolean {
  const at = url.indexOf('?')
  return at >= 0 && new URLSearchParams(url.slice(at + 1)).has(LINK_PARAMETER)
}
