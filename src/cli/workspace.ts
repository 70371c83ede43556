import 'reflect-metadata'
import { parseArgs } from 'node:util'
import { ConfigError, DEFAULT_DATABASE_URL } from '../config'
import { withDatabase } from './database'
import { AppError } from '../errors'
import { addWorkspace, listWorkspaces, renameWorkspace } from '../register/records/workspaces'

const USAGE = `Manages the workspaces the service knows. In production a token naming a workspace that is
not registered here gets 403 unknown_workspace; in development a workspace is added on first use.

  npm run workspace -- add <id> [--name "Region Jämtland Härjedalen"]
  npm run workspace -- list
  npm run workspace -- rename <id> --name "New name"

  <id>    the value of the token's workspace claim (JWT_WORKSPACE_CLAIM, default ws):
          letters, digits, dot, dash and underscore, at most 64
  --name  a name for people (default: the id)

Opens DATABASE_URL (default ${DEFAULT_DATABASE_URL}) and migrates it to the latest schema first.
A running service sees a new workspace at once; no restart is needed.`

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { name: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  })
  const [command, id, ...rest] = positionals
  if (values.help || !command) {
    console.log(USAGE)
    return
  }
  const expected: Record<string, number> = { add: 1, rename: 1, list: 0 }
  if (!(command in expected)) throw new ConfigError(`unknown command "${command}": use add, list or rename (--help for more)`)
  if ((id === undefined ? 0 : 1) !== expected[command] || rest.length) {
    throw new ConfigError(command === 'list' ? 'list takes no arguments' : `${command} takes one workspace id, e.g. npm run workspace -- ${command} acme --name "Acme AB"`)
  }
  if (command === 'rename' && values.name === undefined) throw new ConfigError('rename needs --name "New name"')
  await withDatabase(async ({ db }) => {
    if (command === 'list') {
      const all = await listWorkspaces(db)
      if (!all.length) console.log('No workspaces yet: add one with npm run workspace -- add <id> --name "…"')
      const width = Math.max(2, ...all.map((w) => w.id.length))
      for (const w of all) console.log(`${w.id.padEnd(width)}  ${w.name}  (since ${w.createdAt.slice(0, 10)})`)
    } else if (command === 'add') {
      const w = await addWorkspace(db, id, values.name)
      console.log(`Added workspace ${w.id} (${w.name}) with the built-in legal-basis catalogue.`)
    } else {
      const w = await renameWorkspace(db, id, values.name!)
      console.log(`Workspace ${w.id} is now named ${w.name}.`)
    }
  })
}

main().catch((err) => {
  const known = err instanceof ConfigError || err instanceof AppError
  console.error(known ? err.message : err)
  process.exit(known ? 2 : 1)
})
