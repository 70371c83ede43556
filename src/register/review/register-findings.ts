import { Database } from '../../db/database'
import { registerDate } from '../wording/dates'
import { controllers, processors } from '../records/model'
import { activityPages, viewsById } from '../records/walk'
import { Finding, FindingCollector, FindingList, FindingsQuery, RULES, Severity } from './findings'

import type { Controller, Processor } from '../../generated/view-types'

/**
 * Checks the workspace's register (or one controller's part of it: the activities it keeps or is
 * a joint controller of, and the records they use). Activities are read a page at a time on one
 * snapshot where the database has them; controllers and processors once each, whole.
 */
export async function registerFindings(db: Database, ws: string, query: FindingsQuery, at: Date, timeZone: string): Promise<FindingList> {
  const rules = RULES.filter((r) => (!query.rule || r.id === query.rule) && (!query.severity || r.severity === query.severity))
  const collector = new FindingCollector({ today: registerDate(at, timeZone) }, rules)
  const series = await db.snapshot()
  let items: Finding[]
  try {
    for await (const page of activityPages(series, ws, { controllerId: query.controllerId, statuses: ['draft', 'active'] })) {
      collector.addActivities(page)
    }
    const needed = collector.sharedIds()
    const wantsControllers = rules.some((r) => r.about === 'controller')
    const wantsProcessors = rules.some((r) => r.about === 'processor')
    const full = await series.read(async (m) => ({
      controllers: wantsControllers ? await viewsById<Controller>(m, ws, controllers, needed.controllers) : undefined,
      processors: wantsProcessors ? await viewsById<Processor>(m, ws, processors, needed.processors) : undefined,
    }))
    items = collector.finish(full)
  } finally {
    await series.close()
  }
  const counts: Record<Severity, number> = { high: 0, medium: 0, low: 0 }
  for (const f of items) counts[f.severity]++
  return { items, total: items.length, counts }
}
