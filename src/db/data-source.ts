import 'reflect-metadata'
import { join } from 'node:path'
import { DataSource, DataSourceOptions } from 'typeorm'
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
  return { ...common, type: 'postgres', url: settings.databaseUrl, extra: { max: 10 } }
}

export function createDataSource(settings: DataSourceSettings): DataSource {
  return new DataSource(dataSourceOptions(settings))
}
