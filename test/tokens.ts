import { createHmac, createPrivateKey, createSecretKey, KeyObject } from 'node:crypto'
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

/**
 * An HS256 token made at once: tests write `t.auth('editor')` inside expressions, and jose signs
 * only asynchronously. The service verifies it with jose like any other; times in seconds from now.
 */
export function hs256Token(claims: Record<string, unknown>, secret: string, options: Omit<SignOptions, 'algorithm' | 'keyid' | 'header' | 'noTimestamp'> & { expiresIn?: number; notBefore?: number } = {}): string {
  const now = Math.floor(Date.now() / 1000)
  const payload: Record<string, unknown> = { ...claims, iat: now }
  if (options.subject !== undefined) payload.sub = options.subject
  if (options.issuer !== undefined) payload.iss = options.issuer
  if (options.audience !== undefined) payload.aud = options.audience
  if (options.expiresIn !== undefined) payload.exp = now + options.expiresIn
  if (options.notBefore !== undefined) payload.nbf = now + options.notBefore
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url')
  const input = `${part({ alg: 'HS256', typ: 'JWT' })}.${part(payload)}`
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`
}

/** A token's header and claims, unverified. */
export const decodeToken = (token: string): { header: ProtectedHeaderParameters; payload: JWTPayload } =>
  ({ header: decodeProtectedHeader(token), payload: decodeJwt(token) })
