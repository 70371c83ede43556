import { EntityManager, EntityMetadata, EntityTarget, In } from 'typeorm'
import { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata'
import { Dialect } from '../../db/data-source'
import { Database } from '../../db/database'
import { dialectOfManager, inList, listParameter, placeholders, quoted, viewBytes } from '../../db/sql'
import { searchFold } from '../wording/collation'
import { ENTITY_OF, ResourceDef, Resolver, SUMMARY_COLUMNS } from './model'
import type { RecordType } from '../../dto/shape'

import type { Row } from './model'

/** TypeORM's object form of `select` for a list of columns. */
export const selectOf = (columns: string[]): Record<string, true> => Object.fromEntries(columns.map((c) => [c, true]))

/** Parameters of SQL IN lists are chunked well below every database's limit. */
const CHUNK = 500

function chunks<T>(items: T[]): T[][] {
  const out: T[][] = []
  for (let i = 0; i < items.length; i += CHUNK) out.push(items.slice(i, i + CHUNK))
  return out
}

/** Rows of `entity` in workspace `ws` whose `column` is one of `values`, in one query per chunk. */
export async function findIn(m: EntityManager, entity: EntityTarget<any>, ws: string, column: string, values: string[], extra: object = {}): Promise<Row[]> {
  const out: Row[] = []
  for (const part of chunks([...new Set(values)])) {
    out.push(...await m.getRepository(entity).find({ where: { workspaceId: ws, [column]: In(part) } as any, ...extra }))
  }
  return out
}

/** Column types a driver stores and returns as they are in an entity: no conversion either way. */
const PLAIN = new Set<unknown>(['varchar', 'character varying', 'text', 'integer', 'int', String, Number])
const isPlainColumn = (c: ColumnMetadata): boolean => !c.transformer && PLAIN.has(c.type)

/**
 * Rows of `entity` in workspace `ws` whose `key` column is one of `values`, as plain objects of
 * `columns` (property names, as an entity has them), in one query: lean reads for the batched
 * loads below, without entity hydration (which cost more than the queries themselves). The
 * values go in one parameter (inList), so the text is the same whatever their number.
 */
export async function leanRowsIn(m: EntityManager, entity: EntityTarget<any>, ws: string, columns: string[], key: string, values: string[], order: string[] = []): Promise<Row[]> {
  if (!values.length) return []
  const dialect = dialectOfManager(m)
  const metadata = m.connection.getMetadata(entity)
  const column = (property: string): ColumnMetadata => {
    const found = metadata.findColumnWithPropertyPath(property)
    if (!found) throw new Error(`${metadata.tableName} has no column for ${property}`)
    return found
  }
  const select = columns.map((c) => `${quoted(column(c).databaseName)} AS ${quoted(c)}`).join(', ')
  const orderBy = order.length ? ` ORDER BY ${order.map((o) => quoted(column(o).databaseName)).join(', ')}` : ''
  const sql = `SELECT ${select} FROM ${quoted(metadata.tableName)} WHERE ${quoted(column('workspaceId').databaseName)} = ? AND ${inList(dialect, quoted(column(key).databaseName))}${orderBy}`
  const rows: Row[] = await m.query(placeholders(dialect, sql), [ws, listParameter(dialect, [...new Set(values)])])
  const convert = columns.map(column).filter((c) => !isPlainColumn(c))
  if (convert.length) {
    const driver = m.connection.driver
    for (const row of rows) for (const c of convert) row[c.propertyName] = driver.prepareHydratedValue(row[c.propertyName], c)
  }
  return rows
}

/** Property names of a child table's columns but the workspace (the read is scoped to it already). */
const childColumns = new Map<EntityTarget<any>, string[]>()
function columnsOf(m: EntityManager, entity: EntityTarget<any>): string[] {
  let columns = childColumns.get(entity)
  if (!columns) {
    columns = m.connection.getMetadata(entity).columns.map((c) => c.propertyPath).filter((c) => c !== 'workspaceId')
    childColumns.set(entity, columns)
  }
  return columns
}

/**
 * Runs `fn` on one connection. A manager without a query runner takes one per query (from the
 * pool, on PostgreSQL), which cost more than the many small queries of a view themselves.
 */
export async function onOneConnection<T>(m: EntityManager, fn: (m: EntityManager) => Promise<T>): Promise<T> {
  if (m.queryRunner) return fn(m)
  const runner = m.connection.createQueryRunner()
  try {
    return await fn(runner.manager)
  } finally {
    await runner.release()
  }
}

/** Summaries (id, name, code, …) of referenced records, one query per kind of record. */
export async function loadSummaries(m: EntityManager, ws: string, wanted: Map<RecordType, Set<string>>): Promise<Resolver> {
  const found = new Map<RecordType, Map<string, Row>>()
  for (const [type, idSet] of wanted) {
    const byId = new Map<string, Row>()
    const columns = SUMMARY_COLUMNS[type]
    for (const row of await leanRowsIn(m, ENTITY_OF[type], ws, columns, 'id', [...idSet])) {
      const summary: Row = {}
      for (const c of columns) summary[c] = row[c] ?? null
      byId.set(row.id, summary)
    }
    found.set(type, byId)
  }
  return { ref: (type, id) => (id ? found.get(type)?.get(id) ?? null : null) }
}

/** An owner's rows of each child table, in position order. */
export type ChildRows = Map<EntityTarget<any>, Row[]>

/**
 * Turns stored rows into what clients read: one query per child table for the whole batch, one
 * query per kind of referenced record, then assembled in memory. Never a join across several
 * lists, which multiplies rows.
 */
export async function toViews(m: EntityManager, ws: string, def: ResourceDef, rows: Row[]): Promise<Row[]> {
  if (!rows.length) return []
  if (!m.queryRunner) return onOneConnection(m, (one) => toViews(one, ws, def, rows))
  const ownerIds = rows.map((r) => r.id)
  const childrenByOwner = new Map<string, ChildRows>(ownerIds.map((id) => [id, new Map()]))
  for (const child of def.children) {
    // in the primary key's order, so the database reads the rows already sorted for each owner
    const order = child.nested ? ['ownerId', 'parentPosition', 'position'] : ['ownerId', 'position']
    for (const c of await leanRowsIn(m, child.entity, ws, columnsOf(m, child.entity), 'ownerId', ownerIds, order)) {
      const perOwner = childrenByOwner.get(c.ownerId)!
      if (!perOwner.has(child.entity)) perOwner.set(child.entity, [])
      perOwner.get(child.entity)!.push(c)
    }
  }
  return assembleViews(m, ws, def, rows, childrenByOwner)
}

/**
 * Views of records whose stored row and child rows are at hand (read by toViews, or just written
 * by storeMany): the references they make resolved with one query per kind of record.
 */
export async function assembleViews(m: EntityManager, ws: string, def: ResourceDef, rows: Row[], childrenByOwner: Map<string, ChildRows>): Promise<Row[]> {
  const wanted = new Map<RecordType, Set<string>>()
  const want = (type: RecordType, id: string | null | undefined): void => {
    if (!id) return
    if (!wanted.has(type)) wanted.set(type, new Set())
    wanted.get(type)!.add(id)
  }
  for (const ref of def.refs) for (const r of rows) want(ref.type, r[ref.column])
  for (const child of def.children) {
    for (const r of rows) for (const c of childrenByOwner.get(r.id)?.get(child.entity) ?? []) for (const ref of child.refs) want(ref.type, c[ref.column])
  }
  const resolver = await loadSummaries(m, ws, wanted)
  return rows.map((r) => def.view(r, childrenByOwner.get(r.id) ?? new Map(), resolver))
}

export async function findRow(m: EntityManager, ws: string, def: ResourceDef, id: string): Promise<Row | null> {
  return m.getRepository(def.entity).findOne({ where: { workspaceId: ws, id } as any })
}

export async function getView(m: EntityManager, ws: string, def: ResourceDef, id: string): Promise<Row | null> {
  return onOneConnection(m, async (one) => {
    const row = await findRow(one, ws, def, id)
    return row ? (await toViews(one, ws, def, [row]))[0] : null
  })
}

export interface ListQuery {
  limit: number
  offset: number
  sort?: string
  q?: string
  [filter: string]: unknown
}

/**
 * The pattern for a search text: folded as the stored search text is (NFC, case folded: any
 * script, any normalisation form the client typed), `%`, `_` and `\` matching themselves.
 */
const likePattern = (q: string): string => `%${searchFold(q).replace(/[\\%_]/g, (c) => '\\' + c)}%`

/** The conditions of a list query (the workspace, its filters, its search) with their parameters, `r` the main table. */
function listConditions(db: Database, def: ResourceDef, ws: string, query: ListQuery): { sql: string; params: unknown[] } {
  const metadata = db.dataSource.getMetadata(def.entity)
  const conditions = ['r.workspace_id = ?']
  const params: unknown[] = [ws]
  for (const f of def.filters) {
    const value = query[f.param]
    if (value === undefined) continue
    if (f.column) {
      conditions.push(`r.${quoted(columnName(metadata, f.column))} = ?`)
      params.push(value)
    } else if (f.child) {
      const child = db.dataSource.getMetadata(f.child.entity)
      conditions.push(`r.id IN (SELECT c.owner_id FROM ${quoted(child.tableName)} c WHERE c.workspace_id = ? AND c.${quoted(columnName(child, f.child.column))} = ?)`)
      params.push(ws, value)
    }
  }
  if (query.q) {
    conditions.push(`r.${quoted(columnName(metadata, 'searchText'))} LIKE ? ESCAPE '\\'`)
    params.push(likePattern(query.q))
  }
  return { sql: conditions.join(' AND '), params }
}

const columnName = (metadata: EntityMetadata, property: string): string => {
  const found = metadata.findColumnWithPropertyPath(property)
  if (!found) throw new Error(`${metadata.tableName} has no column for ${property}`)
  return found.databaseName
}

const ITEMS = Buffer.from('{"items":[')
const COMMA = Buffer.from(',')

/**
 * A page of stored views as the JSON the list answers with (the List schema's order: items,
 * total, limit, offset), from ONE statement, its own snapshot on both databases (no transaction,
 * no round trips for BEGIN and COMMIT): the count beside the page's stored views. PostgreSQL joins
 * the page's views server-side (string_agg, in the page's order), so the driver parses one row, not
 * fifty; SQLite hands over the views' bytes (see viewBytes), which are sent without being decoded.
 */
export async function listPage(db: Database, ws: string, def: ResourceDef, query: ListQuery): Promise<Buffer | string> {
  const sort = query.sort ?? 'createdAt'
  const desc = sort.startsWith('-')
  const field = desc ? sort.slice(1) : sort
  // names in the register's collation (src/register/wording/collation.ts), through their stored key
  const metadata = db.dataSource.getMetadata(def.entity)
  const column = quoted(columnName(metadata, field === 'name' ? 'sortKey' : field))
  const orderBy = (sortedBy: string, id: string): string => `${sortedBy} ${desc ? 'DESC' : 'ASC'}, ${id} ASC`
  const table = quoted(metadata.tableName)
  const where = listConditions(db, def, ws, query)
  const params = [...where.params, ...where.params, query.limit, query.offset]
  const page = `SELECT ${viewBytes(db.dialect, 'r.resolved_view')} AS view, r.${column} AS s, r.id AS id FROM ${table} r WHERE ${where.sql} ORDER BY ${orderBy(`r.${column}`, 'r.id')} LIMIT ? OFFSET ?`
  const count = `SELECT count(*) AS total FROM ${table} r WHERE ${where.sql}`
  const tail = (total: unknown): string => `],"total":${Number(total)},"limit":${Number(query.limit)},"offset":${Number(query.offset)}}`
  if (db.dialect === 'postgres') {
    const [row] = await db.prepared<{ total: string; items: string | null }>(
      `SELECT (${count}) AS total, (SELECT string_agg(p.view, ',' ORDER BY ${orderBy('p.s', 'p.id')}) FROM (${page}) p) AS items`, params)
    return `{"items":[${row.items ?? ''}${tail(row.total)}`
  }
  const rows = await db.prepared<{ total: number; view: Buffer | null }>(
    `SELECT n.total AS total, p.view AS view FROM (${count}) n LEFT JOIN (${page}) p ON 1 ORDER BY ${orderBy('p.s', 'p.id')}`, params)
  const parts: Buffer[] = [ITEMS]
  for (const r of rows) {
    if (r.view === null) continue
    if (parts.length > 1) parts.push(COMMA)
    parts.push(r.view)
  }
  parts.push(Buffer.from(tail(rows[0].total)))
  return Buffer.concat(parts)
}
