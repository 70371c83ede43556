import { createHash } from 'node:crypto'
import { EntityManager } from 'typeorm'
import { HistoryEntry, HistorySalt } from '../../../entities'
import { committedContent, EntrySalts, jsonField, MissingSalt, newSaltKey } from './commitments'
import type { Principal } from '../../auth/principal'
import type { RecordType } from '../../dto/shape'

/**
 * The journal: the append-only, hash-chained history the write path adds to in the transaction of
 * every change. Reading it (lists, the register as of a moment, verification, changes) is
 * accountability's, in src/register/accountability/history.ts, which builds on this file and never the reverse.
 */

import type { Row } from './model'

export type Operation = 'create' | 'update' | 'delete'

/** What an entry's hash covers: everything it says, in the form it is stored (state as its JSON text). */
export interface ChainedContent {
  recordType: string
  recordId: string
  version: number
  operation: string
  actor: string
  at: string
  state: string
  /** The hash scheme: absent or 1, the values; 2, salted commitments of them (./commitments.ts). */
  hashVersion?: number
  /** Set by a redaction: scheme 2, the erased leaves' commitments; scheme 1, {} (JSON text as stored, or an object from a backup). */
  redacted?: string | Record<string, string> | null
}

/** The hash scheme new entries are chained with. */
export const HASH_VERSION = 2

/**
 * SHA-256 (hex) over the previous entry's hash ('' for a workspace's first entry) and the entry's
 * content, as one JSON array in a fixed order. Neither seq nor workspace is covered: an entry's
 * place is fixed by the previous hash, and a workspace's chain can be copied into another.
 */
export function entryHash(previous: string | null, e: ChainedContent, salts?: EntrySalts): string {
  if (e.hashVersion === 2) return createHash('sha256').update(committedContent(previous, e, { ...salts, redacted: jsonField(e.redacted) })).digest('hex')
  const content = [previous ?? '', e.recordType, e.recordId, e.version, e.operation, e.actor, e.at, e.state]
  return createHash('sha256').update(JSON.stringify(content)).digest('hex')
}

/** Any fixed number, beside the migration lock: the class of the per-workspace chain locks. */
const CHAIN_LOCK_CLASS = 3030_2017

/**
 * Makes this transaction the only one that may append to the workspace's history until it ends,
 * so that the chain stays one chain when several instances write at once. PostgreSQL: a
 * transaction-level advisory lock per workspace, taken by every write before it locks any row
 * (docs/architecture.md, "One lock order": so writers never wait for each other in a cycle); taking
 * it again in the same transaction is harmless. SQLite: every write transaction already
 * holds the database's write lock (BEGIN IMMEDIATE), across processes too.
 */
export async function holdHistoryChain(m: EntityManager, ws: string): Promise<void> {
  if (m.connection.driver.options.type !== 'postgres') return
  await m.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [CHAIN_LOCK_CLASS, ws])
}

/** The workspace's latest entry: its seq and hash (the chain's head), or null before the first change. */
export async function historyHead(m: EntityManager, ws: string): Promise<{ seq: number; hash: string | null } | null> {
  const row = await m.getRepository(HistoryEntry).createQueryBuilder('h').select(['h.seq', 'h.hash'])
    .where('h.workspaceId = :ws', { ws }).orderBy('h.seq', 'DESC').limit(1).getOne()
  return row ? { seq: row.seq, hash: row.hash } : null
}

/**
 * Where a series of appends in one transaction has brought the workspace's chain (an import's
 * batches): the chain is held, and its head is the last hash chained, so that a batch need not
 * read it back (which, on PostgreSQL, would wait for the batches' statements still on their way).
 * Only for a series that nothing else appends to in between.
 */
export class ChainCursor {
  held = false
  /** undefined: not known yet (read from the table). */
  head: string | null | undefined = undefined
}

/** History rows to insert, in order, each with its hash linked to the one before, starting at the current head. */
export async function chainEntries<T extends ChainedContent>(m: EntityManager, ws: string, rows: T[], cursor?: ChainCursor): Promise<(T & { hash: string })[]> {
  if (!rows.length) return []
  if (!cursor?.held) await holdHistoryChain(m, ws)
  let previous = cursor?.head !== undefined ? cursor.head : (await historyHead(m, ws))?.hash ?? null
  const salts: HistorySalt[] = []
  const out = rows.map((r) => {
    const saltKey = newSaltKey()
    const entry = { ...r, hashVersion: HASH_VERSION }
    previous = entryHash(previous, entry, { saltKey })
    salts.push({ workspaceId: ws, hash: previous, saltKey, salts: null })
    return { ...entry, hash: previous }
  })
  // the salts apart from the entries, where a redaction can delete them
  for (let i = 0; i < salts.length; i += 300) await m.createQueryBuilder().insert().into(HistorySalt).values(salts.slice(i, i + 300)).execute()
  if (cursor) {
    cursor.held = true
    cursor.head = previous
  }
  return out
}

/** Appends one entry: who, when, which record and version, and its state (before it, for a delete). */
export async function appendHistory(m: EntityManager, who: Principal, type: RecordType, view: Row, operation: Operation, at: string): Promise<void> {
  const [entry] = await chainEntries(m, who.ws, [{
    workspaceId: who.ws, recordType: type, recordId: view.id, version: view.version, operation, actor: who.sub, at,
    state: JSON.stringify(view),
  }])
  await m.createQueryBuilder().insert().into(HistoryEntry).values(entry).execute()
}

// --- entries that are not a record's change ---------------------------------------------------

/** Record type of the history entries of a register version's proposal, approval, rejection and superseding. */
export const VERSION_RECORD_TYPE = 'register-version'
export type VersionOperation = 'propose' | 'approve' | 'reject' | 'supersede'

/**
 * A version's record id in history: the first 128 bits of its contentHash in UUID form, so that the
 * entry names the frozen document it is about (and can be matched to a file by its `sha256sum`).
 */
export function versionRecordId(contentHash: string): string {
  const h = contentHash.slice(0, 32)
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
}

/**
 * Record type of the entries that enclose a history restored from a backup (POST /register/import
 * of a document with `history`). The anchor (operation `restore`) is chained to the entries before
 * it like any entry; its state names how many entries were restored and the head their chain ends
 * at. The restored entries follow it verbatim, hashes included, as the chain they were in their own
 * workspace (from ''), so the heads that register versions recorded, and that anyone kept outside,
 * are found again. The closing entry (operation `restored`) follows the last of them, chained to it,
 * and names the anchor's hash in its state: so the entries before the anchor are covered by every
 * hash after the restore too (restores made before the closing entry existed have none).
 */
export const RESTORE_RECORD_TYPE = 'history-restore'

/** Record type of a redaction's entry (src/register/accountability/redactions.ts); its state never holds the values erased. */
export const REDACTION_RECORD_TYPE = 'redaction'
export const RESTORE_OPERATION = 'restore'
export const RESTORED_OPERATION = 'restored'

export interface RestoreState {
  /** The workspace the backup was taken from. */
  workspace: string
  entries: number
  head: string
}

/** The closing entry's state: the anchor it closes and the head the restored entries ended at. */
export interface RestoredState {
  anchor: string
  head: string
}

const parsed = (state: string): any => {
  try {
    return JSON.parse(state)
  } catch {
    return null
  }
}

/** The anchor's state when the entry opens a restored chain, else null. */
export function restoreOf(h: { recordType: string; operation: string; state: string }): RestoreState | null {
  if (h.recordType !== RESTORE_RECORD_TYPE || h.operation !== RESTORE_OPERATION) return null
  const s = parsed(h.state)
  return s && Number.isInteger(s.entries) && s.entries > 0 && typeof s.head === 'string' ? s : null
}

/**
 * What a redaction entry states of each entry it erased from: SHA-256 of the JSON array [actor, state]
 * as the entry reads afterwards, so that nothing but what was approved can be changed under the marker.
 */
export const redactedDigest = (e: { actor: string; state: string }): string => createHash('sha256').update(JSON.stringify([e.actor, e.state])).digest('hex')

/** Where a walk over a chain found it broken: the entry to blame (its index in the walk) and why. */
export interface ChainBreak {
  index: number
  reason: string
}

/**
 * Walks one workspace's chain, entry by entry from its first, as GET /history/verify, a restore and
 * the offline verifier all do (docs/verifying-history.md is its specification): each entry's hash
 * must follow from the previous hash and its own content; a restore anchor starts the chain of the
 * restored entries afresh (from ''), which must end, after as many entries as it names, at the
 * head it names; a closing entry after them must name the anchor's hash. Restores nest.
 */
export class ChainWalk {
  private previous: string | null = null
  private index = -1
  private open: { anchor: number; hash: string | null; left: number; entries: number; head: string }[] = []
  private justClosed: { hash: string | null; head: string } | null = null
  /** The first break found, if any. */
  broken: ChainBreak | null = null
  /** Hashes seen, by position (0-based), for heads that checkpoints and versions name. */
  readonly hashes: (string | null)[] = []
  /** Entries with erased values: proven through their commitments (scheme 2) or taken as their hash stands (scheme 1). */
  redacted = 0
  /** Redacted entries seen (hash → position and the digest of their content now), each to be named by a later redaction entry. */
  private erased = new Map<string, { index: number; digest: string }>()
  /** What the redaction entries say each entry they erased from reads afterwards (hash → digest); the latest wins. */
  private approved = new Map<string, string>()

  /** The latest hash (the head so far). */
  get head(): string | null {
    return this.previous
  }

  private fail(index: number, reason: string): void {
    this.broken ??= { index, reason }
  }

  step(e: ChainedContent & { hash: string | null }, salts?: EntrySalts): void {
    const i = ++this.index
    this.hashes.push(e.hash)
    const redacted = e.redacted !== null && e.redacted !== undefined
    if (redacted) this.redacted++
    if (e.hash === null) this.fail(i, 'the entry has no hash')
    if (redacted && e.hash) this.erased.set(e.hash, { index: i, digest: redactedDigest(e) })
    // a scheme-1 entry erased from is taken at its hash as it stands: what it reads is what its redaction approved (end())
    if (e.hash !== null && !(redacted && e.hashVersion !== 2)) {
      try {
        if (e.hash !== entryHash(this.previous, e, salts)) this.fail(i, 'the hash does not follow from the previous entry\'s hash and this entry\'s content')
      } catch (err) {
        if (!(err instanceof MissingSalt) && !(err instanceof SyntaxError)) throw err
        this.fail(i, err instanceof MissingSalt ? `${err.message}: the entry's hash cannot be recomputed` : 'the state is not JSON')
      }
    }
    if (e.recordType === REDACTION_RECORD_TYPE) {
      for (const [h, digest] of Object.entries((parsed(e.state)?.entries ?? {}) as Record<string, string>)) if (this.erased.has(h)) this.approved.set(h, digest)
    }
    const closing = e.recordType === RESTORE_RECORD_TYPE && e.operation === RESTORED_OPERATION
    if (closing) {
      const s = parsed(e.state) as RestoredState | null
      if (!this.justClosed) this.fail(i, 'a restore\'s closing entry that follows no restored entries')
      else if (s?.anchor !== this.justClosed.hash || s?.head !== this.justClosed.head) this.fail(i, 'the restore\'s closing entry does not name the anchor and head of the entries it follows')
    }
    this.justClosed = null
    this.previous = e.hash
    const closed: typeof this.open = []
    for (const seg of this.open) if (--seg.left === 0) closed.push(seg)
    for (const seg of closed) {
      if (e.hash !== seg.head) this.fail(seg.anchor, 'the restored entries do not end at the head the restore names')
      this.open.splice(this.open.indexOf(seg), 1)
    }
    // the closing entry, when there is one, closes the outermost restore that ended here
    if (closed.length) this.justClosed = closed.reduce((a, b) => (a.anchor < b.anchor ? a : b))
    const restore = restoreOf(e)
    if (restore) {
      this.open.push({ anchor: i, hash: e.hash, left: restore.entries, entries: restore.entries, head: restore.head })
      this.previous = null
    }
  }

  /** Ends the walk: restores whose entries did not all come are a break at their anchor. */
  end(): ChainBreak | null {
    for (const [h, { index, digest }] of this.erased) {
      if (this.approved.get(h) !== digest) this.fail(index, this.approved.has(h) ? 'the entry does not read as its redaction left it' : 'the entry is marked redacted but no redaction entry after it names it')
    }
    this.erased.clear()
    for (const seg of this.open) this.fail(seg.anchor, `${seg.left} of the ${seg.entries} restored entries are missing`)
    this.open = []
    return this.broken
  }
}

/** The salts of these entries (by hash), as the scheme-2 hash needs them; an entry without salts has none. */
export async function saltsOf(m: EntityManager, ws: string, hashes: (string | null)[]): Promise<Map<string, EntrySalts>> {
  const out = new Map<string, EntrySalts>()
  const wanted = [...new Set(hashes.filter((h): h is string => Boolean(h)))]
  for (let i = 0; i < wanted.length; i += 500) {
    const rows = await m.getRepository(HistorySalt).createQueryBuilder('s')
      .where('s.workspaceId = :ws AND s.hash IN (:...hashes)', { ws, hashes: wanted.slice(i, i + 500) }).getMany()
    for (const r of rows) out.set(r.hash, { saltKey: r.saltKey, salts: jsonField(r.salts) })
  }
  return out
}

/** Stores the salts of entries restored from a backup (as the backup carries them). */
export async function storeSalts(m: EntityManager, ws: string, entries: { hash?: string | null; saltKey?: string | null; salts?: Record<string, string> | null }[]): Promise<void> {
  const rows = entries.filter((e) => e.hash && (e.saltKey || e.salts))
    .map((e) => ({ workspaceId: ws, hash: e.hash!, saltKey: e.saltKey ?? null, salts: e.salts ? JSON.stringify(e.salts) : null }))
  for (let i = 0; i < rows.length; i += 300) await m.createQueryBuilder().insert().into(HistorySalt).values(rows.slice(i, i + 300)).orIgnore().execute()
}
