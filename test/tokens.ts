import { createPrivateKey, createSecretKey, KeyObject } from 'node:crypto'
import { decodeJwt, decodeProtectedHeader, JWTPayload, ProtectedHeaderParameters, SignJWT } from 'jose'

/** What a test says about a token beyond its claims (times in seconds from now, or a span such as '1h'). */
export interface SignOptions {
  algorithm?: 'HS256' | 'HS384' | 'HS512' | 'RS256' | 'PS256' | 'ES256'
  subject?: string
  issuer?: string
  audience?: string | string[]
  expiresIn?: number | string
  notBefore?: number | string
  keyid?: string
  /** more protected header parameters (jku, x5u, jwk …) */
  header?: Record<string, unknown>
  /** no `iat` */
  noTimestamp?: boolean
}

const keyOf = (key: string | Buffer | KeyObject, algorithm: string): KeyObject =>
  key instanceof KeyObject ? key : algorithm.startsWith('HS') ? createSecretKey(Buffer.from(key)) : createPrivateKey(key)

const later = (now: number, span: number | string): number | string => (typeof span === 'number' ? now + span : span)

/** A JWT signed by jose, as an identity provider (or an attacker) would issue it. */
export async function signToken(claims: JWTPayload, key: string | Buffer | KeyObject, options: SignOptions = {}): Promise<string> {
  const alg = options.algorithm ?? 'HS256'
  const now = Math.floor(Date.now() / 1000)
  const jwt = new SignJWT(claims).setProtectedHeader({ alg, typ: 'JWT', ...options.header, ...(options.keyid ? { kid: options.keyid } : {}) })
  if (!options.noTimestamp && claims.iat === undefined) jwt.setIssuedAt(now)
  if (options.subject !== undefined) jwt.setSubject(options.subject)
  if (options.issuer !== undefined) jwt.setIssuer(options.issuer)
  if (options.audience !== undefined) jwt.setAudience(options.audience)
  if (options.expiresIn !== undefined) jwt.setExpirationTime(later(now, options.expiresIn))
  if (options.notBefore !== undefined) jwt.setNotBefore(later(now, options.notBefore))
  return jwt.sign(keyOf(key, alg))
}

/** A token's header and claims, unverified. */
export const decodeToken = (token: string): { header: ProtectedHeaderParameters; payload: JWTPayload } =>
  ({ header: decodeProtectedHeader(token), payload: decodeJwt(token) })
