import { DataSource, EntityManager } from 'typeorm'
import { Dialect } from './data-source'

/**
 * Units of work on the database. PostgreSQL gets a transaction per write from the pool.
 * SQLite (better-sqlite3) has a single connection that TypeORM shares between all callers, so
 * concurrent transactions would interleave on it: here every unit of work takes its turn, and a
 * write starts with BEGIN IMMEDIATE so that another process's writer makes us wait (busy timeout)
 * instead of failing half-way.
 */
export class Database {
  private queue: Promise<unknown> = Promise.resolve()

  constructor(readonly dataSource: DataSource, readonly dialect: Dialect) {}

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn)
    this.queue = run.catch(() => undefined)
    return run
  }

  read<T>(fn: (manager: EntityManager) => Promise<T>): Promise<T> {
    if (this.dialect !== 'sqlite') return fn(this.dataSource.manager)
    return this.exclusive(() => fn(this.dataSource.manager))
  }

  write<T>(fn: (manager: EntityManager) => Promise<T>): Promise<T> {
    if (this.dialect !== 'sqlite') return this.dataSource.transaction(fn)
    return this.exclusive(async () => {
      const runner = this.dataSource.createQueryRunner()
      await runner.query('BEGIN IMMEDIATE')
      try {
        const result = await fn(runner.manager)
        await runner.query('COMMIT')
        return result
      } catch (err) {
        await runner.query('ROLLBACK')
        throw err
      }
    })
  }
}
