import { DataSource, EntityManager, QueryRunner } from 'typeorm'
import { Dialect } from './data-source'

/** Reads on one snapshot; see Database.snapshot. */
export interface ReadSeries {
  read<T>(fn: (manager: EntityManager) => Promise<T>): Promise<T>
  close(): Promise<void>
}

/** Read-only connections kept open between reads; more are opened while they are all busy. */
const IDLE_READERS = 4

/**
 * Read-only connections to a SQLite file in WAL mode. Each read holds one connection for itself
 * (its transaction is its snapshot), so reads neither wait for the write connection nor see each
 * other's transactions. better-sqlite3 gives one connection per DataSource, hence a DataSource each.
 */
class SqliteReaders {
  private readonly idle: DataSource[] = []
  private readonly open = new Set<DataSource>()
  private closed = false

  constructor(private readonly writer: DataSource) {}

  async acquire(): Promise<DataSource> {
    if (this.closed) throw new Error('the database is closed')
    const idle = this.idle.pop()
    if (idle) return idle
    const reader = new DataSource({ ...this.writer.options, readonly: true, enableWAL: false, migrations: [], synchronize: false } as never)
    await reader.initialize()
    this.open.add(reader)
    return reader
  }

  async release(reader: DataSource): Promise<void> {
    if (!this.closed && this.idle.length < IDLE_READERS) {
      this.idle.push(reader)
      return
    }
    this.open.delete(reader)
    await reader.destroy()
  }

  async close(): Promise<void> {
    this.closed = true
    this.idle.length = 0
    await Promise.all([...this.open].map((r) => r.destroy()))
    this.open.clear()
  }
}

/**
 * Units of work on the database.
 *
 * Writes: PostgreSQL gets a transaction per write from the pool. SQLite has one write connection
 * that TypeORM shares between all callers, so writes take turns on it, each starting with BEGIN
 * IMMEDIATE so that another process's writer makes us wait (busy timeout) instead of failing.
 *
 * Reads: each read is one snapshot. PostgreSQL: a REPEATABLE READ, READ ONLY transaction.
 * SQLite: a transaction on a read-only connection of its own (WAL lets it read while a write
 * goes on), so reads never wait in the write queue. An in-memory SQLite database (the register
 * as of a past moment) has no second connection: its reads take turns with its writes.
 */
export class Database {
  private queue: Promise<unknown> = Promise.resolve()
  private readers: SqliteReaders | null

  constructor(readonly dataSource: DataSource, readonly dialect: Dialect) {
    const file = dialect === 'sqlite' ? String((dataSource.options as { database?: unknown }).database ?? '') : ''
    this.readers = dialect === 'sqlite' && file !== '' && file !== ':memory:' ? new SqliteReaders(dataSource) : null
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn)
    this.queue = run.catch(() => undefined)
    return run
  }

  /** One statement, outside any transaction (it is its own snapshot). */
  async query<T = Record<string, unknown>>(sql: string, parameters: unknown[]): Promise<T[]> {
    if (this.dialect === 'postgres') return this.dataSource.query(sql, parameters)
    if (!this.readers) return this.exclusive(() => this.dataSource.query(sql, parameters))
    const reader = await this.readers.acquire()
    try {
      return await reader.query(sql, parameters)
    } finally {
      await this.readers.release(reader)
    }
  }

  /** Reads that belong together (a page and its count), on one snapshot. */
  async read<T>(fn: (manager: EntityManager) => Promise<T>): Promise<T> {
    if (this.dialect === 'sqlite' && !this.readers) return this.exclusive(() => fn(this.dataSource.manager))
    const series = await this.snapshot()
    try {
      return await series.read(fn)
    } finally {
      await series.close()
    }
  }

  /**
   * A series of reads on one snapshot, held until close, such as an export downloaded page by
   * page: every page sees the register as it was when the series began, and nobody waits for it.
   */
  async snapshot(): Promise<ReadSeries> {
    if (this.dialect === 'sqlite' && !this.readers) return { read: (fn) => this.exclusive(() => fn(this.dataSource.manager)), close: async () => undefined }
    const reader = this.readers ? await this.readers.acquire() : this.dataSource
    let runner: QueryRunner | null = null
    const release = async (): Promise<void> => {
      await runner?.release()
      if (this.readers) await this.readers.release(reader)
    }
    try {
      runner = reader.createQueryRunner()
      await runner.connect()
      if (this.dialect === 'postgres') {
        await runner.query('BEGIN TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY')
      } else {
        // a deferred transaction takes its snapshot at its first read: take it now
        await runner.query('BEGIN')
        await runner.query('SELECT 1 FROM sqlite_master LIMIT 1')
      }
    } catch (err) {
      await release()
      throw err
    }
    let closed = false
    return {
      read: (fn) => fn(runner!.manager),
      close: async () => {
        if (closed) return
        closed = true
        try {
          await runner!.query('COMMIT')
        } finally {
          await release()
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

  /** Closes the read connections (the caller destroys the DataSource). */
  async close(): Promise<void> {
    await this.readers?.close()
  }
}
