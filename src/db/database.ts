import { DataSource, EntityManager } from 'typeorm'
import { Dialect } from './data-source'

/**
 * Units of work on the database. PostgreSQL gets a transaction per write from the pool.
 * SQLite (better-sqlite3) has a single connection that TypeORM shares between all callers, so
 * concurrent transactions would interleave on it: here every unit of work takes its turn, and a
 * write starts with BEGIN IMMEDIATE so that another process's writer makes us wait (busy timeout)
 * instead of failing half-way.
 */
/** Reads on one snapshot where the database offers one; see Database.snapshot. */
export interface ReadSeries {
  read<T>(fn: (manager: EntityManager) => Promise<T>): Promise<T>
  close(): Promise<void>
}

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

  /**
   * A series of reads that belong together, such as an export walking the register page by page.
   * PostgreSQL: one REPEATABLE READ, READ ONLY transaction on a connection of its own, so every
   * page sees the same snapshot and nobody else waits. SQLite: each read takes its own turn in the
   * queue, so that a long export (or a slow client) never holds up other requests; pages taken
   * later may then see changes made in between.
   */
  async snapshot(): Promise<ReadSeries> {
    if (this.dialect === 'sqlite') return { read: (fn) => this.read(fn), close: async () => undefined }
    const runner = this.dataSource.createQueryRunner()
    await runner.connect()
    try {
      await runner.query('BEGIN TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY')
    } catch (err) {
      await runner.release()
      throw err
    }
    let closed = false
    return {
      read: (fn) => fn(runner.manager),
      close: async () => {
        if (closed) return
        closed = true
        try {
          await runner.query('COMMIT')
        } finally {
          await runner.release()
        }
      },
    }
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
