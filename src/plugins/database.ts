import fp from 'fastify-plugin'
import { FastifyInstance } from 'fastify'
import { createDataSource, dialectOf } from '../db/data-source'
import { Database } from '../db/database'

/**
 * The database: a TypeORM DataSource, migrated to the latest schema on start and destroyed on
 * close. Everything else reaches it through `app.db` units of work.
 */
export default fp(async function database(app: FastifyInstance) {
  const { databaseUrl, dbBusyTimeoutMs } = app.config
  const dataSource = createDataSource({ databaseUrl, busyTimeoutMs: dbBusyTimeoutMs })
  await dataSource.initialize()
  try {
    const applied = await dataSource.runMigrations({ transaction: 'each' })
    if (applied.length) app.log.info({ migrations: applied.map((m) => m.name) }, 'database migrated')
  } catch (err) {
    await dataSource.destroy()
    throw err
  }
  app.decorate('db', new Database(dataSource, dialectOf(databaseUrl)))
  app.addHook('onClose', async () => {
    await dataSource.destroy()
  })
}, { name: 'database' })
