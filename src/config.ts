import { randomBytes } from 'node:crypto'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'

export type JwtAlgorithm = 'HS256' | 'RS256' | 'ES256'

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
    algorithm: JwtAlgorithm
    /** HS256 secret or RS256/ES256 public key (PEM). */
    verifyKey: string
    issuer?: string
    audience?: string
    /** True when the service made up its own development secret (no JWT configuration given). */
    devSecret: boolean
  }
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
  const secret = env.JWT_SECRET || undefined
  const publicKey = env.JWT_PUBLIC_KEY || (env.JWT_PUBLIC_KEY_FILE ? readFileSync(env.JWT_PUBLIC_KEY_FILE, 'utf8') : undefined)
  if (secret && publicKey) throw new ConfigError('set either JWT_SECRET or JWT_PUBLIC_KEY(_FILE), not both')
  let algorithm = (env.JWT_ALGORITHM || (publicKey ? 'RS256' : 'HS256')) as JwtAlgorithm
  if (!['HS256', 'RS256', 'ES256'].includes(algorithm)) {
    throw new ConfigError(`JWT_ALGORITHM must be HS256, RS256 or ES256, got "${algorithm}"`)
  }
  let verifyKey: string
  let isDev = false
  if (publicKey) {
    if (algorithm === 'HS256') throw new ConfigError('JWT_ALGORITHM=HS256 needs JWT_SECRET, not a public key')
    verifyKey = publicKey
  } else if (secret) {
    if (algorithm !== 'HS256') throw new ConfigError(`JWT_ALGORITHM=${algorithm} needs JWT_PUBLIC_KEY or JWT_PUBLIC_KEY_FILE`)
    if (secret.length < 32) throw new ConfigError('JWT_SECRET must be at least 32 characters')
    verifyKey = secret
  } else {
    if (nodeEnv === 'production') {
      throw new ConfigError('NODE_ENV=production needs JWT_SECRET or JWT_PUBLIC_KEY(_FILE): refusing to start without one')
    }
    algorithm = 'HS256'
    verifyKey = devSecret()
    isDev = true
  }
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
    jwt: {
      algorithm,
      verifyKey,
      issuer: env.JWT_ISSUER || undefined,
      audience: env.JWT_AUDIENCE || undefined,
      devSecret: isDev,
    },
  }
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
