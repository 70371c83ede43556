import { workerData } from 'node:worker_threads'

/**
 * Copies a SQLite file's write-ahead log into the database (a PASSIVE checkpoint) on a connection
 * of its own, in a worker thread, so that the main thread does not stop for it (see Database.write's
 * `bulk`). A checkpoint only moves what is committed and durable already; if it fails or the process
 * ends during it, the log stays and the next checkpoint does it.
 */
// eslint-disable-next-line @typescript-eslint/no-var-requires
const BetterSqlite3 = require('better-sqlite3')
const { file, busyTimeoutMs } = workerData as { file: string; busyTimeoutMs: number }
const connection = new BetterSqlite3(file, { timeout: busyTimeoutMs })
try {
  connection.pragma('wal_checkpoint(PASSIVE)')
} finally {
  connection.close()
}
