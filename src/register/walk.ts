import { EntityManager } from 'typeorm'
import { ReadSeries } from '../db/database'
import { processingActivities, ResourceDef } from './model'
import { Condition, storedViewPage, storedViewsIn } from './stored-views'

type Row = Record<string, any>

/** Activities per read of stored views. */
export const WALK_PAGE_SIZE = 200

export interface ActivityScope {
  /** Only activities this controller keeps or is a joint controller of. */
  controllerId?: string
  /** Only activities with one of these statuses. */
  statuses?: readonly string[]
  role?: 'controller' | 'processor'
}

/**
 * The activities in scope as their stored views, a page at a time, each page in its own read of
 * the series. Pages walk the activities by id (keyset), so none is skipped or repeated.
 */
export async function* activityPages(series: ReadSeries, ws: string, scope: ActivityScope): AsyncGenerator<Row[]> {
  const conditions: Condition[] = []
  if (scope.statuses) {
    if (!scope.statuses.length) return
    conditions.push({ sql: `status IN (${scope.statuses.map(() => '?').join(', ')})`, params: [...scope.statuses] })
  }
  if (scope.role) conditions.push({ sql: 'role = ?', params: [scope.role] })
  if (scope.controllerId) {
    conditions.push({
      sql: '(controller_id = ? OR id IN (SELECT owner_id FROM activity_joint_controllers WHERE workspace_id = ? AND controller_id = ?))',
      params: [scope.controllerId, ws, scope.controllerId],
    })
  }
  let after = ''
  for (;;) {
    const page = await series.read((m) => storedViewPage(m, ws, processingActivities, after, WALK_PAGE_SIZE, conditions))
    if (page.length) yield page.map((p) => JSON.parse(p.json))
    if (page.length < WALK_PAGE_SIZE) return
    after = page[page.length - 1].id
  }
}

/** Stored views of records by id (controllers, processors): a query per chunk of ids, not per record. */
export async function viewsById(m: EntityManager, ws: string, def: ResourceDef, ids: Iterable<string>): Promise<Map<string, Row>> {
  const wanted = [...new Set(ids)]
  if (!wanted.length) return new Map()
  return new Map((await storedViewsIn(m, ws, def, wanted)).map((json) => { const v = JSON.parse(json); return [v.id, v] }))
}
