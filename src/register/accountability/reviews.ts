import { Brackets } from 'typeorm'
import { Database } from '../../db/database'
import { ActivityJointController, ProcessingActivity } from '../../../entities'
import { loadSummaries } from '../records/reads'
import type { RecordType } from '../../dto/shape'

import type { Row } from '../records/model'

export type ReviewReason = 'never-reviewed' | 'overdue' | 'no-next-review'

/**
 * Activities (not retired) that need a review: never reviewed, past their next review date, or
 * with no next review planned. Most overdue first, then by name in the register's collation.
 */
export async function reviewsDue(db: Database, ws: string, q: { controllerId?: string; limit: number; offset: number }, today: string) {
  return db.read(async (m) => {
    const qb = m.getRepository(ProcessingActivity).createQueryBuilder('r')
      .where('r.workspaceId = :ws', { ws })
      .andWhere("r.status <> 'retired'")
      .andWhere(new Brackets((b) => b.where('r.lastReviewedAt IS NULL').orWhere('r.nextReviewAt IS NULL').orWhere('r.nextReviewAt < :today', { today })))
    if (q.controllerId) {
      // a controller's reviews include the activities it controls jointly (Art. 26), as its record does
      const joint = qb.subQuery().select('j.ownerId').from(ActivityJointController, 'j')
        .where('j.workspaceId = :ws').andWhere('j.controllerId = :controllerId').getQuery()
      qb.andWhere(new Brackets((b) => b.where('r.controllerId = :controllerId').orWhere(`r.id IN ${joint}`)), { controllerId: q.controllerId })
    }
    const total = await qb.getCount()
    const rows = await qb.orderBy('r.nextReviewAt', 'ASC').addOrderBy('r.sortKey', 'ASC').addOrderBy('r.id', 'ASC').offset(q.offset).limit(q.limit).getMany()
    const resolve = await loadSummaries(m, ws, new Map<RecordType, Set<string>>([['controller', new Set(rows.map((r) => r.controllerId))]]))
    const items = rows.map((r): Row => ({
      activity: { id: r.id, name: r.name, role: r.role, status: r.status },
      controller: resolve.ref('controller', r.controllerId),
      lastReviewedAt: r.lastReviewedAt,
      lastReviewedBy: r.lastReviewedBy,
      nextReviewAt: r.nextReviewAt,
      reason: (r.lastReviewedAt === null ? 'never-reviewed' : r.nextReviewAt === null ? 'no-next-review' : 'overdue') as ReviewReason,
    }))
    return { items, total, limit: q.limit, offset: q.offset }
  })
}
