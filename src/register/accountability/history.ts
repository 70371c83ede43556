import { EntityManager } from 'typeorm'
import { HistoryCheckpoint, HistoryEntry, RegisterVersion } from '../../../entities'
import { HistoryKeys, verifyCheckpoint } from './checkpoints'
import { createDataSource } from '../../db/data-source'
import { Database } from '../../db/database'
import { RecordType, RESOURCE_OF } from '../records/model'
import { rebuildAllViews } from '../records/stored-views'
import type { Principal } from '../../auth/principal'
import {
  ChainedContent, chainEntries, ChainWalk, Operation, RESTORE_RECORD_TYPE, restoreOf, VERSION_RECORD_TYPE, VersionOperation, versionRecordId,
} from '../records/journal'

import type { Row } from '../records/model'

// --- the version lifecycle in history ----------------------------------------------------------

/**
 * Appends what happened to register versions, in order, chained like every other entry: who, when,
 * the version's number (as the entry's version), the operation, and the version as
 * GET /register/versions/{number} reads it afterwards (the approval note or rejection reason with it).
 */
export async function appendVersionHistory(m: EntityManager, who: Principal, at: string, entries: { operation: VersionOperation; version: Row }[]): Promise<void> {
  const rows = await chainEntries(m, who.ws, entries.map(({ operation, version }) => ({
    workspaceId: who.ws, recordType: VERSION_RECORD_TYPE, recordId: versionRecordId(version.contentHash), version: version.number,
    operation, actor: who.sub, at, state: JSON.stringify(version),
  })))
  if (rows.length) await m.createQueryBuilder().insert().into(HistoryEntry).values(rows).execute()
}

/** The workspace's whole history, oldest first, a page at a time, as stored (state as its JSON text). */
export async function* historyPages(db: Database, ws: string): AsyncGenerator<HistoryEntry[]> {
  const series = await db.snapshot()
  try {
    for (let after = 0; ;) {
      const rows = await series.read((m) => m.getRepository(HistoryEntry).createQueryBuilder('h')
        .where('h.workspaceId = :ws AND h.seq > :after', { ws, after }).orderBy('h.seq', 'ASC').limit(VERIFY_PAGE).getMany())
      if (rows.length) yield rows
      if (rows.length < VERIFY_PAGE) return
      after = rows[rows.length - 1].seq
    }
  } finally {
    await series.close()
  }
}

export interface BrokenEntry {
  seq: number
  recordType: string
  recordId: string
  version: number
  at: string
  reason: string
}

export interface ChainVerification {
  valid: boolean
  /** Entries checked: the workspace's whole history. */
  entries: number
  /** The latest entry's hash: what a version records as its historyHead. */
  head: string | null
  /** The first entry whose hash does not follow from the one before and its own content. */
  firstBroken: BrokenEntry | null
  /** Register versions whose historyHead is no longer in the chain: entries up to it were removed. */
  versionsWithoutHead: number[]
  /** Signed checkpoints checked: each signature verifies and its head is the entry it names. */
  checkpoints: number
}

const VERIFY_PAGE = 1000

/**
 * Recomputes the workspace's chain from its first entry (on one snapshot where the database has
 * one). An entry changed, removed or inserted breaks the chain at it or at the entry after it;
 * entries after a break are checked against their own predecessors, so only the first is named.
 * The latest entries removed leave no break behind them, but a version frozen after them still
 * records its historyHead, which is then missing from the chain.
 */
export async function verifyHistory(db: Database, ws: string, keys?: HistoryKeys): Promise<ChainVerification> {
  const series = await db.snapshot()
  const result: ChainVerification = { valid: true, entries: 0, head: null, firstBroken: null, versionsWithoutHead: [], checkpoints: 0 }
  try {
    // what the signed checkpoints say the chain is: entry position (from 0) → the head signed there.
    // Someone who rewrote an entry and every hash after it (past the triggers) cannot sign the new heads.
    const signed = new Map<number, { head: string; seq: number; ok: boolean }>()
    if (keys) {
      for (const c of await series.read((m) => m.getRepository(HistoryCheckpoint).find({ where: { workspaceId: ws }, order: { id: 'ASC' } }))) {
        const checked = await verifyCheckpoint(c.jws, keys.trusted)
        const ok = checked.ok && checked.claims.seq === c.seq && checked.claims.head === c.head
        signed.set(c.base + c.seq - 1, { head: c.head, seq: c.seq, ok })
        result.checkpoints++
      }
    }
    const heads = new Map<string, number[]>()
    for (const v of await series.read((m) => m.getRepository(RegisterVersion).find({ where: { workspaceId: ws }, select: { number: true, historyHead: true }, order: { number: 'ASC' } }))) {
      if (v.historyHead) heads.set(v.historyHead, [...(heads.get(v.historyHead) ?? []), v.number])
    }
    const walk = new ChainWalk()
    // the entries a break may blame: the one walked and the restore anchors still open (a walk blames no other)
    const blamable = new Map<number, HistoryEntry>()
    const blame = (): void => {
      if (!walk.broken || result.firstBroken) return
      const h = blamable.get(walk.broken.index)!
      result.valid = false
      result.firstBroken = { seq: h.seq, recordType: h.recordType, recordId: h.recordId, version: h.version, at: h.at, reason: walk.broken.reason }
    }
    let after = 0
    let last: HistoryEntry | null = null
    for (;;) {
      const rows = await series.read((m) => m.getRepository(HistoryEntry).createQueryBuilder('h')
        .where('h.workspaceId = :ws AND h.seq > :after', { ws, after }).orderBy('h.seq', 'ASC').limit(VERIFY_PAGE).getMany())
      for (const h of rows) {
        blamable.set(result.entries, h)
        walk.step(h)
        blame()
        const checkpoint = signed.get(result.entries)
        if (checkpoint && !result.firstBroken && (!checkpoint.ok || checkpoint.head !== h.hash)) {
          result.valid = false
          result.firstBroken = {
            seq: h.seq, recordType: h.recordType, recordId: h.recordId, version: h.version, at: h.at,
            reason: checkpoint.ok ? `the entry's hash is not the head signed by the checkpoint of entry ${checkpoint.seq}: the chain was rewritten up to here` : 'the checkpoint of this entry does not verify with the service\'s keys',
          }
        }
        signed.delete(result.entries)
        last = h
        if (restoreOf(h) === null) blamable.delete(result.entries)
        if (h.hash) heads.delete(h.hash)
        result.entries++
      }
      if (rows.length < VERIFY_PAGE) break
      after = rows[rows.length - 1].seq
    }
    walk.end()
    blame()
    if (signed.size && !result.firstBroken && last) {
      // checkpoints of entries that are no longer there: the latest entries were removed
      result.valid = false
      const [[, lost]] = [...signed.entries()]
      result.firstBroken = {
        seq: last.seq, recordType: last.recordType, recordId: last.recordId, version: last.version, at: last.at,
        reason: `the chain ends here, but a checkpoint signs entry ${lost.seq}: the entries after this one were removed`,
      }
    }
    result.head = walk.head
    result.versionsWithoutHead = [...heads.values()].flat().sort((a, b) => a - b)
    if (result.versionsWithoutHead.length) result.valid = false
  } finally {
    await series.close()
  }
  return result
}

// --- reading history ---------------------------------------------------------------------------

export interface HistoryQuery {
  recordType?: RecordType | typeof VERSION_RECORD_TYPE
  recordId?: string
  actor?: string
  operation?: Operation | VersionOperation
  from?: string
  to?: string
  limit: number
  offset: number
}

/** An entry as the API answers it: what its hash covers, with the state parsed, its place and its hash. */
export interface HistoryItem extends Omit<ChainedContent, 'state'> {
  seq: number
  state: Row
  hash: string | null
}

const item = (h: HistoryEntry): HistoryItem => ({
  seq: h.seq, recordType: h.recordType, recordId: h.recordId, version: h.version, operation: h.operation, actor: h.actor, at: h.at,
  state: JSON.parse(h.state), hash: h.hash,
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
    // a register version's lifecycle is not a record of the register
    .andWhere(recordType ? 'l.recordType = :recordType' : 'l.recordType NOT IN (:...notRecords)')
    .groupBy('l.recordType').addGroupBy('l.recordId').getQuery()
  qb.where(`h.seq IN ${latestSeq}`, { ws, at, recordType, notRecords: [VERSION_RECORD_TYPE, RESTORE_RECORD_TYPE] })
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
  return scratchRegister(ws, [...states.values()].filter((s) => s.operation !== 'delete'))
}

/**
 * A throwaway in-memory SQLite register holding exactly the given records (each as a client
 * reads it), on which every read and export works unchanged. The caller closes it.
 */
export async function scratchRegister(ws: string, records: Iterable<{ recordType: string; state: Row }>): Promise<Database> {
  const scratch = createDataSource({ databaseUrl: 'sqlite::memory:' })
  await scratch.initialize()
  try {
    await scratch.runMigrations()
    // rows go in kind by kind; references between them are whole again once all are in
    await scratch.query('PRAGMA foreign_keys = OFF')
    const m = scratch.manager
    for (const { recordType, state } of records) {
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
