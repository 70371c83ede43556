import 'reflect-metadata'
import { join } from 'node:path'
import { DataSource, DataSourceOptions } from 'typeorm'
import type { Pool } from 'pg'
import { entities } from '../../entities'
import { SnakeNamingStrategy } from './naming'

export type Dialect = 'sqlite' | 'postgres'

export function dialectOf(databaseUrl: string): Dialect {
  return databaseUrl.startsWith('sqlite:') ? 'sqlite' : 'postgres'
}

export interface DataSourceSettings {
  databaseUrl: string
  busyTimeoutMs?: number
  /** Throwaway test databases only: build the schema from the entities instead of migrations. */
  synchronize?: boolean
  /** PostgreSQL connections for reads; writes and migrations have their own `writePoolSize`. */
  poolSize?: number
  writePoolSize?: number
  /** Longest wait for a pooled connection, ms; then the pool refuses (see Database: 503 busy). */
  poolWaitMs?: number
  /** PostgreSQL reads: the server ends a statement running, or a transaction left idle, this long (ms; 0: never). */
  statementTimeoutMs?: number
  idleInTransactionTimeoutMs?: number
}

/** What pg_stat_activity shows as each pool's application_name. */
export const READ_POOL_NAME = 'ropa-register read'
export const WRITE_POOL_NAME = 'ropa-register write'

/** The read pool's address: the same database, with the read timeouts as the session's settings. */
function readUrl(settings: DataSourceSettings): string {
  const url = new URL(settings.databaseUrl)
  url.searchParams.set('statement_timeout', String(settings.statementTimeoutMs ?? 30_000))
  url.searchParams.set('idle_in_transaction_session_timeout', String(settings.idleInTransactionTimeoutMs ?? 30_000))
  return url.toString()
}

/** Migrations are compiled next to this file: dist/migrations/<dialect>/*.js */
export const migrationsDir = (dialect: Dialect): string => join(__dirname, '..', '..', 'migrations', dialect)

export function dataSourceOptions(settings: DataSourceSettings): DataSourceOptions {
  const dialect = dialectOf(settings.databaseUrl)
  const common = {
    entities,
    namingStrategy: new SnakeNamingStrategy(),
    migrations: [join(migrationsDir(dialect), '*.js')],
    migrationsTableName: 'schema_migrations',
    synchronize: settings.synchronize ?? false,
    logging: false,
  }
  if (dialect === 'sqlite') {
    return {
      ...common,
      type: 'better-sqlite3',
      database: settings.databaseUrl.slice('sqlite:'.length),
      enableWAL: true,
      timeout: settings.busyTimeoutMs ?? 5000, // busy timeout: wait for another process's write lock
    }
  }
  // Two pools (TypeORM's replication, both on the one database): reads take the "slave" pool, whose
  // sessions carry the read timeouts; writes and migrations the "master" pool, which no read can
  // fill (its size is set in createDataSource: `extra` gives both pools one size).
  return {
    ...common,
    type: 'postgres',
    replication: {
      master: { url: settings.databaseUrl, applicationName: WRITE_POOL_NAME },
      slaves: [{ url: readUrl(settings), applicationName: READ_POOL_NAME }],
    },
    extra: { max: settings.poolSize ?? 10, connectionTimeoutMillis: settings.poolWaitMs ?? 5000 },
  } as DataSourceOptions
}

/** The pg pools under a PostgreSQL DataSource. */
export function pgPools(dataSource: DataSource): { read: Pool; write: Pool } {
  const driver = dataSource.driver as unknown as { master: Pool; slaves: Pool[] }
  return { read: driver.slaves[0] ?? driver.master, write: driver.master }
}

/** Initialises the DataSource; on PostgreSQL the write pool then gets its own size. */
export async function initializeDataSource(dataSource: DataSource, settings: DataSourceSettings): Promise<DataSource> {
  await dataSource.initialize()
  if (dialectOf(settings.databaseUrl) === 'postgres') {
    // pg-pool reads `max` at every connect
    (pgPools(dataSource).write as unknown as { options: { max: number } }).options.max = settings.writePoolSize ?? 4
  }
  return dataSource
}

export function createDataSource(settings: DataSourceSettings): DataSource {
  return new DataSource(dataSourceOptions(settings))
}
