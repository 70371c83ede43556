import fp from 'fastify-plugin'
import { FastifyInstance } from 'fastify'
import { DataSource, Migration } from 'typeorm'
import { createDataSource, Dialect, dialectOf, initializeDataSource } from '../db/data-source'
import { Database } from '../db/database'
import { keepSortKeysInCollation } from '../register/records/collation-identity'

/** Any fixed number: instances agree on it to take turns migrating. */
const MIGRATION_LOCK = 3030_2016

/**
 * Migrates to the latest schema. Several instances may start at once against one PostgreSQL:
 * an advisory lock lets one migrate while the others wait, then find nothing left to do.
 * (SQLite: the migration's write transaction already excludes other processes.)
 */
export async function migrateDatabase(dataSource: DataSource, dialect: Dialect): Promise<Migration[]> {
  if (dialect !== 'postgres') {
    return dataSource.runMigrations({ transaction: 'each' })
  }
  const lock = dataSource.createQueryRunner()
  await lock.connect()
  try {
    await lock.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK])
    return await dataSource.runMigrations({ transaction: 'each' })
  } finally {
    await lock.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined)
    await lock.release()
  }
}

/**
 * The database: a TypeORM DataSource, migrated to the latest schema on start and destroyed on
 * close. Everything else reaches it through `app.db` units of work.
 */
export default fp(async function database(app: FastifyInstance) {
  const { databaseUrl, dbBusyTimeoutMs, limits } = app.config
  const settings = {
    databaseUrl,
    busyTimeoutMs: dbBusyTimeoutMs,
    poolSize: limits.dbPoolSize,
    writePoolSize: limits.dbWritePoolSize,
    poolWaitMs: limits.dbPoolWaitMs,
    statementTimeoutMs: limits.dbStatementTimeoutMs,
    idleInTransactionTimeoutMs: limits.dbIdleInTransactionTimeoutMs,
  }
  const dataSource = await initializeDataSource(createDataSource(settings), settings)
  try {
    const applied = await migrateDatabase(dataSource, dialectOf(databaseUrl))
    if (applied.length) app.log.info({ migrations: applied.map((m) => m.name) }, 'database migrated')
  } catch (err) {
    await dataSource.destroy()
    throw err
  }
  const db = new Database(dataSource, dialectOf(databaseUrl), { poolWaitMs: limits.dbPoolWaitMs, longReadWaitMs: limits.longReadWaitMs, readPoolSize: limits.dbPoolSize })
  app.decorate('db', db)
  const collation = await keepSortKeysInCollation(db, app.log, limits.sortKeysRecomputePauseMs)
  app.addHook('onReady', async () => collation.start())
  app.addHook('onClose', async () => {
    await collation.stop()
    await db.close()
    await dataSource.destroy()
  })
}, { name: 'database' })
