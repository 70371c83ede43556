import { createPublicKey, randomBytes } from 'node:crypto'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'

import type { Role } from './auth/principal'
import { isTimeZone } from './register/wording/dates'
import { isSupportedLocale, registerLocale } from './register/wording/collation'

export type JwtAlgorithm = 'HS256' | 'RS256' | 'PS256' | 'ES256'
const ASYMMETRIC: JwtAlgorithm[] = ['RS256', 'PS256', 'ES256']

/** Where the keys that verify tokens come from. */
export type JwtKeys =
  | { kind: 'secret'; secret: string }
  | { kind: 'public-key'; pem: string }
  /** The identity provider's published key set, fetched again when it is older than `refreshMs` or names no key for a token's `kid`, but never twice within `cooldownMs`. */
  | { kind: 'jwks'; url: string; refreshMs: number; cooldownMs: number }

export interface Config {
  nodeEnv: 'development' | 'production' | 'test'
  host: string
  port: number
  databaseUrl: string
  logLevel: string
  bodyLimit: number
  dbBusyTimeoutMs: number
  /** Browser origins allowed to call the API (CORS); none by default. */
  corsOrigins: string[]
  /** Requests without a valid token one client address may make per minute before getting 429. */
  authFailuresPerMinute: number
  /** A register version must be approved by an admin other than its proposer (four eyes). */
  versionsFourEyes: boolean
  jwt: {
    keys: JwtKeys
    /** The only algorithms a token may name (so `alg: none` and HS256 signed with a public key are refused). */
    algorithms: JwtAlgorithm[]
    issuer?: string
    audience?: string
    /** Claim holding the role(s): a name, or a dotted path such as `realm_access.roles`. */
    roleClaim: string
    /** The provider's role names and the roles they give; null: the claim holds reader, editor or admin. */
    roleMap: Record<string, Role> | null
    /** Claim holding the workspace (a name or a dotted path). */
    workspaceClaim: string
    /** Longest lifetime (exp − iat) a token may have, in seconds; tokens must then carry `iat`. */
    maxAgeSeconds?: number
    /** True when the service made up its own development secret (no JWT configuration given). */
    devSecret: boolean
  }
  /** Production: a token naming a workspace that is not in the workspaces table gets 403. Otherwise a workspace is created on first use. */
  knownWorkspacesOnly: boolean
  /** IANA time zone of date-only values (review dates, file names, the notice's date). */
  registerTimeZone: string
  /** BCP 47 locale whose collation orders names everywhere (lists, exports, notice, findings): src/register/wording/collation.ts. */
  registerLocale: string
  /** Links that open one GET in a browser without a token (src/auth/links.ts). */
  links: {
    /** How long a link lives, in seconds (never longer than the token it was made with). */
    ttlSeconds: number
    /** HS256 key the service signs links with; made up per process when LINK_SECRET is not set. */
    secret: string
    /** True when the key was made up: links then open only on the instance that made them, until it restarts. */
    randomSecret: boolean
    /** The address browsers reach the service at (scheme, host, port, any path prefix); null: from each request's Host. */
    publicUrl: string | null
  }
  /** Swagger UI signs in through the identity provider (OpenID Connect, authorization code with PKCE) when set. */
  swaggerOAuth: { issuer: string; discoveryUrl: string; clientId: string } | null
}

export class ConfigError extends Error {}

export const DEFAULT_DATABASE_URL = 'sqlite:./data/ropa.sqlite'
export const DEV_SECRET_FILE = './data/dev-jwt-secret'

type Env = Record<string, string | undefined>

function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new ConfigError(`${name} must be an integer between ${min} and ${max}, got "${raw}"`)
  }
  return Number(raw)
}

function flag(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  if (raw !== 'true' && raw !== 'false') throw new ConfigError(`${name} must be true or false, got "${raw}"`)
  return raw === 'true'
}

/**
 * Reads the environment into a typed config, failing with a message naming the variable.
 * `devSecret` reads (or creates) the local development secret; it is only consulted when no JWT
 * key is configured and NODE_ENV is not production.
 */
export function loadConfig(env: Env = process.env, devSecret: () => string = readOrCreateDevSecret): Config {
  const nodeEnv = (env.NODE_ENV ?? 'development') as Config['nodeEnv']
  if (!['development', 'production', 'test'].includes(nodeEnv)) {
    throw new ConfigError(`NODE_ENV must be development, production or test, got "${nodeEnv}"`)
  }
  const databaseUrl = env.DATABASE_URL || DEFAULT_DATABASE_URL
  if (!/^(sqlite:|postgres(ql)?:\/\/)/.test(databaseUrl)) {
    throw new ConfigError('DATABASE_URL must start with sqlite: or postgres://')
  }
  const jwt = jwtSettings(env, nodeEnv, devSecret)
  return {
    nodeEnv,
    host: env.HOST || '127.0.0.1',
    port: int(env, 'PORT', 3000, 0, 65535),
    databaseUrl,
    logLevel: env.LOG_LEVEL || 'info',
    bodyLimit: int(env, 'BODY_LIMIT', 1048576, 1024, 104857600),
    dbBusyTimeoutMs: int(env, 'DB_BUSY_TIMEOUT_MS', 5000, 0, 600000),
    corsOrigins: corsOrigins(env.CORS_ORIGINS),
    authFailuresPerMinute: int(env, 'AUTH_FAILURES_PER_MINUTE', 30, 1, 1000000),
    versionsFourEyes: flag(env, 'VERSIONS_FOUR_EYES', true),
    jwt,
    knownWorkspacesOnly: nodeEnv === 'production',
    registerTimeZone: timeZone(env.REGISTER_TIMEZONE || 'Europe/Stockholm'),
    registerLocale: locale(env),
    links: linkSettings(env, jwt),
    swaggerOAuth: swaggerOAuth(env, nodeEnv),
  }
}

/** LINK_TTL, LINK_SECRET and PUBLIC_URL: the links of POST /api/v1/register/links. */
function linkSettings(env: Env, jwt: Config['jwt']): Config['links'] {
  const ttlMs = duration(env, 'LINK_TTL', 15 * 60_000)
  if (ttlMs < 1000 || ttlMs > 86_400_000) throw new ConfigError(`LINK_TTL must be between 1s and 1d, got "${env.LINK_TTL}"`)
  const given = env.LINK_SECRET || undefined
  if (given !== undefined && given.length < 32) throw new ConfigError('LINK_SECRET must be at least 32 characters')
  // one key, one purpose: a link must never pass as a bearer token, nor a token as a link
  if (given !== undefined && jwt.keys.kind === 'secret' && jwt.keys.secret === given) throw new ConfigError('LINK_SECRET must differ from JWT_SECRET')
  let publicUrl: string | null = null
  if (env.PUBLIC_URL) {
    let url: URL
    try {
      url = new URL(env.PUBLIC_URL)
    } catch {
      throw new ConfigError(`PUBLIC_URL must be an address such as https://ropa.example.se, got "${env.PUBLIC_URL}"`)
    }
    if (!['http:', 'https:'].includes(url.protocol) || url.search || url.hash) {
      throw new ConfigError(`PUBLIC_URL must be an http(s) address without query or fragment, such as https://ropa.example.se, got "${env.PUBLIC_URL}"`)
    }
    publicUrl = url.href.replace(/\/+$/, '')
  }
  return { ttlSeconds: Math.floor(ttlMs / 1000), secret: given ?? randomBytes(32).toString('base64url'), randomSecret: given === undefined, publicUrl }
}

/** OIDC_ISSUER and SWAGGER_OAUTH_CLIENT_ID: both or neither. */
function swaggerOAuth(env: Env, nodeEnv: Config['nodeEnv']): Config['swaggerOAuth'] {
  const issuer = env.OIDC_ISSUER || undefined
  const clientId = env.SWAGGER_OAUTH_CLIENT_ID || undefined
  if (!issuer && !clientId) return null
  if (!issuer || !clientId) {
    throw new ConfigError(`Swagger UI's sign-in needs both OIDC_ISSUER and SWAGGER_OAUTH_CLIENT_ID; ${issuer ? 'SWAGGER_OAUTH_CLIENT_ID' : 'OIDC_ISSUER'} is not set`)
  }
  let url: URL
  try {
    url = new URL(issuer)
  } catch {
    throw new ConfigError(`OIDC_ISSUER must be the identity provider's issuer, such as https://sso.acme.se/realms/acme, got "${issuer}"`)
  }
  const loopback = ['127.0.0.1', '[::1]', 'localhost'].includes(url.hostname)
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && (loopback || nodeEnv !== 'production'))) {
    throw new ConfigError(`OIDC_ISSUER must be an https:// address${nodeEnv === 'production' ? ' in production' : ''}, got "${issuer}"`)
  }
  const base = issuer.replace(/\/+$/, '')
  return { issuer: base, discoveryUrl: `${base}/.well-known/openid-configuration`, clientId }
}

function timeZone(name: string): string {
  if (!isTimeZone(name)) throw new ConfigError(`REGISTER_TIMEZONE must be an IANA time zone such as Europe/Stockholm, got "${name}"`)
  return name
}

/**
 * The collation's locale. The stored sort keys are computed in it (src/register/wording/collation.ts reads
 * the same variable): after changing it, `npm run sort-keys` recomputes the stored keys.
 */
function locale(env: Env): string {
  const name = registerLocale(env)
  if (!isSupportedLocale(name)) throw new ConfigError(`REGISTER_LOCALE must be a locale such as sv or en-GB, got "${name}"`)
  return name
}

const ROLE_NAMES: Role[] = ['reader', 'editor', 'admin']

/**
 * The JWT part of the configuration. Exactly one source of keys: an HS256 secret, a PEM public key,
 * or the identity provider's JWKS. Production also needs the issuer and audience, so that a token
 * the same provider issued for another application is refused.
 */
function jwtSettings(env: Env, nodeEnv: Config['nodeEnv'], devSecret: () => string): Config['jwt'] {
  const secret = env.JWT_SECRET || undefined
  const publicKey = env.JWT_PUBLIC_KEY || (env.JWT_PUBLIC_KEY_FILE ? readFileSync(env.JWT_PUBLIC_KEY_FILE, 'utf8') : undefined)
  const jwksUrl = env.JWT_JWKS_URL || undefined
  if ([secret, publicKey, jwksUrl].filter(Boolean).length > 1) {
    throw new ConfigError('set only one of JWT_SECRET, JWT_PUBLIC_KEY(_FILE) and JWT_JWKS_URL')
  }
  const listed = (env.JWT_ALGORITHM || '').split(',').map((a) => a.trim()).filter(Boolean) as JwtAlgorithm[]
  for (const a of listed) {
    if (!['HS256', ...ASYMMETRIC].includes(a)) throw new ConfigError(`JWT_ALGORITHM must be HS256, RS256, PS256 or ES256 (or a comma-separated list of the last three), got "${a}"`)
  }
  let keys: JwtKeys
  let algorithms: JwtAlgorithm[]
  let isDev = false
  if (jwksUrl) {
    keys = { kind: 'jwks', url: jwksAddress(jwksUrl, nodeEnv), refreshMs: duration(env, 'JWT_JWKS_REFRESH', 600_000), cooldownMs: duration(env, 'JWT_JWKS_COOLDOWN', 30_000) }
    if (listed.includes('HS256')) throw new ConfigError('JWT_ALGORITHM=HS256 needs JWT_SECRET; a JWKS gives RS256, PS256 or ES256 keys')
    algorithms = listed.length ? listed : ASYMMETRIC
  } else if (publicKey) {
    if (listed.includes('HS256')) throw new ConfigError('JWT_ALGORITHM=HS256 needs JWT_SECRET, not a public key')
    const type = publicKeyType(publicKey)
    const fits: JwtAlgorithm[] = type === 'rsa' ? ['RS256', 'PS256'] : ['ES256']
    const wrong = listed.filter((a) => !fits.includes(a))
    if (wrong.length) throw new ConfigError(`JWT_ALGORITHM=${wrong.join(',')} does not fit the ${type === 'rsa' ? 'RSA' : 'P-256'} key in JWT_PUBLIC_KEY(_FILE)`)
    keys = { kind: 'public-key', pem: publicKey }
    algorithms = listed.length ? listed : [fits[0]]
  } else if (secret) {
    if (listed.some((a) => a !== 'HS256')) throw new ConfigError(`JWT_ALGORITHM=${listed.join(',')} needs JWT_PUBLIC_KEY(_FILE) or JWT_JWKS_URL`)
    if (secret.length < 32) throw new ConfigError('JWT_SECRET must be at least 32 characters')
    keys = { kind: 'secret', secret }
    algorithms = ['HS256']
  } else {
    if (nodeEnv === 'production') {
      throw new ConfigError('NODE_ENV=production needs JWT_JWKS_URL, JWT_PUBLIC_KEY(_FILE) or JWT_SECRET: refusing to start without one')
    }
    keys = { kind: 'secret', secret: devSecret() }
    algorithms = ['HS256']
    isDev = true
  }
  const issuer = env.JWT_ISSUER || undefined
  const audience = env.JWT_AUDIENCE || undefined
  if (nodeEnv === 'production') {
    const missing = [!issuer && 'JWT_ISSUER', !audience && 'JWT_AUDIENCE'].filter(Boolean)
    if (missing.length) throw new ConfigError(`NODE_ENV=production needs ${missing.join(' and ')}: refusing to start without ${missing.length > 1 ? 'them' : 'it'}`)
  }
  const maxAge = env.JWT_MAX_AGE ? duration(env, 'JWT_MAX_AGE', 0) / 1000 : undefined
  if (maxAge !== undefined && maxAge < 1) throw new ConfigError('JWT_MAX_AGE must be at least 1s')
  return {
    keys,
    algorithms,
    issuer,
    audience,
    roleClaim: claimName(env, 'JWT_ROLE_CLAIM', 'role'),
    roleMap: roleMap(env.JWT_ROLE_MAP),
    workspaceClaim: claimName(env, 'JWT_WORKSPACE_CLAIM', 'ws'),
    maxAgeSeconds: maxAge,
    devSecret: isDev,
  }
}

/** The key set's address. Keys fetched over plain HTTP could be replaced on the way, so production takes https only (or a loopback address). */
function jwksAddress(raw: string, nodeEnv: Config['nodeEnv']): string {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new ConfigError(`JWT_JWKS_URL must be an https:// address, got "${raw}"`)
  }
  const loopback = ['127.0.0.1', '[::1]', 'localhost'].includes(url.hostname)
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && (loopback || nodeEnv !== 'production'))) {
    throw new ConfigError(`JWT_JWKS_URL must be an https:// address${nodeEnv === 'production' ? ' in production' : ''}, got "${raw}"`)
  }
  return url.href
}

function publicKeyType(pem: string): 'rsa' | 'ec' {
  let key
  try {
    key = createPublicKey(pem)
  } catch {
    throw new ConfigError('JWT_PUBLIC_KEY(_FILE) is not a PEM public key or certificate')
  }
  if (key.asymmetricKeyType === 'rsa') return 'rsa'
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'ec'
  throw new ConfigError(`JWT_PUBLIC_KEY(_FILE) must be an RSA or P-256 key, got ${key.asymmetricKeyType}`)
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }

/** A duration such as 30s, 10m, 8h or 1d (a bare number is seconds), in milliseconds. */
function duration(env: Env, name: string, fallback: number): number {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  const m = /^(\d+)(ms|s|m|h|d)?$/.exec(raw.trim())
  if (!m) throw new ConfigError(`${name} must be a duration such as 30s, 10m, 8h or 1d, got "${raw}"`)
  return Number(m[1]) * UNITS[m[2] ?? 's']
}

function claimName(env: Env, name: string, fallback: string): string {
  const raw = (env[name] ?? '').trim() || fallback
  if (raw.length > 200 || /\s/.test(raw) || raw.split('.').some((p) => !p)) throw new ConfigError(`${name} must be a claim name or a dotted path such as realm_access.roles, got "${raw}"`)
  return raw
}

/** `ropa-admin=admin,ropa-editor=editor` → { 'ropa-admin': 'admin', … } */
function roleMap(raw: string | undefined): Record<string, Role> | null {
  if (!raw || !raw.trim()) return null
  const map: Record<string, Role> = {}
  for (const pair of raw.split(',').map((p) => p.trim()).filter(Boolean)) {
    const at = pair.lastIndexOf('=')
    const name = pair.slice(0, at).trim()
    const role = pair.slice(at + 1).trim() as Role
    if (at < 1 || !name || !ROLE_NAMES.includes(role)) {
      throw new ConfigError(`JWT_ROLE_MAP must list provider-role=reader|editor|admin pairs separated by commas, got "${pair}"`)
    }
    map[name] = role
  }
  return map
}

function corsOrigins(raw: string | undefined): string[] {
  const origins = (raw ?? '').split(',').map((o) => o.trim()).filter(Boolean)
  for (const o of origins) {
    if (!/^https?:\/\/[^/\s]+$/.test(o)) throw new ConfigError(`CORS_ORIGINS must list origins such as https://intranet.example.se, got "${o}"`)
  }
  return origins
}

/** A random secret kept in ./data so that the server and `npm run token` agree in development. */
export function readOrCreateDevSecret(file = DEV_SECRET_FILE): string {
  try {
    return readFileSync(file, 'utf8').trim()
  } catch {
    mkdirSync(dirname(file), { recursive: true })
    const value = randomBytes(32).toString('base64url')
    try {
      writeFileSync(file, value + '\n', { mode: 0o600, flag: 'wx' })
    } catch {
      return readFileSync(file, 'utf8').trim() // another process created it first
    }
    return value
  }
}
