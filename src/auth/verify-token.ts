import { createPublicKey } from 'node:crypto'
import { errors, importJWK, JWTHeaderParameters, jwtVerify, JWTVerifyGetKey } from 'jose'
import { Config, JwtAlgorithm } from '../config'
import { AppError, Forbidden, Unauthorized } from '../errors'
import { Principal, RANK, Role, ROLES, WORKSPACE_PATTERN } from './principal'
import { KeySetLog, RemoteKeySet } from './jwks'


/** Seconds a token's times may be off, as jose counts them (exp, nbf, iat). */
const CLOCK_TOLERANCE_S = 5
const CACHE_MS = 30_000
const CACHE_ENTRIES = 10_000

const BEARER = /^Bearer ([A-Za-z0-9\-_]+\.[A-Za-z0-9\-_]*\.[A-Za-z0-9\-_]*)$/

/**
 * A claim by name, or by a dotted path into nested objects (`realm_access.roles`). A name that is
 * itself a claim wins over the path, so namespaced claims such as `https://example.se/roles` work.
 */
export function claimAt(payload: Record<string, unknown>, name: string): unknown {
  if (Object.hasOwn(payload, name)) return payload[name]
  let at: unknown = payload
  for (const part of name.split('.')) {
    if (!at || typeof at !== 'object' || Array.isArray(at) || !Object.hasOwn(at, part)) return undefined
    at = (at as Record<string, unknown>)[part]
  }
  return at
}

/** The highest role the claim's value (a string or an array of strings) maps to, if any. */
export function mappedRole(value: unknown, map: Config['jwt']['roleMap']): Role | undefined {
  const names = (Array.isArray(value) ? value : [value]).filter((v): v is string => typeof v === 'string')
  let best: Role | undefined
  for (const name of names) {
    const role = map ? (Object.hasOwn(map, name) ? map[name] : undefined) : ROLES.find((r) => r === name)
    if (role && (!best || RANK[role] > RANK[best])) best = role
  }
  return best
}

/**
 * Verifies bearer tokens against the configured keys: an HS256 secret, a PEM public key, or the
 * identity provider's JWKS (by `kid`, which is then required). Only the configured algorithms are
 * accepted; issuer and audience are checked when configured (always in production); the token must
 * carry `exp`, `sub` and the workspace claim, and no longer lifetime than JWT_MAX_AGE. The role
 * comes from the role claim through the role map: a valid token without a mapped role gets 403.
 */
export class TokenVerifier {
  private readonly key: JWTVerifyGetKey
  readonly keySet: RemoteKeySet | null = null
  /**
   * Tokens verified lately, by their text: verifying a signature is the largest cost of a read, and
   * a client sends the same token with every request. An entry holds no longer than the token is
   * valid (its exp with the clock tolerance, its max age), at most CACHE_MS, and with a key set only
   * while the keys it was verified with are the current ones (a withdrawn key stops at the next refresh).
   */
  private readonly accepted = new Map<string, { principal: Principal; until: number; keys: object | null }>()

  constructor(private readonly settings: Config['jwt'], log: KeySetLog) {
    const { keys } = settings
    if (keys.kind === 'jwks') {
      const keySet = new RemoteKeySet(keys.url, keys.refreshMs, keys.cooldownMs, log)
      this.keySet = keySet
      this.key = (header, token) => {
        if (!header.kid) throw new Unauthorized('The token names no signing key (kid)')
        return keySet.key(header, token)
      }
    } else {
      // imported once per algorithm (WebCrypto keys are bound to theirs), not on every request
      const imported = new Map<string, Promise<CryptoKey>>()
      const publicJwk = keys.kind === 'public-key' ? createPublicKey(keys.pem).export({ format: 'jwk' }) : null
      const secret = keys.kind === 'secret' ? Buffer.from(keys.secret) : null
      this.key = (header: JWTHeaderParameters) => {
        let key = imported.get(header.alg)
        if (!key) {
          key = secret
            ? crypto.subtle.importKey('raw', secret, { name: 'HMAC', hash: 'SHA-256' }, false, ['verify'])
            : importJWK(publicJwk!, header.alg) as Promise<CryptoKey>
          imported.set(header.alg, key)
        }
        return key
      }
    }
  }

  async verify(authorization: string | undefined): Promise<Principal> {
    const match = BEARER.exec(authorization ?? '')
    if (!match) throw new Unauthorized(authorization ? 'The Authorization header must be "Bearer <JWT>"' : 'A bearer token is required')
    const known = this.accepted.get(match[1])
    const keys = this.keySet ? this.keySet.current : null
    if (known && Date.now() < known.until && known.keys === keys && (!this.keySet || keys)) return { ...known.principal }
    if (known) this.accepted.delete(match[1])
    return this.verifyToken(match[1])
  }

  private async verifyToken(token: string): Promise<Principal> {
    const { algorithms, issuer, audience, maxAgeSeconds, roleClaim, roleMap, workspaceClaim } = this.settings
    let claims: Record<string, unknown>
    try {
      claims = (await jwtVerify(token, this.key, {
        algorithms: algorithms as JwtAlgorithm[], issuer, audience, clockTolerance: CLOCK_TOLERANCE_S,
        ...(maxAgeSeconds ? { maxTokenAge: maxAgeSeconds } : {}),
      })).payload
    } catch (err) {
      throw refusal(err)
    }
    const { sub, exp, iat } = claims
    const ws = claimAt(claims, workspaceClaim)
    const problems = [
      typeof exp !== 'number' && 'exp',
      !(typeof sub === 'string' && sub.length > 0 && sub.length <= 200) && 'sub',
      !(typeof ws === 'string' && WORKSPACE_PATTERN.test(ws)) && workspaceClaim,
    ].filter(Boolean)
    if (problems.length) throw new Unauthorized(`The token lacks valid claims: ${problems.join(', ')}`)
    if (maxAgeSeconds && (exp as number) - (iat as number) > maxAgeSeconds) {
      throw new Unauthorized(`The token lives longer than the ${maxAgeSeconds} s this service accepts (JWT_MAX_AGE)`)
    }
    const role = mappedRole(claimAt(claims, roleClaim), roleMap)
    if (!role) {
      throw new Forbidden(roleMap
        ? `The token's ${roleClaim} claim holds none of the roles this service maps (${Object.keys(roleMap).join(', ')})`
        : `The token's ${roleClaim} claim holds none of the roles ${ROLES.join(', ')}`)
    }
    const principal: Principal = { sub: sub as string, role, ws: ws as string, expiresAt: exp as number }
    const keys = this.keySet ? this.keySet.current : null
    if (!this.keySet || keys) {
      const until = Math.min(Date.now() + CACHE_MS, ((exp as number) + CLOCK_TOLERANCE_S) * 1000,
        maxAgeSeconds && typeof iat === 'number' ? (iat + maxAgeSeconds + CLOCK_TOLERANCE_S) * 1000 : Infinity)
      if (this.accepted.size >= CACHE_ENTRIES) this.accepted.delete(this.accepted.keys().next().value!)
      this.accepted.set(token, { principal, until, keys })
    }
    return principal
  }
}

/** Why a token was refused, in words a caller can act on: only once its signature held do we say which claim failed. */
function refusal(err: unknown): AppError {
  if (err instanceof AppError) return err
  if (err instanceof errors.JWTExpired) {
    return new Unauthorized(err.claim === 'iat' ? 'The token was issued longer ago than this service accepts (JWT_MAX_AGE)' : 'The token has expired')
  }
  if (err instanceof errors.JWTClaimValidationFailed) {
    const what: Record<string, string> = { iss: 'issuer', aud: 'audience', nbf: 'not-before time', iat: 'issue time' }
    if (!what[err.claim]) return new Unauthorized('The token is not valid')
    return new Unauthorized(err.reason === 'missing' ? `The token lacks the ${what[err.claim]} (${err.claim})` : `The token's ${what[err.claim]} (${err.claim}) is not accepted`)
  }
  if (err instanceof errors.JWKSNoMatchingKey) return new Unauthorized('The token is signed with a key the identity provider does not publish (kid)')
  return new Unauthorized('The token is not valid')
}
