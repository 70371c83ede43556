import 'reflect-metadata'
import { DEFAULT_DATABASE_URL } from '../config'
import { createDataSource, dialectOf } from '../db/data-source'
import { migrateDatabase } from '../plugins/database'

/**
 * npm run migrate: migrates DATABASE_URL to the latest schema and exits. Run it with the URL of the
 * role that owns the tables (and their append-only triggers); the service can then run as a role
 * that owns nothing, granted only what it needs, which cannot drop or disable the triggers.
 */
async function main(): Promise<void> {
  const databaseUrl = process.env.DATABASE_URL || DEFAULT_DATABASE_URL
  const dataSource = createDataSource({ databaseUrl })
  await dataSource.initialize()
  try {
    const applied = await migrateDatabase(dataSource, dialectOf(databaseUrl))
    console.log(applied.length ? `migrated: ${applied.map((m) => m.name).join(', ')}` : 'the schema is current: nothing to migrate')
  } finally {
    await dataSource.destroy()
  }
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
