import { EntityManager } from 'typeorm'
import { Dialect } from './data-source'

/**
 * The few places where the SQL of SQLite and PostgreSQL differ, for statements written by hand
 * (the hot reads and multi-row inserts: see reads.ts and writes.ts). Everything else is the same
 * text on both.
 */

export const dialectOfManager = (m: EntityManager): Dialect => (m.connection.driver.options.type === 'postgres' ? 'postgres' : 'sqlite')

/** `?` placeholders as the dialect writes them: as they are on SQLite, `$1`, `$2`, … on PostgreSQL. */
export function placeholders(dialect: Dialect, sql: string): string {
  if (dialect === 'sqlite') return sql
  let i = 0
  return sql.replace(/\?/g, () => `$${++i}`)
}

/**
 * `column IN (values)` with the values in one parameter (listParameter), so that the statement's
 * text is the same for any number of values and its prepared form is reused: SQLite reads them
 * from a JSON array, PostgreSQL from an array.
 */
export function inList(dialect: Dialect, column: string): string {
  return dialect === 'sqlite' ? `${column} IN (SELECT value FROM json_each(?))` : `${column} = ANY(?)`
}

/** The parameter for inList. */
export function listParameter(dialect: Dialect, values: readonly string[]): unknown {
  return dialect === 'sqlite' ? JSON.stringify(values) : values
}

/** A quoted identifier (table or column name), the same on both. */
export const quoted = (name: string): string => `"${name.replace(/"/g, '""')}"`

/**
 * A stored view's column as the hot reads select it: SQLite returns a BLOB as the bytes in the
 * file, so the view is neither decoded into a string nor encoded again to be sent; PostgreSQL
 * sends text either way.
 */
export const viewBytes = (dialect: Dialect, column: string): string => (dialect === 'sqlite' ? `CAST(${column} AS BLOB)` : column)
