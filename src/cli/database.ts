import { DataSource, Migration } from 'typeorm'
import { ConfigError, DEFAULT_DATABASE_URL } from '../config'
import { createDataSource, dialectOf } from '../db/data-source'
import { Database } from '../db/database'
import { nativeModuleMismatch } from '../db/native-module'

export interface OpenedDatabase {
  databaseUrl: string
  dataSource: DataSource
  db: Database
  /** The migrations this opening applied (none when the database was up to date). */
  applied: Migration[]
}

/**
 * The command-line tools' database: DATABASE_URL (default the embedded SQLite file), migrated to
 * the latest schema as the service would on start, and closed when the work is done.
 */
export async function withDatabase<T>(work: (opened: OpenedDatabase) => Promise<T>): Promise<T> {
  const databaseUrl = process.env.DATABASE_URL || DEFAULT_DATABASE_URL
  if (!/^(sqlite:|postgres(ql)?:\/\/)/.test(databaseUrl)) throw new ConfigError('DATABASE_URL must start with sqlite: or postgres://')
  const dataSource = createDataSource({ databaseUrl })
  await dataSource.initialize().catch((err) => {
    const mismatch = nativeModuleMismatch(err)
    throw mismatch ? new ConfigError(mismatch) : err
  })
  try {
    const applied = await dataSource.runMigrations({ transaction: 'each' })
    return await work({ databaseUrl, dataSource, db: new Database(dataSource, dialectOf(databaseUrl)), applied })
  } finally {
    await dataSource.destroy()
  }
}
