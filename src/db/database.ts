import { DataSource, EntityManager, QueryFailedError, QueryRunner } from 'typeorm'
import { Dialect, pgPools } from './data-source'
import { placeholders } from './sql'
import { join } from 'node:path'
import { Worker } from 'node:worker_threads'

/** What is used here of a better-sqlite3 connection and its statements (the package ships no types). */
interface SqliteStatement {
  all(...parameters: unknown[]): unknown[]
}
interface SqliteConnection {
  prepare(sql: string): SqliteStatement
  pragma(source: string): unknown
}

/** The driver's own connection under a TypeORM DataSource on better-sqlite3. */
const sqliteConnectionOf = (dataSource: DataSource): SqliteConnection =>
  (dataSource.driver as unknown as { databaseConnection: SqliteConnection }).databaseConnection

/**
 * Distinct texts of hot read statements kept prepared (per connection): a list page's text depends
 * on the filters given, so their combinations are many; past this number a text is prepared for
 * one use, so that no client can make the database hold an unbounded number of plans.
 */
const PREPARED_TEXTS = 200

/** Reads on one snapshot; see Database.snapshot. */
export interface ReadSeries {
  read<T>(fn: (manager: EntityManager) => Promise<T>): Promise<T>
  close(): Promise<void>
}

/** The page cache of a bulk write on SQLite, KiB (see Database.write). */
const BULK_CACHE_KIB = 64 * 1024

/** Read-only connections for reads that hold a transaction; more wait for one to be free. */
const READERS = 4

/**
 * Series of reads on one snapshot at once (an export being spooled, the report, findings…): more
 * wait for a turn. What they cost is mostly the process's CPU (rendering rows), which the short
 * requests share: with 4 or 5 at once on a loaded machine, writes queued for seconds (bench/hostile).
 */
export const LONG_READS = 2

/** How long a caller waited for a database connection before giving up: answered 503 busy (see plugins/errors). */
export class PoolWaitExceeded extends Error {
  readonly code = 'POOL_WAIT_EXCEEDED'
  constructor(waitedMs: number) {
    super(`No database connection was free within ${waitedMs} ms`)
  }
}

/**
 * At most `size` holders at once; the others wait in turn, each at most `waitMs`, then are
 * refused with PoolWaitExceeded. What is held is the caller's (a connection, or only a turn).
 */
export class Gate {
  private held = 0
  private readonly waiting: { grant: () => void; timer: NodeJS.Timeout }[] = []

  constructor(private readonly size: number, private readonly waitMs: number) {}

  async enter(): Promise<void> {
    if (this.held < this.size) {
      this.held++
      return
    }
    await new Promise<void>((resolve, reject) => {
      const entry = {
        grant: () => { clearTimeout(entry.timer); resolve() },
        timer: setTimeout(() => {
          this.waiting.splice(this.waiting.indexOf(entry), 1)
          reject(new PoolWaitExceeded(this.waitMs))
        }, this.waitMs),
      }
      this.waiting.push(entry)
    })
  }

  /** Gives the turn to the next waiting caller, or frees it. */
  leave(): void {
    const next = this.waiting.shift()
    if (next) next.grant()
    else this.held--
  }
}

/**
 * Read-only connections to a SQLite file in WAL mode (better-sqlite3 gives one connection per
 * DataSource, hence a DataSource each). One statement on its own needs no transaction: those
 * share one connection (better-sqlite3 runs each statement whole). A read of several statements
 * holds a connection for its transaction (its snapshot): READERS of them, taken in turn. A series
 * on one snapshot (an export, read whole into a spool file before it is sent) takes one of
 * LONG_READS others, so that exports never make the short reads wait, and never open more
 * connections than that however many are asked for at once.
 */
class SqliteReaders {
  private readonly open = new Set<DataSource>()
  private shared: Promise<DataSource> | null = null
  private closed = false
  private readonly short: ReaderPool
  private readonly long: ReaderPool

  constructor(private readonly writer: DataSource, waitMs: number, longWaitMs: number) {
    this.short = new ReaderPool(READERS, waitMs, () => this.connect())
    this.long = new ReaderPool(LONG_READS, longWaitMs, () => this.connect())
  }

  private async connect(): Promise<DataSource> {
    if (this.closed) throw new Error('the database is closed')
    const reader = new DataSource({ ...this.writer.options, readonly: true, enableWAL: false, migrations: [], synchronize: false } as never)
    await reader.initialize()
    this.open.add(reader)
    return reader
  }

  /** The connection for single statements. */
  statements(): Promise<DataSource> {
    this.shared ??= this.connect()
    return this.shared
  }

  /** The driver's connection for single statements, once it is open (then without waiting). */
  private raw: SqliteConnection | null = null
  async rawStatements(): Promise<SqliteConnection> {
    return this.raw ??= sqliteConnectionOf(await this.statements())
  }

  /** A connection for a transaction (`long`: a series on one snapshot), and how to give it back. */
  async acquire(long: boolean): Promise<{ reader: DataSource; done: () => void }> {
    const pool = long ? this.long : this.short
    const reader = await pool.acquire()
    return { reader, done: () => pool.release(reader) }
  }

  async close(): Promise<void> {
    this.closed = true
    await Promise.all([...this.open].map((r) => r.destroy()))
    this.open.clear()
  }
}

/** Up to `size` SQLite read connections, opened when first needed and kept; callers wait their turn (Gate). */
class ReaderPool {
  private readonly idle: DataSource[] = []
  private readonly gate: Gate

  constructor(size: number, waitMs: number, private readonly connect: () => Promise<DataSource>) {
    this.gate = new Gate(size, waitMs)
  }

  async acquire(): Promise<DataSource> {
    await this.gate.enter()
    const idle = this.idle.pop()
    if (idle) return idle
    try {
      return await this.connect()
    } catch (err) {
      this.gate.leave()
      throw err
    }
  }

  release(reader: DataSource): void {
    this.idle.push(reader)
    this.gate.leave()
  }
}

/** Settings of the units of work (the configuration's limits); the defaults suit a scratch database. */
export interface DatabaseOptions {
  /** Longest wait for a connection, ms. */
  poolWaitMs?: number
  /** Longest wait for a turn at a series of reads on one snapshot, ms (they take long: so may their turn). */
  longReadWaitMs?: number
  /** PostgreSQL: the read pool's size; long reads take at most half of it. */
  readPoolSize?: number
}

/**
 * Units of work on the database.
 *
 * Writes: PostgreSQL gets a transaction per write from the pool. SQLite has one write connection
 * that TypeORM shares between all callers, so writes take turns on it, each starting with BEGIN
 * IMMEDIATE. While another process's writer holds the lock, that BEGIN is asked again on timers
 * (see againIfBusy) rather than in SQLite's busy handler, which sleeps in the calling thread: the
 * event loop, and the reads it serves, would stop for as long as the other writer takes.
 *
 * Reads: each read is one snapshot. PostgreSQL: a REPEATABLE READ, READ ONLY transaction.
 * SQLite: a transaction on a read-only connection of its own (WAL lets it read while a write
 * goes on), so reads never wait in the write queue. An in-memory SQLite database (the register
 * as of a past moment) has no second connection: its reads take turns with its writes.
 */
export class Database {
  private queue: Promise<unknown> = Promise.resolve()
  private readers: SqliteReaders | null
  /** PostgreSQL: turns at a series of reads on one snapshot (LONG_READS, at most half the read pool, so that they leave connections to the others). */
  private readonly longReads: Gate | null

  constructor(readonly dataSource: DataSource, readonly dialect: Dialect, options: DatabaseOptions = {}) {
    const waitMs = options.poolWaitMs ?? 5000
    const longWaitMs = options.longReadWaitMs ?? 30_000
    const file = dialect === 'sqlite' ? String((dataSource.options as { database?: unknown }).database ?? '') : ''
    this.readers = dialect === 'sqlite' && file !== '' && file !== ':memory:' ? new SqliteReaders(dataSource, waitMs, longWaitMs) : null
    this.longReads = dialect === 'postgres' ? new Gate(Math.max(1, Math.min(LONG_READS, Math.floor((options.readPoolSize ?? 10) / 2))), longWaitMs) : null
    // the write connection waits in againIfBusy, not in SQLite's busy handler (see above); the
    // read connections keep the handler: in WAL mode they wait only while a log is recovered
    if (this.readers && dataSource.isInitialized) sqliteConnectionOf(dataSource).pragma('busy_timeout = 0')
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn)
    this.queue = run.catch(() => undefined)
    return run
  }

  /** One statement, outside any transaction (it is its own snapshot). */
  async query<T = Record<string, unknown>>(sql: string, parameters: unknown[]): Promise<T[]> {
    if (this.dialect === 'postgres') {
      const runner = this.dataSource.createQueryRunner('slave')
      try {
        return await runner.query(sql, parameters)
      } finally {
        await runner.release()
      }
    }
    if (!this.readers) return this.exclusive(() => this.dataSource.query(sql, parameters))
    return (await this.readers.statements()).query(sql, parameters)
  }

  /** Hot statements: SQLite's prepared per connection, PostgreSQL's name per text (PostgreSQL text: `$n` placeholders). */
  private readonly sqlitePrepared = new WeakMap<SqliteConnection, Map<string, SqliteStatement>>()
  private readonly postgresNames = new Map<string, { name: string; text: string }>()

  /**
   * One read statement (`?` placeholders), outside any transaction (it is its own snapshot), run
   * past TypeORM: the hot reads (GET one, a list page), where TypeORM's query runner, pool
   * wrapper and events cost more than the statement. SQLite: prepared once on the read-only
   * connection of single statements, run synchronously. PostgreSQL: a named prepared statement
   * on a pooled connection, parsed and planned once per connection, one round trip each.
   * Errors are QueryFailedErrors, as TypeORM's (the error log redacts those).
   */
  async prepared<T>(sql: string, parameters: unknown[]): Promise<T[]> {
    if (this.dialect === 'postgres') {
      let statement = this.postgresNames.get(sql)
      if (!statement && this.postgresNames.size < PREPARED_TEXTS) {
        statement = { name: `register_read_${this.postgresNames.size + 1}`, text: placeholders('postgres', sql) }
        this.postgresNames.set(sql, statement)
      }
      const pool = pgPools(this.dataSource).read
      try {
        return (await pool.query(statement ? { ...statement, values: parameters } : { text: placeholders('postgres', sql), values: parameters })).rows
      } catch (err) {
        throw new QueryFailedError(sql, parameters, err as Error)
      }
    }
    if (!this.readers) return this.exclusive(async () => this.runSqlite(sqliteConnectionOf(this.dataSource), sql, parameters) as T[])
    const connection = await this.readers.rawStatements()
    try {
      return this.runSqlite(connection, sql, parameters) as T[]
    } catch (err) {
      // a read refused as busy (see againIfBusy) is asked again; the hot path makes no closure for it
      if (!sqliteBusy(err)) throw err
      return this.againIfBusy(async () => this.runSqlite(connection, sql, parameters) as T[])
    }
  }

  private runSqlite(connection: SqliteConnection, sql: string, parameters: unknown[]): unknown[] {
    let statements = this.sqlitePrepared.get(connection)
    if (!statements) this.sqlitePrepared.set(connection, statements = new Map())
    try {
      let statement = statements.get(sql)
      if (!statement) {
        statement = connection.prepare(sql)
        if (statements.size < PREPARED_TEXTS) statements.set(sql, statement)
      }
      // better-sqlite3 binds no booleans
      return statement.all(...parameters.map((p) => (typeof p === 'boolean' ? Number(p) : p)))
    } catch (err) {
      throw new QueryFailedError(sql, parameters, err as Error)
    }
  }

  /** Reads that belong together (a page and its count), on one snapshot. */
  async read<T>(fn: (manager: EntityManager) => Promise<T>): Promise<T> {
    if (this.dialect === 'sqlite' && !this.readers) return this.exclusive(() => fn(this.dataSource.manager))
    const once = async (): Promise<T> => {
      const series = await this.begin(false)
      try {
        return await series.read(fn)
      } finally {
        await series.close()
      }
    }
    return this.dialect === 'sqlite' ? this.againIfBusy(once) : once()
  }

  /**
   * A series of reads on one snapshot, held until close, such as an export downloaded page by
   * page: every page sees the register as it was when the series began, and nobody waits for it.
   */
  snapshot(): Promise<ReadSeries> {
    return this.begin(true)
  }

  /** A read transaction; `long`: a series on one snapshot, which takes a turn among the long reads. */
  private async begin(long: boolean): Promise<ReadSeries> {
    if (this.dialect === 'sqlite' && !this.readers) return { read: (fn) => this.exclusive(() => fn(this.dataSource.manager)), close: async () => undefined }
    let reader = this.dataSource
    let giveBack = async (): Promise<void> => undefined
    if (this.readers) {
      const pooled = await this.readers.acquire(long)
      reader = pooled.reader
      giveBack = async () => pooled.done()
    } else if (long && this.longReads) {
      const gate = this.longReads
      await gate.enter()
      giveBack = async () => gate.leave()
    }
    let runner: QueryRunner | null = null
    const release = async (): Promise<void> => {
      await runner?.release()
      await giveBack()
    }
    try {
      runner = reader.createQueryRunner(this.dialect === 'postgres' ? 'slave' : 'master')
      await runner.connect()
      await runner.query(this.dialect === 'postgres' ? 'BEGIN TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY' : 'BEGIN')
      // both take the snapshot at the transaction's first read, not at BEGIN: a series takes it now
      if (long) await runner.query(this.dialect === 'postgres' ? 'SELECT 1' : 'SELECT 1 FROM sqlite_master LIMIT 1')
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

  /**
   * One write transaction. `bulk` (an import: hundreds of MB written in one transaction), on a SQLite
   * file: the transaction gets a larger page cache (BULK_CACHE_KIB; the default 2 MB made it write
   * pages to the log again and again before the commit), and its COMMIT does not copy the log into
   * the database (the automatic checkpoint: about a second for an import of 10,000 activities, with
   * the event loop stopped); a worker thread does that after it, on a connection of its own. The
   * commit is as durable as any (synchronous and journal mode are unchanged); the settings are put
   * back when the transaction ends.
   */
  write<T>(fn: (manager: EntityManager) => Promise<T>, options: { bulk?: boolean } = {}): Promise<T> {
    if (this.dialect !== 'sqlite') return this.againIfDeadlocked(() => this.dataSource.transaction(fn))
    const bulk = Boolean(options.bulk) && this.readers !== null
    return this.exclusive(() => this.againIfBusy(async (attempt) => {
      const runner = this.dataSource.createQueryRunner()
      let restore: string[] = []
      let begun = false
      try {
        await runner.query('BEGIN IMMEDIATE')
        begun = true
        if (bulk) restore = await this.bulkSettings(runner)
        const result = await fn(runner.manager)
        await runner.query('COMMIT')
        attempt.committed = true
        return result
      } catch (err) {
        if (begun && !attempt.committed) await runner.query('ROLLBACK')
        throw err
      } finally {
        for (const pragma of restore) await runner.query(pragma)
        await runner.release()
        if (bulk && attempt.committed) this.checkpointAside()
      }
    }))
  }

  /** The busy timeout of the SQLite connections, ms. */
  private get busyTimeoutMs(): number {
    return Number((this.dataSource.options as { timeout?: unknown }).timeout ?? 5000)
  }

  /**
   * SQLite: a unit of work that SQLite refused as busy starts again, after a few milliseconds on a
   * timer, while the busy timeout lasts (from the first try). A write is refused at its BEGIN
   * IMMEDIATE while another process writes (the write connection has no busy handler: see the
   * class); a read may be refused while another connection recovers the log's index
   * (SQLITE_BUSY_RECOVERY). A write is tried again only if it did not commit. With the busy
   * handler, two instances in one process (the history-chain test) stopped each other: one slept
   * in the handler for the whole timeout while the other's transaction waited for the event loop.
   */
  private async againIfBusy<T>(fn: (attempt: { committed: boolean }) => Promise<T>): Promise<T> {
    const started = performance.now()
    for (;;) {
      const attempt = { committed: false }
      try {
        return await fn(attempt)
      } catch (err) {
        if (attempt.committed || !sqliteBusy(err) || performance.now() - started >= this.busyTimeoutMs) throw err
        await new Promise((resolve) => setTimeout(resolve, 5 + Math.random() * 20))
      }
    }
  }

  /** Sets a bulk write's page cache and automatic checkpoint; answers the statements that put them back. */
  private async bulkSettings(runner: QueryRunner): Promise<string[]> {
    const [{ cache_size: cacheSize }] = await runner.query('PRAGMA cache_size') as { cache_size: number }[]
    const [{ wal_autocheckpoint: autoCheckpoint }] = await runner.query('PRAGMA wal_autocheckpoint') as { wal_autocheckpoint: number }[]
    await runner.query(`PRAGMA cache_size = -${BULK_CACHE_KIB}`)
    await runner.query('PRAGMA wal_autocheckpoint = 0')
    return [`PRAGMA cache_size = ${Number(cacheSize)}`, `PRAGMA wal_autocheckpoint = ${Number(autoCheckpoint)}`]
  }

  private checkpointing: Promise<void> = Promise.resolve()

  /** A checkpoint of the log in a worker thread (see checkpoint-worker.ts); close waits for it. */
  private checkpointAside(): void {
    const options = this.dataSource.options as { database?: unknown; timeout?: unknown }
    const workerData = { file: String(options.database), busyTimeoutMs: Number(options.timeout ?? 5000) }
    this.checkpointing = this.checkpointing.then(() => new Promise<void>((resolve) => {
      const worker = new Worker(join(__dirname, 'checkpoint-worker.js'), { workerData })
      // a checkpoint that fails leaves the log as it is: the next automatic one copies it
      worker.once('error', () => resolve())
      worker.once('exit', () => resolve())
    }))
  }

  /**
   * PostgreSQL: a write locks the row it changes, then the rows of the records whose views show it;
   * two writes can come to wait for each other (a rename and an edit of an activity that uses the
   * renamed record). The server then aborts one of them; it starts again, on the other's result.
   */
  private async againIfDeadlocked<T>(fn: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn()
      } catch (err) {
        const code = (err as { driverError?: { code?: string }; code?: string }).driverError?.code ?? (err as { code?: string }).code
        if (attempt >= 3 || (code !== '40P01' && code !== '40001')) throw err
      }
    }
  }

  /** Resolves once the checkpoints set aside by bulk writes have run. */
  checkpointed(): Promise<void> {
    return this.checkpointing
  }

  /** Closes the read connections (the caller destroys the DataSource). */
  async close(): Promise<void> {
    await this.checkpointed()
    await this.readers?.close()
  }
}

/**
 * The database could not take the work now, and will soon: SQLite busy; no connection (or turn)
 * free within DB_POOL_WAIT_MS (ours, or pg-pool's own wait on a PostgreSQL pool); a PostgreSQL read
 * ended by its statement timeout. Answered 503 busy with Retry-After (plugins/errors).
 */
export function databaseBusy(err: unknown): boolean {
  const e = err as { driverError?: { code?: unknown; message?: unknown }; code?: unknown; message?: unknown }
  const code = String(e?.driverError?.code ?? e?.code ?? '')
  const message = String(e?.driverError?.message ?? e?.message ?? '')
  return sqliteBusy(err) || code === 'POOL_WAIT_EXCEEDED' || code === '57014' || message === PG_POOL_WAIT
}

/** What pg-pool says when no connection was free within its connectionTimeoutMillis. */
const PG_POOL_WAIT = 'timeout exceeded when trying to connect'

/** SQLITE_BUSY and its extended codes (SQLITE_BUSY_SNAPSHOT, _RECOVERY, _TIMEOUT). */
export function sqliteBusy(err: unknown): boolean {
  const e = err as { driverError?: { code?: unknown }; code?: unknown }
  return String(e.driverError?.code ?? e.code ?? '').startsWith('SQLITE_BUSY')
}
