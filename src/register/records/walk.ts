import { EntityManager } from 'typeorm'
import { Controller, ProcessorSubProcessor } from '../../../entities'
import { Database, ReadSeries } from '../../db/database'
import { ValidationFailed } from '../../errors'
import { processingActivities, ResourceDef } from './model'
import { findIn, selectOf } from './reads'
import { Condition, storedViewPage, storedViewsIn } from './stored-views'

import type { ProcessingActivity } from '../../generated/view-types'

/** A row of the walk's page: the columns it selects. */
export interface WalkRow {
  id: string
  sort_key: string | null
  resolved_view: string
}

/** Activities per read of stored views. */
export const WALK_PAGE_SIZE = 200

export interface ActivityScope {
  /** Only activities this controller keeps or is a joint controller of. */
  controllerId?: string
  /** Only activities with one of these statuses. */
  statuses?: readonly string[]
  role?: 'controller' | 'processor'
}

/** A stored view as the walk reads it: the record's id and the bytes GET answers with. */
export interface StoredActivity {
  id: string
  json: string
  /** The view itself, when the source composed it (history): what parsing `json` would give, without parsing it. */
  view?: unknown
}

/** What storedActivityPages selects of a scope, as conditions on the activities' table (null: nothing is in scope). */
export function scopeConditions(ws: string, scope: ActivityScope): Condition[] | null {
  const conditions: Condition[] = []
  if (scope.statuses) {
    if (!scope.statuses.length) return null
    conditions.push({ sql: `status IN (${scope.statuses.map(() => '?').join(', ')})`, params: [...scope.statuses] })
  }
  if (scope.role) conditions.push({ sql: 'role = ?', params: [scope.role] })
  if (scope.controllerId) {
    conditions.push({
      sql: '(controller_id = ? OR id IN (SELECT owner_id FROM activity_joint_controllers WHERE workspace_id = ? AND controller_id = ?))',
      params: [scope.controllerId, ws, scope.controllerId],
    })
  }
  return conditions
}

/**
 * The one walk over the register's activities, shared by every per-controller view of it (export,
 * workbook, report, notice, findings, data flow): the activities in scope as their stored views,
 * a page at a time, each page in its own read of the series, in the register's collation by name
 * (the stored sort_key: src/register/wording/collation.ts), ties by id. Pages are read by keyset on
 * (sort_key, id), so none is skipped or repeated. A controller's scope holds the activities it
 * keeps and those it controls jointly (Art. 26, Art. 30(1)(a)).
 */
export async function* storedActivityPages(series: ReadSeries, ws: string, scope: ActivityScope, pageSize = WALK_PAGE_SIZE): AsyncGenerator<StoredActivity[]> {
  const conditions = scopeConditions(ws, scope)
  if (!conditions) return
  let after: { key: string; id: string } | null = null
  for (;;) {
    const from: { key: string; id: string } | null = after
    const rows: WalkRow[] = await series.read((m) => pageByName(m, ws, from, pageSize, conditions))
    const page = rows.map((p) => ({ id: p.id, json: p.resolved_view }))
    const last: WalkRow | undefined = rows[rows.length - 1]
    if (last) after = { key: last.sort_key ?? '', id: last.id }
    // The driver's result keeps this array (pg: the query's Result, by then in the old generation).
    // V8's young-generation GC keeps alive whatever an old object points to, dead or not, so unless
    // it is emptied every page's views are promoted and pile up until a full GC (an export of
    // 50,000 activities on PostgreSQL: 150 MB over the idle process).
    rows.length = 0
    if (page.length) yield page
    if (page.length < pageSize) return
  }
}

/** The activities in scope as parsed views, in the walk's order (storedActivityPages). */
export async function* activityPages(series: ReadSeries, ws: string, scope: ActivityScope): AsyncGenerator<ProcessingActivity[]> {
  for await (const page of storedActivityPages(series, ws, scope)) yield page.map((p) => JSON.parse(p.json) as ProcessingActivity)
}

/** A page of activities after (key, id) in (sort_key, id) order; the (workspace_id, sort_key, id) index serves it. */
export async function pageByName(m: EntityManager, ws: string, after: { key: string; id: string } | null, limit: number, conditions: Condition[]): Promise<WalkRow[]> {
  const keyset: Condition[] = after ? [{ sql: '(sort_key, id) > (?, ?)', params: [after.key, after.id] }] : []
  const where = ['workspace_id = ?', ...keyset.map((c) => c.sql), ...conditions.map((c) => c.sql)].join(' AND ')
  let sql = `SELECT id, sort_key, resolved_view FROM "processing_activities" WHERE ${where} ORDER BY sort_key, id LIMIT ${Number(limit)}`
  if (m.connection.driver.options.type === 'postgres') {
    let i = 0
    sql = sql.replace(/\?/g, () => `$${++i}`)
  }
  return m.query(sql, [ws, ...keyset.flatMap((c) => c.params), ...conditions.flatMap((c) => c.params)])
}

/** Stored views of records by id (controllers, processors): a query per chunk of ids, not per record. */
export async function viewsById<V extends { id: string }>(m: EntityManager, ws: string, def: ResourceDef, ids: Iterable<string>): Promise<Map<string, V>> {
  const wanted = [...new Set(ids)]
  if (!wanted.length) return new Map()
  // a stored view is its schema's shape (test/read-model.test.ts): the type is asserted where it is parsed
  return new Map((await storedViewsIn(m, ws, def, wanted)).map((json) => { const v = JSON.parse(json) as V; return [v.id, v] }))
}

// --- where the views come from -------------------------------------------------------------------

/**
 * The register's views as the export reads them, whichever register it is: the live one (its
 * stored views, liveRegister), the register as it stood at a moment (history's states,
 * accountability/history.ts) or a frozen version (its document, accountability/version-files.ts).
 * The export's writers (JSON, CSV, workbook) read only through this, so the three registers are
 * written by the same code and cannot differ in layout, order or cells.
 */
export interface RegisterViews {
  /** The activities in scope as view bytes, a page at a time, in the walk's order (names in the register's collation, ties by id). */
  activityPages(scope: ActivityScope, pageSize?: number): AsyncGenerator<StoredActivity[]>
  /** Views of records of one kind by id, in id order (ids that are not records left out). */
  viewsIn(def: ResourceDef, ids: string[]): Promise<string[]>
  /** Every record of one kind, in id order, a page at a time. */
  viewPages(def: ResourceDef, pageSize: number): AsyncGenerator<StoredActivity[]>
  /** The direct sub-processors of these processors. */
  subProcessorIds(processorIds: string[]): Promise<string[]>
  /** Ends the reads (the snapshot). */
  close(): Promise<void>
  /**
   * Activities per page for a writer whose output does not depend on the pages (the JSON document),
   * when the source makes much garbage per view (history composes each): smaller pages die young.
   */
  pageSize?: number
}

/** A register to export: its workspace, a way to read it (one snapshot per opening) and its controllers. */
export interface RegisterSource {
  ws: string
  open(): Promise<RegisterViews>
  hasController(id: string): Promise<boolean>
}

/** The live register: its stored views, each opening one snapshot. */
export function liveRegister(db: Database, ws: string): RegisterSource {
  return {
    ws,
    async open(): Promise<RegisterViews> {
      const series = await db.snapshot()
      return {
        activityPages: (scope, pageSize) => storedActivityPages(series, ws, scope, pageSize),
        viewsIn: (def, ids) => series.read((m) => storedViewsIn(m, ws, def, ids)),
        async* viewPages(def, pageSize) {
          for (let after = ''; ;) {
            const page = await series.read((m) => storedViewPage(m, ws, def, after, pageSize))
            if (page.length) yield page
            if (page.length < pageSize) return
            after = page[page.length - 1].id
          }
        },
        subProcessorIds: async (ids) => (await series.read((m) => findIn(m, ProcessorSubProcessor, ws, 'ownerId', ids, { select: selectOf(['subProcessorId']) })))
          .map((r) => r.subProcessorId as string),
        close: () => series.close(),
      }
    },
    async hasController(id) {
      return Boolean(await db.read((m) => m.getRepository(Controller).findOne({ where: { workspaceId: ws, id }, select: selectOf(['id']) })))
    },
  }
}

/** Parsed views of records by id (controllers, processors), through a register's views. */
export async function parsedViewsIn<V extends { id: string }>(views: RegisterViews, def: ResourceDef, ids: Iterable<string>): Promise<Map<string, V>> {
  const wanted = [...new Set(ids)]
  if (!wanted.length) return new Map()
  return new Map((await views.viewsIn(def, wanted)).map((json) => { const v = JSON.parse(json) as V; return [v.id, v] }))
}

/** An unknown controllerId in a per-controller view of the register is a mistake in the request: 400 naming it. */
export async function checkControllerFilter(register: Database | RegisterSource, ws: string, controllerId: string | undefined): Promise<void> {
  if (!controllerId) return
  const source = 'hasController' in register ? register : liveRegister(register, ws)
  if (!await source.hasController(controllerId)) throw new ValidationFailed([{ field: 'controllerId', message: `no controller with id ${controllerId} in this workspace` }])
}
