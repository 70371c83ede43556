import { finished } from 'node:stream/promises'
import { EntityManager, QueryFailedError } from 'typeorm'
import type { PoolClient } from 'pg'
import { utils } from 'pg'
import { from as copyFrom } from 'pg-copy-streams'

/**
 * Many rows into one PostgreSQL table by `COPY … FROM STDIN`, on the connection of the manager's
 * transaction. For the bulk writes of an import: a multi-row INSERT of thousands of parameters is
 * parsed, planned and bound by the server and serialised by the driver value by value, where COPY
 * streams the rows as text straight into the table (an import of 10,000 activities: the server's CPU
 * 12.5-13.9 -> 8.8-9.7 s, bench/NOTES.md). The same checks apply: constraints, foreign keys,
 * triggers, all inside the caller's transaction.
 *
 * Each value is the text the driver would have sent as the INSERT's parameter (pg's own
 * `prepareValue`: booleans, dates, arrays and JSON as it writes them), then escaped for COPY's text
 * format, so a row reads back exactly as it would have been inserted.
 */
export async function copyRows(m: EntityManager, table: string, columns: readonly string[], rows: readonly (readonly unknown[])[]): Promise<void> {
  await copyStatement(m, table, columns, rows, (row, k) => row[k])()
}

/**
 * copyRows in two steps: the rows made into COPY's text now, sent when the statement returned is
 * run. An import's series (StoreSeries) runs its statements one after another on the connection;
 * with the text ready, each goes out the moment the one before it ends, rather than after the
 * process has found time to write it.
 */
export function copyStatement<R>(m: EntityManager, table: string, columns: readonly string[], rows: readonly R[], value: (row: R, column: number) => unknown): () => Promise<void> {
  if (!rows.length) return async () => undefined
  const sql = `COPY ${table} (${columns.join(', ')}) FROM STDIN`
  let text = ''
  for (const row of rows) {
    for (let k = 0; k < columns.length; k++) text += (k ? '\t' : '') + copyField(value(row, k))
    text += '\n'
  }
  const data = Buffer.from(text)
  return async () => {
    if (!m.queryRunner) throw new Error('copyRows runs inside a transaction')
    const client = (await m.queryRunner.connect()) as PoolClient
    try {
      const stream = client.query(copyFrom(sql))
      stream.end(data)
      await finished(stream)
    } catch (error) {
      // the one shape the error handler knows (and redacts in the log): TypeORM's
      throw new QueryFailedError(sql, [], error as Error)
    }
  }
}

const SPECIAL = /[\\\n\r\t]/
const ESCAPED: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' }

/** One value in COPY's text format: `\N` for null, backslash, newline, carriage return and tab escaped. */
export function copyField(value: unknown): string {
  const text: unknown = utils.prepareValue(value)
  if (text === null || text === undefined) return '\\N'
  // bytea would need its own escaping; no column written in bulk is binary
  if (typeof text !== 'string') throw new TypeError('copyRows writes text values only')
  return SPECIAL.test(text) ? text.replace(/[\\\n\r\t]/g, (c) => ESCAPED[c]) : text
}
