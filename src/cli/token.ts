import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import jwt from 'jsonwebtoken'
import { loadConfig, readOrCreateDevSecret } from '../config'
import { ROLES, WORKSPACE_PATTERN } from '../plugins/auth'

const USAGE = `Prints a bearer token for the register service.

  npm run token -- --role editor --ws demo --sub alice [--expires-in 8h]

  --role        reader | editor | admin (default reader)
  --ws          workspace (default demo)
  --sub         who the token is for (default the user name)
  --expires-in  lifetime, e.g. 30m, 8h, 7d (default 8h)
  --key         private key file (PEM) for RS256/ES256; default: JWT_SECRET, or the development secret

Signs with what the service verifies with: JWT_SECRET (HS256), the private key given with --key or
JWT_PRIVATE_KEY_FILE (RS256/ES256), or with no configuration the local development secret.`

function main(): void {
  const { values } = parseArgs({
    options: {
      role: { type: 'string', default: 'reader' },
      ws: { type: 'string', default: 'demo' },
      sub: { type: 'string', default: process.env.USER || 'developer' },
      'expires-in': { type: 'string', default: '8h' },
      key: { type: 'string' },
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
  const { algorithm, issuer, audience } = config.jwt
  const keyFile = values.key ?? process.env.JWT_PRIVATE_KEY_FILE
  let signingKey: string
  if (algorithm === 'HS256') signingKey = config.jwt.verifyKey
  else if (keyFile) signingKey = readFileSync(keyFile, 'utf8')
  else throw new Error(`JWT_ALGORITHM is ${algorithm}: give the private key with --key or JWT_PRIVATE_KEY_FILE`)
  const token = jwt.sign({ role: values.role, ws: values.ws }, signingKey, {
    algorithm,
    subject: values.sub,
    expiresIn: values['expires-in'] as jwt.SignOptions['expiresIn'],
    ...(issuer ? { issuer } : {}),
    ...(audience ? { audience } : {}),
  })
  console.log(token)
}

try {
  main()
} catch (err) {
  console.error((err as Error).message)
  process.exit(2)
}
