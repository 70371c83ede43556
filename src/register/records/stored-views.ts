import DataLoader from 'dataloader'
import fastJson, { Schema } from 'fast-json-stringify'
import { EntityManager } from 'typeorm'
import { Database } from '../../db/database'
import { dialectOfManager, placeholders, quoted, viewBytes } from '../../db/sql'
import { allSchemas } from './view-schemas'
import { ENTITY_OF, referencedFrom, RESOURCE_OF, RESOURCES, ResourceDef, SUMMARY_COLUMNS } from './model'
import type { RecordType } from '../../dto/shape'
import { findIn, toViews } from './reads'

import type { Row } from './model'

/**
 * The stored read model: each record's resolved view, kept in its row (`resolved_view`) as the
 * bytes GET sends, written in the transaction that changes the record, and rewritten for every
 * record whose view shows the changed record's summary. Reads send it as it is: GET one is one
 * indexed read, a list page one query (plus its count), an export a walk over stored views.
 */

/** The options Fastify serialises responses with (src/app.ts): the stored bytes are what it would send. */
export const SERIALIZER_OPTIONS = { ajv: { validateFormats: false } }

const serializers = new Map<string, (view: Row) => string>()
let schemasById: Map<string, Schema> | null = null

/** The schema `$id` and every shared schema it refers to, directly or not. */
function withReferenced(id: string): Record<string, Schema> {
  schemasById ??= new Map(allSchemas().map((s) => [s.$id as string, s as Schema]))
  const out: Record<string, Schema> = {}
  const pending = [id]
  while (pending.length) {
    const next = pending.pop()!
    if (out[next]) continue
    out[next] = schemasById.get(next)!
    for (const m of JSON.stringify(out[next]).matchAll(/"\$ref":"([^"#]+)#/g)) pending.push(m[1])
  }
  return out
}

/** The serialiser of a kind's views, compiled once, with only the schemas it needs (compiling is slow: schema checks). */
function serializerOf(def: ResourceDef): (view: Row) => string {
  let serialise = serializers.get(def.viewSchema)
  if (!serialise) {
    // compileValidators: the validators of its anyOf branches compiled now too, not on the first view
    // that reaches one (ajv compiling them in an export as of a moment held the event loop for 230 ms)
    serialise = fastJson({ $ref: `${def.viewSchema}#` }, { ...SERIALIZER_OPTIONS, compileValidators: true, schema: withReferenced(def.viewSchema) })
    serializers.set(def.viewSchema, serialise)
  }
  return serialise
}

/** A view as the JSON text GET answers with: Fastify's serialiser for the view's response schema. */
export function viewJson(def: ResourceDef, view: Row): string {
  return serializerOf(def)(view)
}

/**
 * Compiles every kind's view serialiser now: the activity's alone held the event loop for over
 * 100 ms when the first view was composed in a request (an export as of a moment, issue 19).
 */
export function compileViewSerializers(): void {
  for (const def of RESOURCES) serializerOf(def)
}

const dialectOf = dialectOfManager
const tableOf = (m: EntityManager, def: ResourceDef): string => m.connection.getMetadata(def.entity).tableName

/** Stores the views of records of one kind (rows already written in this transaction). */
export async function storeViews(m: EntityManager, ws: string, def: ResourceDef, views: Row[]): Promise<void> {
  // with the columns computed from the view (the DPIA screening's outcome), so a filter on them reads the view's answer
  const computed = views.length && def.viewColumns ? Object.keys(def.viewColumns(views[0])) : []
  const metadata = m.connection.getMetadata(def.entity)
  const set = ['resolved_view = ?', ...computed.map((c) => `${quoted(metadata.findColumnWithPropertyPath(c)!.databaseName)} = ?`)].join(', ')
  const sql = placeholders(dialectOf(m), `UPDATE "${tableOf(m, def)}" SET ${set} WHERE workspace_id = ? AND id = ?`)
  for (const view of views) {
    const values = computed.length ? computed.map((c) => def.viewColumns!(view)[c]) : []
    await m.query(sql, [viewJson(def, view), ...values, ws, view.id])
  }
}

/** Views per batch when views are rebuilt from the tables. */
const REBUILD_BATCH = 200

/** Recomputes and stores the views of these records from the tables. */
async function rebuild(m: EntityManager, ws: string, def: ResourceDef, ids: string[]): Promise<void> {
  for (let i = 0; i < ids.length; i += REBUILD_BATCH) {
    const part = ids.slice(i, i + REBUILD_BATCH)
    const rows = await findIn(m, def.entity, ws, 'id', part)
    await storeViews(m, ws, def, await toViews(m, ws, def, rows))
  }
}

/** What another record's view shows of this one: its summary columns. */
export const summaryOf = (type: RecordType, row: Row): string => JSON.stringify(SUMMARY_COLUMNS[type].map((c) => row[c] ?? null))

/**
 * Rewrites the views of every record whose view shows record `id` (renaming a purpose rewrites
 * the activities that resolve it). On PostgreSQL the dependents' rows are locked first, in id
 * order, so that a concurrent write of one of them is either seen whole or waits for this one.
 */
export async function rewriteDependents(m: EntityManager, ws: string, type: RecordType, id: string): Promise<void> {
  const owners = new Map<RecordType, Set<string>>()
  for (const from of referencedFrom(type)) {
    const column = m.connection.getMetadata(from.entity).findColumnWithPropertyPath(from.column)!.databaseName
    const ownerColumn = from.ownerColumn === 'id' ? 'id' : 'owner_id'
    const rows: Row[] = await m.query(placeholders(dialectOf(m),
      `SELECT DISTINCT ${ownerColumn} AS owner FROM "${m.connection.getMetadata(from.entity).tableName}" WHERE workspace_id = ? AND ${column} = ?`), [ws, id])
    for (const r of rows) {
      if (from.ownerType === type && r.owner === id) continue
      if (!owners.has(from.ownerType)) owners.set(from.ownerType, new Set())
      owners.get(from.ownerType)!.add(r.owner)
    }
  }
  for (const [ownerType, idSet] of owners) {
    const def = RESOURCE_OF[ownerType]
    const ids = [...idSet].sort()
    if (dialectOf(m) === 'postgres') {
      await m.query(`SELECT id FROM "${tableOf(m, def)}" WHERE workspace_id = $1 AND id = ANY($2) ORDER BY id FOR UPDATE`, [ws, ids])
    }
    await rebuild(m, ws, def, ids)
  }
}

/** Builds the stored view of every record (of one workspace, or of all): for a migration, or a rebuilt register. */
export async function rebuildAllViews(m: EntityManager, ws?: string): Promise<void> {
  for (const def of RESOURCES) {
    const table = tableOf(m, def)
    const workspaces: string[] = ws !== undefined ? [ws]
      : (await m.query(`SELECT DISTINCT workspace_id AS ws FROM "${table}"`) as Row[]).map((r) => r.ws)
    for (const w of workspaces) {
      let after = ''
      for (;;) {
        const rows: Row[] = await m.query(placeholders(dialectOf(m),
          `SELECT id FROM "${table}" WHERE workspace_id = ? AND id > ? ORDER BY id LIMIT ${REBUILD_BATCH}`), [w, after])
        if (!rows.length) break
        await rebuild(m, w, def, rows.map((r) => r.id))
        after = rows[rows.length - 1].id
      }
    }
  }
}

// --- reads --------------------------------------------------------------------------------------

export interface StoredView {
  version: number
  /** The view's bytes as stored (SQLite hands them over as they are), or its text (PostgreSQL). */
  json: Buffer | string
}

const getOne = new Map<string, string>()

/** The statement of GET one: `ids` one id, or (PostgreSQL, batched) an array of them. */
function getOneStatement(db: Database, def: ResourceDef, batched: boolean): string {
  const key = `${db.dialect} ${def.type} ${batched}`
  let sql = getOne.get(key)
  if (!sql) {
    const table = db.dataSource.getMetadata(ENTITY_OF[def.type]).tableName
    sql = `SELECT id, version, ${viewBytes(db.dialect, 'resolved_view')} AS view FROM ${quoted(table)} WHERE workspace_id = ? AND ${batched ? 'id = ANY(?)' : 'id = ?'}`
    getOne.set(key, sql)
  }
  return sql
}

type StoredRow = { id: string; version: number; view: Buffer | string }
const stored = (row: StoredRow | undefined): StoredView | null => (row ? { version: Number(row.version), json: row.view } : null)

/**
 * PostgreSQL: the GET ones that arrive together (in one turn of the event loop) are read by one
 * statement per kind of record and workspace, `id = ANY(…)`: one round trip, parse and send for
 * all of them, where the round trip is most of a GET one's cost. Still one statement, one
 * snapshot, for each of them.
 */
const batchedReads = new WeakMap<Database, DataLoader<string, StoredView | null>>()

function batchedReader(db: Database): DataLoader<string, StoredView | null> {
  let loader = batchedReads.get(db)
  if (!loader) {
    loader = new DataLoader(async (keys: readonly string[]) => {
      const groups = new Map<string, string[]>()
      for (const key of keys) {
        const at = key.lastIndexOf(' ')
        const group = key.slice(0, at)
        if (!groups.has(group)) groups.set(group, [])
        groups.get(group)!.push(key.slice(at + 1))
      }
      const found = new Map<string, StoredView | null>()
      await Promise.all([...groups].map(async ([group, ids]) => {
        const [type, ws] = [group.slice(0, group.indexOf(' ')), group.slice(group.indexOf(' ') + 1)]
        const rows = await db.prepared<StoredRow>(getOneStatement(db, RESOURCE_OF[type as RecordType], true), [ws, [...new Set(ids)]])
        for (const row of rows) found.set(`${group} ${row.id}`, stored(row))
      }))
      return keys.map((key) => found.get(key) ?? null)
    }, { cache: false, maxBatchSize: 200, batchScheduleFn: (dispatch) => setImmediate(dispatch) })
    batchedReads.set(db, loader)
  }
  return loader
}

/** GET one: the stored view and its version (for the ETag), in one indexed read by a prepared statement. */
export async function readStoredView(db: Database, ws: string, def: ResourceDef, id: string): Promise<StoredView | null> {
  // a workspace has no space (WORKSPACE_PATTERN), nor has a record type or an id
  if (db.dialect === 'postgres') return batchedReader(db).load(`${def.type} ${ws} ${id}`)
  const rows = await db.prepared<StoredRow>(getOneStatement(db, def, false), [ws, id])
  return stored(rows[0])
}

/** Stored views of records by id, as JSON text, in id order (missing ids left out). */
export async function storedViewsIn(m: EntityManager, ws: string, def: ResourceDef, ids: string[]): Promise<string[]> {
  const out: string[] = []
  const table = tableOf(m, def)
  for (let i = 0; i < ids.length; i += 500) {
    const part = [...new Set(ids.slice(i, i + 500))]
    const rows: Row[] = await m.query(placeholders(dialectOf(m),
      `SELECT resolved_view FROM "${table}" WHERE workspace_id = ? AND id IN (${part.map(() => '?').join(', ')}) ORDER BY id`), [ws, ...part])
    for (const r of rows) out.push(r.resolved_view)
  }
  return out
}

/** A condition of a walk over stored views: SQL with `?` placeholders, and their values. */
export interface Condition {
  sql: string
  params: unknown[]
}

/** A page of stored views after id `after`, in id order, on the conditions given. */
export async function storedViewPage(m: EntityManager, ws: string, def: ResourceDef, after: string, limit: number, conditions: Condition[] = []): Promise<{ id: string; json: string }[]> {
  const where = ['workspace_id = ?', 'id > ?', ...conditions.map((c) => c.sql)].join(' AND ')
  const rows: Row[] = await m.query(placeholders(dialectOf(m),
    `SELECT id, resolved_view FROM "${tableOf(m, def)}" WHERE ${where} ORDER BY id LIMIT ${Number(limit)}`),
  [ws, after, ...conditions.flatMap((c) => c.params)])
  return rows.map((r) => ({ id: r.id, json: r.resolved_view }))
}
