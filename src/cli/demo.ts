import 'reflect-metadata'
import { parseArgs } from 'node:util'
import { ConfigError, DEFAULT_DATABASE_URL } from '../config'
import { withDatabase } from './database'
import { AppError } from '../errors'
import { WORKSPACE_PATTERN } from '../auth/principal'
import { DEMO_WORKSPACE, loadDemo } from '../register/demo/demo'

const USAGE = `Loads the demo register (the five Swedish privacy policies in docs/seeds/) into a workspace.

  npm run demo [-- --ws demo]

  --ws  workspace to load into (default demo)

Opens DATABASE_URL (default ${DEFAULT_DATABASE_URL}), migrates it to the latest schema, and imports
src/register/demo/register.json (an export document) in one transaction: every demo record is
created, or updated when it differs; loading twice changes nothing.`

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      ws: { type: 'string', default: DEMO_WORKSPACE },
      help: { type: 'boolean', short: 'h' },
    },
  })
  if (values.help) {
    console.log(USAGE)
    return
  }
  const ws = values.ws!
  if (!WORKSPACE_PATTERN.test(ws)) throw new ConfigError('--ws must be letters, digits, dot, dash or underscore (at most 64)')
  await withDatabase(async ({ databaseUrl, db, applied }) => {
    if (applied.length) console.log(`Migrated the database: ${applied.map((m) => m.name).join(', ')}`)
    const result = await loadDemo(db, { sub: 'demo-loader', role: 'admin', ws })

    console.log(`Demo register loaded into workspace "${ws}" (${databaseUrl.startsWith('sqlite:') ? databaseUrl : 'PostgreSQL'}):`)
    for (const c of result.counts) {
      console.log(`  ${c.titlePlural.padEnd(26)} ${String(c.created).padStart(3)} created, ${String(c.updated).padStart(3)} updated, ${String(c.unchanged).padStart(3)} unchanged`)
    }
    console.log('Controllers:')
    for (const c of result.controllers) console.log(`  ${c.id}  ${c.name}`)
    console.log(`
Read it with a token for the workspace:
  npm run token -- --role reader --ws ${ws}
  curl -H "Authorization: Bearer <token>" http://127.0.0.1:${process.env.PORT || 3000}/api/v1/processing-activities
What each policy says, and what it leaves out: docs/demo-register.md`)
  })
}

main().catch((err) => {
  if (err instanceof AppError) {
    // the import refused the document (nothing was written): say where, as the import route does
    console.error([err.message, ...(err.details ?? []).map((d) => `  ${d.field}: ${d.message}`)].join('\n'))
    process.exit(1)
  }
  console.error(err instanceof ConfigError ? err.message : err)
  process.exit(err instanceof ConfigError ? 2 : 1)
})
