import { createHash } from 'node:crypto'
import { EntityManager } from 'typeorm'
import { HistoryEntry } from '../../../entities'
import type { Principal } from '../../auth/principal'
import { RecordType } from './model'

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

/** Record type of the history entries of a register version's approval, rejection and superseding. */
export const VERSION_RECORD_TYPE = 'register-version'
export type VersionOperation = 'approve' | 'reject' | 'supersede'

/**
 * A version's record id in history: the first 128 bits of its contentHash in UUID form, so that the
 * entry names the frozen document it is about (and can be matched to a file by its `sha256sum`).
 */
export function versionRecordId(contentHash: string): string {
  const h = contentHash.slice(0, 32)
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
}

/**
 * Record type of the entry that opens a history restored from a backup (POST /register/import of a
 * document with `history`). The anchor is chained to the entries before it like any entry; its
 * state names how many entries were restored and the head their chain ends at. The restored entries
 * follow it verbatim, hashes included, as the chain they were in their own workspace (from ''), so
 * the heads that register versions recorded, and that anyone kept outside, are found again.
 */
export const RESTORE_RECORD_TYPE = 'history-restore'

export interface RestoreState {
  /** The workspace the backup was taken from. */
  workspace: string
  entries: number
  head: string
}

/** A chain as it was in its own workspace, from its first entry: the first entry whose hash does not follow, or -1. */
export function firstBrokenIn(entries: (ChainedContent & { hash: string | null })[]): number {
  let previous: string | null = null
  for (const [i, e] of entries.entries()) {
    if (e.hash !== entryHash(previous, e)) return i
    previous = e.hash
  }
  return -1
}

