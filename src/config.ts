import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { isIP } from 'node:net'
import { tmpdir } from 'node:os'

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
  /** Expensive operations (exports, backup, report, data flow, import, version proposals) one workspace may have in flight; a download counts until its last byte is sent. */
  expensivePerWorkspace: number
  /** Requests one token (its `sub` in its workspace) may make per minute before getting 429. */
  requestsPerMinute: number
  /** Fastify's trustProxy: which proxies' X-Forwarded-For gives the client's address (limits, logs). */
  trustProxy: boolean | number | string[]
  /** From asking for a data-flow layout to having it, waiting included; then 503. */
  layoutTimeoutMs: number
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
  /** The keys of signed history checkpoints, all held outside the database. */
  history: HistoryKeyConfig
  /** Bounds on what a slow, stalled or hostile caller can hold (README, "Limits"). */
  limits: Limits
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

/** Ed25519 keys of history checkpoints (src/register/accountability/checkpoints.ts). */
export interface HistoryKeyConfig {
  /** PKCS#8 PEM of the private key that signs new checkpoints. */
  signingKeyPem: string
  /** Public JWKs of keys that signed before a rotation: still published, so old checkpoints verify. */
  previousKeys: Record<string, unknown>[]
  /** Public JWKs of other deployments whose checkpoints a restore accepts (moving a register between them). */
  trustedKeys: Record<string, unknown>[]
}

/** Timeouts and sizes that keep a slow or stalled client from holding the service's resources. */
export interface Limits {
  /** Largest answer spooled to a temporary file before it is sent, bytes (507 above it). */
  spoolMaxBytes: number
  /** Where spooled answers are written (a temporary file each, removed once sent). */
  spoolDir: string
  /** A download that makes no progress this long is closed, ms. */
  downloadIdleTimeoutMs: number
  /** The whole request (headers and body) must arrive within this, ms (408). */
  requestTimeoutMs: number
  /** The request headers must arrive within this, ms (408). */
  headersTimeoutMs: number
  /** An idle keep-alive connection is closed after this, ms. */
  keepAliveTimeoutMs: number
  /** Longest wait for a database connection before 503 busy, ms. */
  dbPoolWaitMs: number
  /** Longest wait of an answer read on one snapshot (an export, the report, …) for its turn before 503 busy, ms. */
  longReadWaitMs: number
  /** PostgreSQL connections for reads (writes have their own: dbWritePoolSize). */
  dbPoolSize: number
  /** PostgreSQL connections that only writes use. */
  dbWritePoolSize: number
  /** The pause between two batches of a background sort-key recompute, ms (users' requests go between). */
  sortKeysRecomputePauseMs: number
  /** PostgreSQL: longest time one read statement may run, ms. */
  dbStatementTimeoutMs: number
  /** PostgreSQL: a read transaction left idle this long is ended by the server, ms. */
  dbIdleInTransactionTimeoutMs: number
}

export class ConfigError extends Error {}

export const DEFAULT_DATABASE_URL = 'sqlite:./data/ropa.sqlite'
export const DEV_SECRET_FILE = './data/dev-jwt-secret'
export const DEV_HISTORY_KEY_FILE = './data/history-signing-key.pem'

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
 * key is configured, NODE_ENV is not production and HOST is a loopback address (fail closed: elsewhere
 * the service refuses to start without a key source).
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
  const host = env.HOST || '127.0.0.1'
  const jwt = jwtSettings(env, nodeEnv, devSecret, host)
  return {
    nodeEnv,
    host,
    port: int(env, 'PORT', 3000, 0, 65535),
    databaseUrl,
    logLevel: env.LOG_LEVEL || 'info',
    bodyLimit: int(env, 'BODY_LIMIT', 1048576, 1024, 104857600),
    dbBusyTimeoutMs: int(env, 'DB_BUSY_TIMEOUT_MS', 5000, 0, 600000),
    corsOrigins: corsOrigins(env.CORS_ORIGINS),
    authFailuresPerMinute: int(env, 'AUTH_FAILURES_PER_MINUTE', 30, 1, 1000000),
    versionsFourEyes: flag(env, 'VERSIONS_FOUR_EYES', true),
    expensivePerWorkspace: int(env, 'EXPENSIVE_PER_WORKSPACE', 8, 1, 10000),
    requestsPerMinute: int(env, 'REQUESTS_PER_MINUTE', 1200, 1, 100000000),
    trustProxy: trustProxy(env.TRUST_PROXY),
    layoutTimeoutMs: duration(env, 'LAYOUT_TIMEOUT', 30_000),
    jwt,
    knownWorkspacesOnly: nodeEnv === 'production',
    registerTimeZone: timeZone(env.REGISTER_TIMEZONE || 'Europe/Stockholm'),
    registerLocale: locale(env),
    history: historyKeys(env, nodeEnv),
    limits: limits(env),
    links: linkSettings(env, jwt),
    swaggerOAuth: swaggerOAuth(env, nodeEnv),
  }
}

/**
 * The checkpoint keys. The signing key is a file, never a database row: whoever can rewrite the
 * database must not be able to sign a head. Production refuses to start without one; development
 * makes one in ./data (as it does the JWT secret); tests get a fresh one in memory unless they name a file.
 */
function historyKeys(env: Env, nodeEnv: Config['nodeEnv']): HistoryKeyConfig {
  const file = env.HISTORY_SIGNING_KEY_FILE || undefined
  let signingKeyPem: string
  if (file) {
    try {
      signingKeyPem = readFileSync(file, 'utf8')
    } catch {
      throw new ConfigError(`HISTORY_SIGNING_KEY_FILE names "${file}", which cannot be read`)
    }
  } else if (nodeEnv === 'production') {
    throw new ConfigError('NODE_ENV=production needs HISTORY_SIGNING_KEY_FILE (an Ed25519 private key, PEM) to sign history checkpoints: refusing to start without one')
  } else if (nodeEnv === 'test') {
    signingKeyPem = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
  } else {
    signingKeyPem = readOrCreateDevHistoryKey()
  }
  try {
    const key = createPrivateKey(signingKeyPem)
    if (key.asymmetricKeyType !== 'ed25519') throw new ConfigError(`HISTORY_SIGNING_KEY_FILE must hold an Ed25519 private key, got ${key.asymmetricKeyType}`)
  } catch (err) {
    if (err instanceof ConfigError) throw err
    throw new ConfigError('HISTORY_SIGNING_KEY_FILE is not a PEM private key (make one with: openssl genpkey -algorithm ed25519)')
  }
  return {
    signingKeyPem,
    previousKeys: keySetFile(env, 'HISTORY_PREVIOUS_KEYS_FILE'),
    trustedKeys: keySetFile(env, 'HISTORY_TRUSTED_KEYS'),
  }
}

/** A JWKS file of Ed25519 public keys ({ keys: [{ kty: "OKP", crv: "Ed25519", x, kid }] }); none when the variable is empty. */
function keySetFile(env: Env, name: string): Record<string, unknown>[] {
  const file = env[name]
  if (!file) return []
  let parsed: any
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'))
  } catch {
    throw new ConfigError(`${name} must name a readable JWKS file ({ "keys": [ … ] }), got "${file}"`)
  }
  const keys = parsed?.keys
  if (!Array.isArray(keys) || keys.some((k: any) => k?.kty !== 'OKP' || k?.crv !== 'Ed25519' || typeof k?.x !== 'string' || typeof k?.kid !== 'string' || 'd' in k)) {
    throw new ConfigError(`${name} must be a JWKS of Ed25519 public keys, each { "kty": "OKP", "crv": "Ed25519", "x": …, "kid": … } (as GET /api/v1/history/keys answers)`)
  }
  return keys
}

/** An Ed25519 signing key kept in ./data, so that development checkpoints still verify after a restart. */
export function readOrCreateDevHistoryKey(file = DEV_HISTORY_KEY_FILE): string {
  try {
    return readFileSync(file, 'utf8')
  } catch {
    mkdirSync(dirname(file), { recursive: true })
    const pem = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
    try {
      writeFileSync(file, pem, { mode: 0o600, flag: 'wx' })
    } catch {
      return readFileSync(file, 'utf8') // another process created it first
    }
    return pem
  }
}

function limits(env: Env): Limits {
  const requestTimeoutMs = duration(env, 'REQUEST_TIMEOUT', 120_000)
  const headersTimeoutMs = duration(env, 'HEADERS_TIMEOUT', 20_000)
  // Node refuses a headers timeout longer than the request's
  if (requestTimeoutMs > 0 && headersTimeoutMs > requestTimeoutMs) throw new ConfigError(`HEADERS_TIMEOUT must not be longer than REQUEST_TIMEOUT, got ${env.HEADERS_TIMEOUT} and ${env.REQUEST_TIMEOUT}`)
  return {
    spoolMaxBytes: int(env, 'SPOOL_MAX_BYTES', 2 * 1024 ** 3, 1024, Number.MAX_SAFE_INTEGER),
    spoolDir: env.SPOOL_DIR || tmpdir(),
    downloadIdleTimeoutMs: duration(env, 'DOWNLOAD_IDLE_TIMEOUT', 60_000),
    requestTimeoutMs,
    headersTimeoutMs,
    keepAliveTimeoutMs: duration(env, 'KEEP_ALIVE_TIMEOUT', 72_000),
    dbPoolWaitMs: int(env, 'DB_POOL_WAIT_MS', 5000, 1, 600000),
    longReadWaitMs: duration(env, 'LONG_READ_WAIT', 30_000),
    dbPoolSize: int(env, 'DB_POOL_SIZE', 10, 2, 1000),
    dbWritePoolSize: int(env, 'DB_WRITE_POOL_SIZE', 4, 1, 1000),
    sortKeysRecomputePauseMs: duration(env, 'SORT_KEYS_RECOMPUTE_PAUSE', 5),
    dbStatementTimeoutMs: duration(env, 'DB_STATEMENT_TIMEOUT', 30_000),
    dbIdleInTransactionTimeoutMs: duration(env, 'DB_IDLE_IN_TRANSACTION_TIMEOUT', 30_000),
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

/** The addresses development mode (no key source: a secret of its own) may listen on: this machine only. */
export const LOOPBACK_HOSTS = ['127.0.0.1', '::1', 'localhost']

/**
 * The JWT part of the configuration. Exactly one source of keys: an HS256 secret, a PEM public key,
 * or the identity provider's JWKS. Production also needs the issuer and audience, so that a token
 * the same provider issued for another application is refused.
 */
function jwtSettings(env: Env, nodeEnv: Config['nodeEnv'], devSecret: () => string, host: string): Config['jwt'] {
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
    // development mode signs its own tokens and creates any workspace a token names: only for this machine
    if (!LOOPBACK_HOSTS.includes(host)) {
      throw new ConfigError(`HOST=${host} lets other machines in, and no key source verifies tokens: set JWT_JWKS_URL, JWT_PUBLIC_KEY (or JWT_PUBLIC_KEY_FILE) or JWT_SECRET, or leave HOST at 127.0.0.1 for development mode`)
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

/**
 * TRUST_PROXY: `false` (default: the connection's address is the client's), `true` (trust every
 * proxy: only when nothing can reach the service but through the proxy), a number of proxy hops, or
 * a comma-separated list of proxy addresses and CIDR ranges (`10.0.0.0/8,192.168.1.4`; also
 * `loopback`, `linklocal`, `uniquelocal`).
 */
function trustProxy(raw: string | undefined): Config['trustProxy'] {
  const value = (raw ?? '').trim()
  if (value === '' || value === 'false') return false
  if (value === 'true') return true
  if (/^\d+$/.test(value)) {
    const hops = Number(value)
    if (hops < 1 || hops > 100) throw new ConfigError(`TRUST_PROXY must be a hop count between 1 and 100, got "${raw}"`)
    return hops
  }
  const entries = value.split(',').map((e) => e.trim()).filter(Boolean)
  for (const entry of entries) {
    if (['loopback', 'linklocal', 'uniquelocal'].includes(entry)) continue
    const [address, prefix, ...rest] = entry.split('/')
    const family = isIP(address)
    const bits = family === 6 ? 128 : 32
    const prefixOk = prefix === undefined || (/^\d+$/.test(prefix) && Number(prefix) <= bits)
    if (!family || !prefixOk || rest.length) {
      throw new ConfigError(`TRUST_PROXY must be true, false, a hop count or a comma-separated list of addresses or CIDR ranges such as 10.0.0.0/8,192.168.1.4; "${entry}" is none of these`)
    }
  }
  return entries
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
