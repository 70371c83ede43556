import { createHash } from 'node:crypto'
import { EntityManager } from 'typeorm'
import { HistoryEntry } from '../../../entities'
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
}

/**
 * SHA-256 (hex) over the previous entry's hash ('' for a workspace's first entry) and the entry's
 * content, as one JSON array in a fixed order. Neither seq nor workspace is covered: an entry's
 * place is fixed by the previous hash, and a workspace's chain can be copied into another.
 */
export function entryHash(previous: string | null, e: ChainedContent): string {
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
  const out = rows.map((r) => {
    previous = entryHash(previous, r)
    return { ...r, hash: previous }
  })
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

  /** The latest hash (the head so far). */
  get head(): string | null {
    return this.previous
  }

  private fail(index: number, reason: string): void {
    this.broken ??= { index, reason }
  }

  step(e: ChainedContent & { hash: string | null }): void {
    const i = ++this.index
    this.hashes.push(e.hash)
    if (e.hash === null) this.fail(i, 'the entry has no hash')
    else if (e.hash !== entryHash(this.previous, e)) this.fail(i, 'the hash does not follow from the previous entry\'s hash and this entry\'s content')
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
    for (const seg of this.open) this.fail(seg.anchor, `${seg.left} of the ${seg.entries} restored entries are missing`)
    this.open = []
    return this.broken
  }
}
