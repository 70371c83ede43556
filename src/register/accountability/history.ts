import { EntityManager, EntityTarget } from 'typeorm'
import { HistoryCheckpoint, HistoryEntry, RegisterVersion } from '../../../entities'
import { HistoryKeys, verifyCheckpoint } from './checkpoints'
import { createDataSource, Dialect } from '../../db/data-source'
import { Database, ReadSeries } from '../../db/database'
import { dialectOfManager, placeholders } from '../../db/sql'
import { processingActivities, processors, Resolver, ResourceDef, RESOURCE_OF, SUMMARY_COLUMNS, viewedColumns } from '../records/model'
import type { RecordType } from '../../dto/shape'
import { rebuildAllViews, viewJson } from '../records/stored-views'
import { ActivityScope, pageByName, RegisterSource, RegisterViews, scopeConditions, StoredActivity, WALK_PAGE_SIZE, WalkRow } from '../records/walk'
import { sortKey } from '../wording/collation'
import { Slices, turn } from '../records/slices'
import type { Principal } from '../../auth/principal'
import {
  ChainedContent, chainEntries, ChainWalk, Operation, REDACTION_RECORD_TYPE, RESTORE_RECORD_TYPE, restoreOf, saltsOf, VERSION_RECORD_TYPE, VersionOperation, versionRecordId,
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
  /** Entries with values erased by a redaction (their commitments keep them in the proof). */
  redacted: number
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
  const result: ChainVerification = { valid: true, entries: 0, head: null, firstBroken: null, versionsWithoutHead: [], checkpoints: 0, redacted: 0 }
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
    // the entries a break may blame: the one walked, the restore anchors still open and the entries erased from (a walk blames no other)
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
      const salts = await series.read((m) => saltsOf(m, ws, rows.filter((h) => h.hashVersion === 2).map((h) => h.hash)))
      for (const h of rows) {
        blamable.set(result.entries, h)
        walk.step(h, h.hash ? salts.get(h.hash) : undefined)
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
        // restore anchors and entries a redaction erased from are blamed at the walk's end
        if (restoreOf(h) === null && h.redacted === null) blamable.delete(result.entries)
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
    result.redacted = walk.redacted
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
  qb.where(`h.seq IN ${latestSeq}`, { ws, at, recordType, notRecords: [VERSION_RECORD_TYPE, RESTORE_RECORD_TYPE, REDACTION_RECORD_TYPE] })
  const latest = new Map<string, HistoryItem>()
  for (const h of await qb.orderBy('h.seq', 'ASC').getMany()) latest.set(`${h.recordType}:${h.recordId}`, item(h))
  return latest
}

// --- the register as of a moment ----------------------------------------------------------------

/** Records per read of history states. */
const STATES_PAGE = 200
/** Entries since the moment per read while the records changed since are found. */
const CHANGES_PAGE = 200
/** Changed records a view may name beyond which no stored view is taken as it is (each is looked for in each view's text). */
const MAX_NAMED_CHANGES = 200
/** Activities per read while the walk's order is found (their states are parsed, only keys kept). */
const KEYS_PAGE = 500
/** Activities changed since the moment per read of their latest entries' fields (parsed by the database). */
const CHANGED_KEYS_PAGE = 100

/** An activity's place in the walk: its key, id and version at the moment, and its latest entry then when it was read. */
interface WalkKey {
  key: string
  id: string
  seq?: number
  version: number | string
}

interface StateRow {
  seq: number
  record_id: string
  operation: string
  /** The record's version after the entry. */
  version: number | string
  state: string
}

/** What the walk's order and scope read of an activity's latest entry. */
interface ActivityFields extends Omit<StateRow, 'state'> {
  name: string | null
  role: string | null
  status: string | null
  controller_id: string | null
  /** The jointControllers list as JSON text. */
  joint: string | null
}

/**
 * The latest entry of each record of one kind at or before the moment: no later entry of the
 * record at or before it (the (workspace_id, record_type, record_id) index finds both). On SQLite
 * the moment's condition is `+h.at`, which no index serves: without statistics SQLite otherwise
 * chose the (workspace_id, at) index and read every entry before the moment for each list of ids
 * (400 ms of one synchronous call at 10,000 activities).
 */
const latest = (dialect: Dialect): string => `h.workspace_id = ? AND h.record_type = ? AND ${dialect === 'sqlite' ? '+h.at' : 'h.at'} <= ? AND NOT EXISTS (SELECT 1 FROM "history" l
  WHERE l.workspace_id = h.workspace_id AND l.record_type = h.record_type AND l.record_id = h.record_id AND l.at <= ? AND l.seq > h.seq)`

/** The walk's order, as the database orders (sort_key, id): the key is ASCII, so code units compare as bytes do. */
const walkOrder = (a: { key: string; id: string }, b: { key: string; id: string }): number =>
  (a.key !== b.key ? (a.key < b.key ? -1 : 1) : a.id < b.id ? -1 : a.id > b.id ? 1 : 0)

/**
 * A record's stored row and child rows as a write of its state would store them (what scratchRegister
 * inserted), less the lookup columns (search text, sort key), which no view or summary shows.
 */
function rowsOfState(def: ResourceDef, state: Row): { row: Row; children: Map<EntityTarget<any>, Row[]> } {
  const write = def.toWrite(state)
  const row: Row = {
    id: state.id, createdAt: state.createdAt, updatedAt: state.updatedAt, version: state.version,
    ...def.insertDefaults, ...viewedColumns(def, write), ...def.storedExtras?.(state),
  }
  return { row, children: new Map(def.children.map((c) => [c.entity, c.rows(write)])) }
}

/**
 * The records changed since the moment that a view of this kind may name: those of the kinds its
 * references (its own and its child rows') are to. No view names an activity, so an activity
 * changed since leaves every other kind's views as they are (a controller's, a purpose's).
 */
function namedChanges(def: ResourceDef, changed: Map<string, Set<string>>): string[] {
  const kinds = new Set<string>([...def.refs.map((r) => r.type), ...def.children.flatMap((c) => c.refs.map((r) => r.type))])
  return [...changed].filter(([type]) => kinds.has(type)).flatMap(([, ids]) => [...ids])
}

/**
 * The string as one piece. The serialiser builds a view's JSON by concatenation, a rope of hundreds
 * of small strings until something reads it whole; held by the JSON document's chunk until the
 * spool writes it, the ropes outlived scavenges and were promoted: half the garbage an export as
 * of a moment left in the old generation (72 MB of 10,000 activities). Converting a string to a
 * number reads it whole, which V8 does by flattening it in place.
 */
function flat(s: string): string {
  // kept where the optimiser cannot drop it as unused
  flattened = Number(s)
  return s
}
let flattened = 0

/** Is an activity (its state) in the walk's scope: what storedActivityPages's conditions select. */
function inScope(a: Row, scope: ActivityScope): boolean {
  if (scope.statuses && !scope.statuses.includes(a.status)) return false
  if (scope.role && a.role !== scope.role) return false
  if (scope.controllerId && a.controller?.id !== scope.controllerId && !(a.jointControllers as Row[] ?? []).some((c) => c.id === scope.controllerId)) return false
  return true
}

/**
 * The register as it stood at a moment, read from history on one snapshot: each record's latest
 * state at or before the moment, a page at a time (keyset over the history's record index), its
 * view composed again as the stored view would have been then (the references resolved to the
 * referenced records' states at the moment, as a rename's rewrite of the views did), serialised
 * as GET sends it. No database is built and no page holds the event loop for long.
 */
class RegisterAt implements RegisterViews {
  /**
   * The JSON document's pages (each a read of today's stored views in the merged walk): 100, not the
   * live walk's 200, which held its views long enough to be promoted. 25 were 400 round trips on
   * PostgreSQL (1.2 s); 100 promote no more garbage than 25 (30 MB of 10,000 activities either way).
   * The CSV's batches stay 25 a read: its rows are made between, and 100 views held across four
   * batches were mostly promoted (54 MB against 17).
   */
  readonly pageSize = 100

  /** What other views show of a record (its summary) at the moment; null: not a record then. */
  private readonly summaries = new Map<RecordType, Map<string, Row | null>>()

  private readonly slices = new Slices()

  constructor(private readonly series: ReadSeries, private readonly dialect: Dialect, private readonly ws: string, private readonly at: string) {}

  private async query(sql: string, params: unknown[]): Promise<StateRow[]> {
    const rows: StateRow[] = await this.series.read((m) => m.query(placeholders(dialectOfManager(m), sql), params))
    // the driver's result keeps its array (walk.ts): emptied, so that the states in it die young
    const out = rows.slice()
    rows.length = 0
    return out
  }

  /** Latest entries of these records (deletes included), in id order. */
  private async latestIn(type: RecordType, ids: string[]): Promise<StateRow[]> {
    const out: StateRow[] = []
    const unique = [...new Set(ids)]
    for (let i = 0; i < unique.length; i += 500) {
      const part = unique.slice(i, i + 500)
      out.push(...await this.query(`SELECT h.seq AS seq, h.record_id AS record_id, h.operation AS operation, h.version AS version, h.state AS state FROM "history" h
        WHERE ${latest(this.dialect)} AND h.record_id IN (${part.map(() => '?').join(', ')})`, [this.ws, type, this.at, this.at, ...part]))
    }
    return out.sort((a, b) => (a.record_id < b.record_id ? -1 : a.record_id > b.record_id ? 1 : 0))
  }

  /** Latest entries of records after id `after`, in id order (deletes included, so the keyset moves on). */
  private latestAfter(type: RecordType, after: string, limit: number, columns = 'h.state AS state', source = ''): Promise<StateRow[]> {
    return this.query(`SELECT h.seq AS seq, h.record_id AS record_id, h.operation AS operation, h.version AS version, ${columns} FROM "history" h ${source}
      WHERE ${latest(this.dialect)} AND h.record_id > ? ORDER BY h.record_id LIMIT ${Number(limit)}`, [this.ws, type, this.at, this.at, after])
  }

  /** The summaries of the records these views refer to, read once each. */
  private async resolver(wanted: Map<RecordType, Set<string>>): Promise<Resolver> {
    for (const [type, ids] of wanted) {
      let known = this.summaries.get(type)
      if (!known) this.summaries.set(type, known = new Map())
      const missing = [...ids].filter((id) => !known!.has(id))
      if (!missing.length) continue
      for (const h of await this.latestIn(type, missing)) {
        await this.slices.pace()
        if (h.operation === 'delete') continue
        const { row } = rowsOfState(RESOURCE_OF[type], JSON.parse(h.state))
        known.set(h.record_id, Object.fromEntries(SUMMARY_COLUMNS[type].map((c) => [c, row[c] ?? null])))
      }
      for (const id of missing) if (!known.has(id)) known.set(id, null)
    }
    return { ref: (type, id) => (id ? this.summaries.get(type)?.get(id) ?? null : null) }
  }

  /**
   * The views of records at the moment (their states given, parsed or as JSON text), as JSON text
   * GET would send. Each view is composed as soon as the summaries it names are known (after the
   * first pages, all of them), so that a state, its rows and its view die before the next is read:
   * composed a page at a time, in stages with a read between, they lived through the page and were
   * promoted (issue 19: 30 MB more of an asOf workbook than of the live one).
   */
  private async compose(def: ResourceDef, states: (Row | string)[]): Promise<StoredActivity[]> {
    const out: StoredActivity[] = []
    const later: { at: number; row: Row; children: Map<EntityTarget<any>, Row[]> }[] = []
    const wanted = new Map<RecordType, Set<string>>()
    const resolve: Resolver = { ref: (type, id) => (id ? this.summaries.get(type)?.get(id) ?? null : null) }
    for (const state of states) {
      await this.slices.pace()
      const { row, children } = rowsOfState(def, typeof state === 'string' ? JSON.parse(state) as Row : state)
      let known = true
      const want = (type: RecordType, id: unknown): void => {
        if (typeof id !== 'string' || !id || this.summaries.get(type)?.has(id)) return
        known = false
        if (!wanted.has(type)) wanted.set(type, new Set())
        wanted.get(type)!.add(id)
      }
      for (const ref of def.refs) want(ref.type, row[ref.column])
      for (const child of def.children) for (const c of children.get(child.entity) ?? []) for (const ref of child.refs) want(ref.type, c[ref.column])
      if (known) out.push(this.viewOf(def, row, children, resolve))
      else {
        later.push({ at: out.length, row, children })
        out.push(undefined as unknown as StoredActivity)
      }
    }
    if (later.length) {
      await this.resolver(wanted)
      for (const { at, row, children } of later) {
        await this.slices.pace()
        out[at] = this.viewOf(def, row, children, resolve)
      }
    }
    return out
  }

  /** A view composed, serialised only when read: the CSV and the workbook take the view itself. */
  private viewOf(def: ResourceDef, row: Row, children: Map<EntityTarget<any>, Row[]>, resolve: Resolver): StoredActivity {
    const view = def.view(row, children, resolve)
    let json: string | undefined
    return { id: row.id, view, get json() { return json ??= flat(viewJson(def, view)) } }
  }

  /**
   * The fields the walk's order and scope need, taken out of the state by the database (not parsed
   * here): the name always, the others only where the scope filters on them. On SQLite each
   * json_extract walks the state again, and the jointControllers list is written out as JSON text
   * anew: of 2,000 changed activities' keys, 200 ms of one synchronous read, 110 ms of it for fields
   * an export of the whole register does not look at.
   */
  private fieldColumns(scope: ActivityScope): string {
    const postgres = this.dialect === 'postgres'
    const field = (path: string, pg: string, as: string): string => `${postgres ? pg : `json_extract(h.state, '${path}')`} AS ${as}`
    return [
      field('$.name', 's.name', 'name'),
      ...(scope.role ? [field('$.role', 's.role', 'role')] : []),
      ...(scope.statuses ? [field('$.status', 's.status', 'status')] : []),
      ...(scope.controllerId ? [field('$.controller.id', 's.controller->>\'id\'', 'controller_id'), field('$.jointControllers', 's."jointControllers"::text', 'joint')] : []),
    ].join(', ')
  }

  /**
   * Where fieldColumns reads them from, after `"history" h`: on PostgreSQL the state parsed once per
   * entry (each `(h.state::json)->>` parsed the state again: 1.5 s for 2,000 activities).
   */
  private fieldSource(): string {
    return this.dialect === 'postgres'
      ? 'CROSS JOIN LATERAL json_to_record(h.state::json) AS s(name text, role text, status text, controller json, "jointControllers" json)'
      : ''
  }

  /** The walk's key of an activity's latest entry at the moment, if it existed then and is in scope. */
  private keyOf(h: ActivityFields, scope: ActivityScope): WalkKey | null {
    if (h.operation === 'delete') return null
    // fields the scope does not filter on were not read (fieldColumns), and inScope does not look at them
    const state = { name: h.name, role: h.role, status: h.status, controller: { id: h.controller_id }, jointControllers: scope.controllerId && h.joint ? JSON.parse(h.joint) : [] }
    return inScope(state, scope) ? { key: sortKey(h.name), id: h.record_id, seq: h.seq, version: h.version } : null
  }

  /** Every activity's key at the moment, from its latest entry in history. */
  private async keysFromHistory(scope: ActivityScope): Promise<WalkKey[]> {
    const keys: WalkKey[] = []
    for (let after = ''; ;) {
      const rows = await this.latestAfter('processing-activity', after, KEYS_PAGE, this.fieldColumns(scope), this.fieldSource()) as unknown as ActivityFields[]
      for (const h of rows) {
        const k = this.keyOf(h, scope)
        if (k) keys.push(k)
      }
      if (rows.length < KEYS_PAGE) break
      after = rows[rows.length - 1].record_id
      rows.length = 0
      await turn()
    }
    return keys
  }

  /** The keys of these activities from their latest entries at the moment (their fields taken out by the database), in the walk's order. */
  private async keysOf(scope: ActivityScope, ids: string[]): Promise<WalkKey[]> {
    const keys: WalkKey[] = []
    for (let i = 0; i < ids.length; i += CHANGED_KEYS_PAGE) {
      await turn()
      const part = ids.slice(i, i + CHANGED_KEYS_PAGE)
      const rows = await this.query(`SELECT h.seq AS seq, h.record_id AS record_id, h.operation AS operation, h.version AS version, ${this.fieldColumns(scope)} FROM "history" h ${this.fieldSource()}
        WHERE ${latest(this.dialect)} AND h.record_id IN (${part.map(() => '?').join(', ')})`, [this.ws, 'processing-activity', this.at, this.at, ...part]) as unknown as ActivityFields[]
      for (const h of rows) {
        const k = this.keyOf(h, scope)
        if (k) keys.push(k)
      }
    }
    return keys.sort(walkOrder)
  }

  async* activityPages(scope: ActivityScope, pageSize = WALK_PAGE_SIZE): AsyncGenerator<StoredActivity[]> {
    if (scope.statuses && !scope.statuses.length) return
    const changed = await this.changedSince()
    // A redaction since may have erased what today's rows and history hold of a name: then every key comes from history
    if (changed && !changed.has(REDACTION_RECORD_TYPE)) {
      yield* this.mergedPages(scope, pageSize, changed)
      return
    }
    // the walk's order first: every activity's key (name in the register's collation, id), not its state
    const keys = await this.keysFromHistory(scope)
    await turn()
    keys.sort(walkOrder)
    for (let i = 0; i < keys.length; i += pageSize) {
      await turn()
      const part = keys.slice(i, i + pageSize)
      // an activity that nothing it shows has changed since the moment is today's stored view, as it is
      const same = changed ? await this.unchangedViews(processingActivities, part, changed) : new Map<string, string>()
      const composing = part.filter((k) => !same.has(k.id))
      const states = await this.statesBySeq(composing.map((k) => k.seq!))
      const composed = new Map((await this.compose(processingActivities, composing.map((k) => states.get(k.seq!)!))).map((v) => [v.id, v]))
      yield part.map((k) => composed.get(k.id) ?? { id: k.id, json: same.get(k.id)! })
    }
  }

  /** The states of these entries, by seq. */
  private async statesBySeq(seqs: number[]): Promise<Map<number, string>> {
    if (!seqs.length) return new Map()
    const rows = await this.query(`SELECT seq, state FROM "history" WHERE workspace_id = ? AND seq IN (${seqs.map(() => '?').join(', ')})`, [this.ws, ...seqs])
    return new Map(rows.map((r) => [Number(r.seq), r.state]))
  }

  /**
   * The walk when history since the moment is as the service wrote it (no restore, no redaction).
   * An activity with no entry since is today's row (its latest state then): those in scope are read
   * as the live walk reads them, stored views a page at a time in (sort_key, id) order, and taken as
   * they are unless they name a record of another kind changed since. The activities changed since
   * (and any row without a sort key) are keyed from history, sorted, and merged in, their views
   * composed from their states, read with the page that merges them (one query). No key of the whole
   * register is held, and no read looks for a page's views one by one.
   */
  private async* mergedPages(scope: ActivityScope, pageSize: number, changed: Map<string, Set<string>>): AsyncGenerator<StoredActivity[]> {
    const conditions = scopeConditions(this.ws, scope)
    if (!conditions) return
    const fromHistory = new Set(changed.get('processing-activity') ?? [])
    const unkeyed: { id: string }[] = await this.series.read((m) => m.query(placeholders(dialectOfManager(m),
      `SELECT id FROM "${m.connection.getMetadata(processingActivities.entity).tableName}" WHERE ${['workspace_id = ?', 'sort_key IS NULL', ...conditions.map((c) => c.sql)].join(' AND ')}`),
    [this.ws, ...conditions.flatMap((c) => c.params)]))
    for (const r of unkeyed) fromHistory.add(r.id)
    const keys = await this.keysOf(scope, [...fromHistory])
    // the records another activity's view may name: a view naming one changed since is composed
    const named = namedChanges(processingActivities, changed)
    const showsChanged = (json: string): boolean => named.length > MAX_NAMED_CHANGES || named.some((id) => json.includes(`"${id}"`))
    let next = 0
    const page: { id: string; json?: string; key?: WalkKey }[] = []
    let after: { key: string; id: string } | null = null
    for (;;) {
      const from: { key: string; id: string } | null = after
      const rows: WalkRow[] = await this.series.read((m) => pageByName(m, this.ws, from, pageSize, conditions))
      const full = rows.length === pageSize
      const last: WalkRow | undefined = rows[rows.length - 1]
      if (last) after = { key: last.sort_key ?? '', id: last.id }
      const live = rows.filter((r) => r.sort_key !== null && !fromHistory.has(r.id)).map((r) => ({ key: r.sort_key!, id: r.id, json: r.resolved_view }))
      // the driver's result outlives the page (walk.ts): emptied, so that the views die young
      rows.length = 0
      for (const r of live) {
        while (next < keys.length && walkOrder(keys[next], r) < 0) {
          page.push({ id: keys[next].id, key: keys[next++] })
          if (page.length >= pageSize) yield await this.mergedPage(page.splice(0), showsChanged)
        }
        page.push({ id: r.id, json: r.json })
        if (page.length >= pageSize) yield await this.mergedPage(page.splice(0), showsChanged)
      }
      if (!full) break
    }
    while (next < keys.length) {
      page.push({ id: keys[next].id, key: keys[next++] })
      if (page.length >= pageSize) yield await this.mergedPage(page.splice(0), showsChanged)
    }
    if (page.length) yield await this.mergedPage(page, showsChanged)
  }

  /**
   * A page of the merged walk: today's views as they are, the others composed from their states,
   * read here for this page alone. Read ahead for the next pages (20 states a query), they outlived
   * the pages written in between and were promoted: an asOf workbook, whose pages are 25 activities
   * and three walks, promoted 40 MB more than the live one (104 MB against 63) and peaked 40 MB higher.
   */
  private async mergedPage(page: { id: string; json?: string; key?: WalkKey }[], showsChanged: (json: string) => boolean): Promise<StoredActivity[]> {
    await turn()
    const fromState = new Map<string, string>()
    const states = await this.statesBySeq(page.flatMap((e) => (e.key ? [e.key.seq!] : [])))
    for (const e of page) if (e.key) fromState.set(e.id, states.get(e.key.seq!)!)
    states.clear()
    const stale = page.filter((e) => e.json !== undefined && showsChanged(e.json)).map((e) => e.id)
    for (const h of stale.length ? await this.latestIn('processing-activity', stale) : []) if (h.operation !== 'delete') fromState.set(h.record_id, h.state)
    const composed = new Map((await this.compose(processingActivities, [...fromState.values()])).map((v) => [v.id, v]))
    return page.map((e) => composed.get(e.id) ?? { id: e.id, json: e.json! })
  }

  /** Records with an entry after the moment, by type (a register version's lifecycle left out); null: a restore came after it. */
  private changed: Promise<Map<string, Set<string>> | null> | null = null

  /**
   * Read by keyset over the (workspace_id, at) index, CHANGES_PAGE entries a read with a turn
   * between: on SQLite one read of every entry since (2,000 at the bench's moment) held the event
   * loop for up to 250 ms on a busy machine, and the moment may be long ago. The keyset is two
   * seeks, the rest of the last page's `at` by seq, then the entries at later moments: as one
   * `(at, seq) > (?, ?)` SQLite sought only `at >= ?` and stepped over every entry of that moment
   * read before, for each page (an import, or the bench's 2,000 renames, share one `at`: 250 ms).
   */
  private changedSince(): Promise<Map<string, Set<string>> | null> {
    this.changed ??= (async () => {
      const out = new Map<string, Set<string>>()
      type Change = { seq: number | string; at: string; record_type: string; record_id: string }
      const read = (condition: string, params: unknown[], order: string, limit: number): Promise<Change[]> => this.series.read((m) => m.query(placeholders(dialectOfManager(m),
        `SELECT seq, at, record_type, record_id FROM "history" WHERE workspace_id = ? AND ${condition} ORDER BY ${order} LIMIT ${Number(limit)}`), [this.ws, ...params]))
      for (let after: { at: string; seq: number } | null = null; ;) {
        const rows: Change[] = after ? await read('at = ? AND seq > ?', [after.at, after.seq], 'seq', CHANGES_PAGE) : []
        if (rows.length < CHANGES_PAGE) rows.push(...await read('at > ?', [after ? after.at : this.at], 'at, seq', CHANGES_PAGE - rows.length))
        for (const r of rows) {
          // restored history says nothing of how today's views were built: every view is composed
          if (r.record_type === RESTORE_RECORD_TYPE) return null
          if (r.record_type === VERSION_RECORD_TYPE) continue
          if (!out.has(r.record_type)) out.set(r.record_type, new Set())
          out.get(r.record_type)!.add(r.record_id)
        }
        if (rows.length < CHANGES_PAGE) return out
        const last = rows[rows.length - 1]
        after = { at: last.at, seq: Number(last.seq) }
        await turn()
      }
    })()
    return this.changed
  }

  /**
   * Today's stored views of the records that are as they were at the moment: the record has no
   * entry after it (today's row is its latest state then, the same version), and no record its
   * view names (by id) has one. A view is composed only from its record's state and the summaries
   * of the records it names, so it is then the view composed at the moment, byte for byte, without
   * composing it. A record named in the view is looked for in its text, which at worst composes
   * one view too many; with many records changed since, none is looked for and all are composed.
   */
  private async unchangedViews(def: ResourceDef, part: { id: string; version: number | string }[], changed: Map<string, Set<string>>): Promise<Map<string, string>> {
    const out = new Map<string, string>()
    const changedOfKind = changed.get(def.type) ?? new Set<string>()
    const named = namedChanges(def, changed)
    if (named.length > MAX_NAMED_CHANGES) return out
    const wanted = part.filter((k) => !changedOfKind.has(k.id))
    if (!wanted.length) return out
    const version = new Map(wanted.map((k) => [k.id, Number(k.version)]))
    const rows: { id: string; version: number | string; resolved_view: string | null }[] = await this.series.read((m) => m.query(placeholders(dialectOfManager(m),
      `SELECT id, version, resolved_view FROM "${m.connection.getMetadata(def.entity).tableName}" WHERE workspace_id = ? AND id IN (${wanted.map(() => '?').join(', ')})`),
    [this.ws, ...wanted.map((k) => k.id)]))
    for (const r of rows) {
      if (!r.resolved_view || Number(r.version) !== version.get(r.id)) continue
      if (named.some((id) => id !== r.id && r.resolved_view!.includes(`"${id}"`))) continue
      out.set(r.id, r.resolved_view)
    }
    return out
  }

  /** The views of these latest entries (deletes left out), in their order: today's where nothing changed since, else composed. */
  private async viewsOf(def: ResourceDef, latest: StateRow[]): Promise<StoredActivity[]> {
    const present = latest.filter((h) => h.operation !== 'delete')
    const changed = await this.changedSince()
    const same = changed && present.length ? await this.unchangedViews(def, present.map((h) => ({ id: h.record_id, version: h.version })), changed) : new Map<string, string>()
    const composed = new Map((await this.compose(def, present.filter((h) => !same.has(h.record_id)).map((h) => h.state))).map((v) => [v.id, v]))
    return present.map((h) => composed.get(h.record_id) ?? { id: h.record_id, json: same.get(h.record_id)! })
  }

  async viewsIn(def: ResourceDef, ids: string[]): Promise<string[]> {
    return (await this.viewsOf(def, await this.latestIn(def.type, ids))).map((v) => v.json)
  }

  async* viewPages(def: ResourceDef, pageSize: number): AsyncGenerator<StoredActivity[]> {
    for (let after = ''; ;) {
      const rows = await this.latestAfter(def.type, after, pageSize)
      const views = await this.viewsOf(def, rows)
      if (views.length) yield views
      if (rows.length < pageSize) return
      after = rows[rows.length - 1].record_id
      await turn()
    }
  }

  async subProcessorIds(processorIds: string[]): Promise<string[]> {
    return (await this.latestIn('processor', processorIds)).filter((h) => h.operation !== 'delete')
      .flatMap((h) => processors.toWrite(JSON.parse(h.state)).subProcessorIds as string[] ?? [])
  }

  async hasController(id: string): Promise<boolean> {
    return (await this.latestIn('controller', [id])).some((h) => h.operation !== 'delete')
  }

  close(): Promise<void> {
    return this.series.close()
  }
}

/**
 * The register as it stood at `at` (an ISO instant), for the export: the export "as of" a moment
 * is the export that would have been taken at that moment, read from history a page at a time.
 */
export function registerAt(db: Database, ws: string, at: string): RegisterSource {
  return {
    ws,
    open: async () => new RegisterAt(await db.snapshot(), db.dialect, ws, at),
    hasController: async (id) => {
      const views = new RegisterAt(await db.snapshot(), db.dialect, ws, at)
      try {
        return await views.hasController(id)
      } finally {
        await views.close()
      }
    },
  }
}

/**
 * The reference implementation of the register as of a moment, kept as the oracle of the tests
 * (test/as-of.test.ts): the register as it stood at `at`, rebuilt from history into a throwaway in-memory SQLite
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
