import { EntityManager } from 'typeorm'
import { HistoryEntry } from '../../entities'
import { createDataSource } from '../db/data-source'
import { Database } from '../db/database'
import { RecordType, RESOURCE_OF } from './model'
import { rebuildAllViews } from './stored-views'
import type { Principal } from './writes'

type Row = Record<string, any>

export type Operation = 'create' | 'update' | 'delete'

/** Appends one entry: who, when, which record and version, and its state (before it, for a delete). */
export async function appendHistory(m: EntityManager, who: Principal, type: RecordType, view: Row, operation: Operation, at: string): Promise<void> {
  await m.createQueryBuilder().insert().into(HistoryEntry).values({
    workspaceId: who.ws, recordType: type, recordId: view.id, version: view.version, operation, actor: who.sub, at,
    state: JSON.stringify(view),
  }).execute()
}

export interface HistoryQuery {
  recordType?: RecordType
  recordId?: string
  actor?: string
  operation?: Operation
  from?: string
  to?: string
  limit: number
  offset: number
}

export interface HistoryItem {
  seq: number
  recordType: string
  recordId: string
  version: number
  operation: string
  actor: string
  at: string
  state: Row
}

const item = (h: HistoryEntry): HistoryItem => ({
  seq: h.seq, recordType: h.recordType, recordId: h.recordId, version: h.version, operation: h.operation, actor: h.actor, at: h.at,
  state: JSON.parse(h.state),
})

/** History entries of a workspace, oldest first, filtered by record, actor, operation and time (inclusive). */
export async function listHistory(m: EntityManager, ws: string, q: HistoryQuery): Promise<{ items: HistoryItem[]; total: number; limit: number; offset: number }> {
  const qb = m.getRepository(HistoryEntry).createQueryBuilder('h').where('h.workspaceId = :ws', { ws })
  if (q.recordType) qb.andWhere('h.recordType = :recordType', { recordType: q.recordType })
  if (q.recordId) qb.andWhere('h.recordId = :recordId', { recordId: q.recordId })
  if (q.actor) qb.andWhere('h.actor = :actor', { actor: q.actor })
  if (q.operation) qb.andWhere('h.operation = :operation', { operation: q.operation })
  if (q.from) qb.andWhere('h.at >= :from', { from: q.from })
  if (q.to) qb.andWhere('h.at <= :to', { to: q.to })
  const total = await qb.getCount()
  const rows = await qb.orderBy('h.seq', 'ASC').offset(q.offset).limit(q.limit).getMany()
  return { items: rows.map(item), total, limit: q.limit, offset: q.offset }
}

/**
 * The latest state of every record of the workspace (of one kind, optionally) at or before `at`,
 * as (type, id) → entry; a record whose latest entry is a delete did not exist then.
 */
export async function statesAt(m: EntityManager, ws: string, at: string, recordType?: RecordType): Promise<Map<string, HistoryItem>> {
  const qb = m.getRepository(HistoryEntry).createQueryBuilder('h')
  const latestSeq = qb.subQuery().select('MAX(l.seq)').from(HistoryEntry, 'l')
    .where('l.workspaceId = :ws').andWhere('l.at <= :at')
    .andWhere(recordType ? 'l.recordType = :recordType' : '1 = 1')
    .groupBy('l.recordType').addGroupBy('l.recordId').getQuery()
  qb.where(`h.seq IN ${latestSeq}`, { ws, at, recordType })
  const latest = new Map<string, HistoryItem>()
  for (const h of await qb.orderBy('h.seq', 'ASC').getMany()) latest.set(`${h.recordType}:${h.recordId}`, item(h))
  return latest
}

/**
 * The register as it stood at `at`, rebuilt from history into a throwaway in-memory SQLite
 * database, so that every read and export works on it unchanged: the export "as of" a moment is
 * the export that would have been taken at that moment. The caller closes it.
 */
export async function registerAsOf(db: Database, ws: string, at: string): Promise<Database> {
  const states = await db.read((m) => statesAt(m, ws, at))
  const scratch = createDataSource({ databaseUrl: 'sqlite::memory:' })
  await scratch.initialize()
  try {
    await scratch.runMigrations()
    // rows go in kind by kind; references between them are whole again once all are in
    await scratch.query('PRAGMA foreign_keys = OFF')
    const m = scratch.manager
    for (const { recordType, state, operation } of states.values()) {
      if (operation === 'delete') continue
      const def = RESOURCE_OF[recordType as RecordType]
      const write = def.toWrite(state)
      await m.createQueryBuilder().insert().into(def.entity).values({
        workspaceId: ws, id: state.id, createdAt: state.createdAt, updatedAt: state.updatedAt, version: state.version,
        ...def.insertDefaults, ...def.columns(write), ...def.storedExtras?.(state),
      }).execute()
      for (const child of def.children) {
        const rows = child.rows(write).map((r) => ({ workspaceId: ws, ownerId: state.id, ...r }))
        for (let i = 0; i < rows.length; i += 200) await m.createQueryBuilder().insert().into(child.entity).values(rows.slice(i, i + 200)).execute()
      }
    }
    await scratch.query('PRAGMA foreign_keys = ON')
    await rebuildAllViews(m, ws)
  } catch (err) {
    await scratch.destroy()
    throw err
  }
  return new Database(scratch, 'sqlite')
}

export interface FieldChange {
  field: string
  before: unknown
  after: unknown
}

export interface ActivityChanges {
  since: string
  until: string
  added: { id: string; name: string; at: string; actor: string }[]
  changed: { id: string; name: string; at: string; actor: string; fields: FieldChange[] }[]
  removed: { id: string; name: string; at: string; actor: string }[]
}

const IGNORED = new Set(['version', 'createdAt', 'updatedAt'])

/** Field-level differences: objects compared key by key (`dpia.status`), lists and values whole. */
export function differences(before: Row, after: Row, prefix = ''): FieldChange[] {
  const out: FieldChange[] = []
  for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
    if (!prefix && IGNORED.has(key)) continue
    const a = before[key] ?? null
    const b = after[key] ?? null
    const field = prefix ? `${prefix}.${key}` : key
    const plain = (v: unknown): boolean => v !== null && typeof v === 'object' && !Array.isArray(v)
    if (plain(a) && plain(b) && !('id' in (a as Row))) out.push(...differences(a as Row, b as Row, field))
    else if (JSON.stringify(a) !== JSON.stringify(b)) out.push({ field, before: a, after: b })
  }
  return out
}

/** Processing activities added, changed (with their field-level differences) and removed between two moments. */
export async function activityChanges(db: Database, ws: string, since: string, until: string): Promise<ActivityChanges> {
  return db.read(async (m) => {
    const [before, after] = [await statesAt(m, ws, since, 'processing-activity'), await statesAt(m, ws, until, 'processing-activity')]
    const result: ActivityChanges = { since, until, added: [], changed: [], removed: [] }
    for (const [key, now] of after) {
      const then = before.get(key)
      const existedThen = then !== undefined && then.operation !== 'delete'
      const existsNow = now.operation !== 'delete'
      const who = { id: now.recordId, name: now.state.name, at: now.at, actor: now.actor }
      if (!existedThen && existsNow) result.added.push(who)
      else if (existedThen && !existsNow) result.removed.push(who)
      else if (existedThen && existsNow && now.seq !== then!.seq) {
        const fields = differences(then!.state, now.state)
        if (fields.length) result.changed.push({ ...who, fields })
      }
    }
    return result
  })
}
