import { createPrivateKey, createSecretKey, KeyObject } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { SignJWT } from 'jose'
import { Config, JwtAlgorithm, loadConfig, readOrCreateDevSecret } from '../config'
import { ROLES, WORKSPACE_PATTERN } from '../auth/principal'

const USAGE = `Prints a bearer token for the register service.

  npm run token -- --role editor --ws demo --sub alice [--expires-in 8h]

  --role        reader | editor | admin (default reader)
  --ws          workspace (default demo)
  --sub         who the token is for (default the user name)
  --expires-in  lifetime: seconds (3600), or with a unit s, m, h, d, w (30m, 8h, 7d); default 8h, or JWT_MAX_AGE when shorter
  --key         private key file (PEM) for RS256/PS256/ES256; default: JWT_SECRET, or the development secret
  --kid         key id to put in the header (needed when the service verifies with JWT_JWKS_URL)

Signs with what the service verifies with: JWT_SECRET (HS256), the private key given with --key or
JWT_PRIVATE_KEY_FILE (RS256/PS256/ES256), or with no configuration the local development secret.
The claims follow the service's settings: JWT_ROLE_CLAIM (through JWT_ROLE_MAP, the first provider
role that maps to --role), JWT_WORKSPACE_CLAIM, JWT_ISSUER and JWT_AUDIENCE.`

/** Sets a claim by name or dotted path, the way the service reads it. */
function setClaim(claims: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.')
  let at = claims
  for (const part of parts.slice(0, -1)) at = (at[part] ??= {}) as Record<string, unknown>
  at[parts[parts.length - 1]] = value
}

function providerRole(settings: Config['jwt'], role: string): string {
  if (!settings.roleMap) return role
  const name = Object.keys(settings.roleMap).find((n) => settings.roleMap![n] === role)
  if (!name) throw new Error(`JWT_ROLE_MAP maps no provider role to ${role}`)
  return name
}

const SECONDS_PER: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 }

/**
 * `--expires-in` in seconds: a bare number is seconds, as the README says; otherwise a number with
 * a unit, `30m`, `8h`, `7d`.
 */
export function lifetimeSeconds(text: string): number {
  const m = /^\s*(\d+)\s*([smhdw])?\s*$/i.exec(text)
  if (!m || Number(m[1]) <= 0) throw new Error(`--expires-in must be a lifetime such as 3600 (seconds), 30m, 8h or 7d; got "${text}"`)
  return Number(m[1]) * SECONDS_PER[(m[2] ?? 's').toLowerCase()]
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      role: { type: 'string', default: 'reader' },
      ws: { type: 'string', default: 'demo' },
      sub: { type: 'string', default: process.env.USER || 'developer' },
      'expires-in': { type: 'string' },
      key: { type: 'string' },
      kid: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  })
  if (values.help) {
    console.log(USAGE)
    return
  }
  if (!ROLES.includes(values.role as never)) throw new Error(`--role must be one of ${ROLES.join(', ')}`)
  if (!WORKSPACE_PATTERN.test(values.ws!)) throw new Error('--ws must be letters, digits, dot, dash or underscore (at most 64)')
  const config = loadConfig(process.env, readOrCreateDevSecret)
  const settings = config.jwt
  const keyFile = values.key ?? process.env.JWT_PRIVATE_KEY_FILE
  let signingKey: KeyObject
  let algorithm: JwtAlgorithm
  if (settings.keys.kind === 'secret') {
    signingKey = createSecretKey(Buffer.from(settings.keys.secret))
    algorithm = 'HS256'
  } else if (keyFile) {
    signingKey = createPrivateKey(readFileSync(keyFile, 'utf8'))
    const type = signingKey.asymmetricKeyType
    const found = settings.algorithms.find((a) => (type === 'ec' ? a === 'ES256' : a !== 'ES256'))
    if (!found) throw new Error(`the ${type} key in ${keyFile} fits none of the algorithms ${settings.algorithms.join(', ')}`)
    algorithm = found
  } else {
    throw new Error(`the service verifies ${settings.algorithms.join('/')} tokens: give the private key with --key or JWT_PRIVATE_KEY_FILE`)
  }
  if (settings.keys.kind === 'jwks' && !values.kid) throw new Error('the service verifies with JWT_JWKS_URL: give the key id with --kid')
  const claims: Record<string, unknown> = {}
  setClaim(claims, settings.roleClaim, providerRole(settings, values.role!))
  setClaim(claims, settings.workspaceClaim, values.ws)
  const expiresIn = values['expires-in'] !== undefined ? lifetimeSeconds(values['expires-in'])
    : (settings.maxAgeSeconds && settings.maxAgeSeconds < 8 * 3600 ? settings.maxAgeSeconds : 8 * 3600)
  const issuedAt = Math.floor(Date.now() / 1000)
  const jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: algorithm, typ: 'JWT', ...(values.kid ? { kid: values.kid } : {}) })
    .setSubject(values.sub!)
    .setIssuedAt(issuedAt)
    .setExpirationTime(issuedAt + expiresIn)
  if (settings.issuer) jwt.setIssuer(settings.issuer)
  if (settings.audience) jwt.setAudience(settings.audience)
  console.log(await jwt.sign(signingKey))
}

if (require.main === module) main().catch((err) => {
  console.error((err as Error).message)
  process.exit(2)
})
