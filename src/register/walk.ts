import { EntityManager } from 'typeorm'
import { ActivityJointController, ProcessingActivity } from '../../entities'
import { ReadSeries } from '../db/database'
import { processingActivities, ResourceDef } from './model'
import { findIn, toViews } from './reads'

type Row = Record<string, any>

/** Activities per read: each page is batch-loaded with toViews (a query per child table, not per record). */
export const WALK_PAGE_SIZE = 200

export interface ActivityScope {
  /** Only activities this controller keeps or is a joint controller of. */
  controllerId?: string
  /** Only activities with one of these statuses. */
  statuses?: readonly string[]
  role?: 'controller' | 'processor'
}

/**
 * The activities in scope as views, a page at a time, each page in its own read of the series.
 * Pages walk the activities by id (keyset), so none is skipped or repeated.
 */
export async function* activityPages(series: ReadSeries, ws: string, scope: ActivityScope): AsyncGenerator<Row[]> {
  let after = ''
  for (;;) {
    const views = await series.read(async (m) => {
      const qb = m.getRepository(ProcessingActivity).createQueryBuilder('a')
        .where('a.workspaceId = :ws', { ws })
        .andWhere('a.id > :after', { after })
      if (scope.statuses) qb.andWhere('a.status IN (:...statuses)', { statuses: [...scope.statuses] })
      if (scope.role) qb.andWhere('a.role = :role', { role: scope.role })
      if (scope.controllerId) {
        const joint = qb.subQuery().select('j.ownerId').from(ActivityJointController, 'j')
          .where('j.workspaceId = :ws').andWhere('j.controllerId = :controllerId').getQuery()
        qb.andWhere(`(a.controllerId = :controllerId OR a.id IN ${joint})`, { controllerId: scope.controllerId })
      }
      const rows = await qb.orderBy('a.id', 'ASC').limit(WALK_PAGE_SIZE).getMany()
      return toViews(m, ws, processingActivities, rows)
    })
    if (views.length) yield views
    if (views.length < WALK_PAGE_SIZE) return
    after = views[views.length - 1].id
  }
}

/** Full views of records by id (controllers, processors): a query per chunk of ids, not per record. */
export async function viewsById(m: EntityManager, ws: string, def: ResourceDef, ids: Iterable<string>): Promise<Map<string, Row>> {
  const wanted = [...new Set(ids)]
  if (!wanted.length) return new Map()
  const rows = await findIn(m, def.entity, ws, 'id', wanted)
  return new Map((await toViews(m, ws, def, rows)).map((v) => [v.id, v]))
}
