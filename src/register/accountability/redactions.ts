import { randomUUID } from 'node:crypto'
import { EntityManager } from 'typeorm'
import { Database } from '../../db/database'
import { validateBody } from '../../dto/validate'
import { RedactionProposal, RedactionRejection } from '../../dto/register'
import { AppError, Conflict, Forbidden, Reference } from '../../errors'
import { HistoryEntry, HistorySalt, Redaction, RegisterVersion, RegisterVersionFile } from '../../../entities'
import {
  chainEntries, entryHash, holdHistoryChain, REDACTION_RECORD_TYPE, redactedDigest, RESTORE_RECORD_TYPE, saltsOf, VERSION_RECORD_TYPE,
} from '../records/journal'
import { ACTOR_PATH, commitment, EntrySalts, jsonField, leafSalt, leaves, mapLeaves, REDACTED, sha256 } from '../records/commitments'
import { checkpointHead, HistoryKeys } from './checkpoints'
import type { Principal } from '../../auth/principal'

import type { Row } from '../records/model'

/**
 * Erasure that keeps the proof (Art. 17, Art. 5(1)(e)): an admin proposes to erase exact values
 * (a departed DPO's name and address, someone's subject) from the history and the frozen versions;
 * another admin approves (four eyes) or rejects. Approval replaces every occurrence, in history
 * states and actors and in version documents, by a marker, at the storage level, so that every
 * reader (record and register history, /register/changes, asOf exports, version files, backups,
 * reports) sees only the marker. The chain still verifies: a scheme-2 entry keeps the commitment of
 * each erased leaf in place of its value and its remaining salts written out, the key that derived
 * them deleted (docs/verifying-history.md); a version keeps its contentHash and lists the redaction,
 * whose history entry states the document's new hash. The values are kept only while proposed.
 */

export type RedactionStatus = 'proposed' | 'applied' | 'rejected'

export interface RedactionView {
  id: string
  status: RedactionStatus
  /** The values to erase, shown to the approver while proposed; null once applied or rejected. */
  values: string[] | null
  reason: string
  proposedBy: string
  proposedAt: string
  decidedBy: string | null
  decidedAt: string | null
  rejectionReason: string | null
  /** History entries and register versions holding the values (when proposed), then those erased. */
  occurrences: { history: number; versions: number }
  /** Where the values were found, once applied: record type and field path (`controller:/dataProtectionOfficer/email`). */
  fields: string[] | null
}

const view = (r: Redaction): RedactionView => ({
  id: r.id, status: r.status as RedactionStatus, values: jsonField<string[]>(r.values), reason: r.reason, proposedBy: r.proposedBy,
  proposedAt: r.proposedAt, decidedBy: r.decidedBy, decidedAt: r.decidedAt, rejectionReason: r.rejectionReason,
  occurrences: JSON.parse(r.occurrences), fields: jsonField<string[]>(r.fields),
})

/** The register versions' redactions (JSON column) as a list. */
export const versionRedactions = (v: { redactions?: string | null }): { id: string; at: string; documentHash: string }[] => jsonField(v.redactions) ?? []

/** An entry as a backup carries it: what its hash covers, its scheme, and for scheme 2 its salts and erased commitments. */
export function backupEntry(h: HistoryEntry, salts?: EntrySalts): Row {
  const out: Row = {
    seq: h.seq, recordType: h.recordType, recordId: h.recordId, version: h.version, operation: h.operation, actor: h.actor, at: h.at, state: h.state, hash: h.hash,
    hashVersion: h.hashVersion ?? 1,
  }
  if (h.hashVersion === 2) {
    if (salts?.saltKey) out.saltKey = salts.saltKey
    if (salts?.salts) out.salts = salts.salts
  }
  if (h.redacted !== null && h.redacted !== undefined) out.redacted = JSON.parse(h.redacted)
  return out
}

export class RedactionNotFound extends AppError {
  constructor(id: string) {
    super(404, 'not_found', `No redaction ${id}`)
  }
}

// --- finding the values ----------------------------------------------------------------------------

/** Each occurrence of any value replaced by the marker (longest values first, so that none is left in part). */
export function redactText(text: string, values: string[]): string {
  let out = text
  for (const v of [...values].sort((a, b) => b.length - a.length)) if (out.includes(v)) out = out.split(v).join(REDACTED)
  return out
}

const holds = (text: string | null | undefined, values: string[]): boolean => typeof text === 'string' && values.some((v) => text.includes(v))

/** Hashes and ids are references, never personal data: a value that happens to occur in one ("cafe") leaves it alone. */
const REFERENCE = /^(?:[0-9a-f]{64}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i

/** Does a leaf of a state hold any of the values (references aside)? */
const leafHolds = (text: string, values: string[]): boolean => !REFERENCE.test(text) && holds(text, values)

/**
 * A JSON text with the values erased from its string values (not its keys, hashes or ids), every
 * other byte as it was: how a frozen document, kept byte for byte, is redacted.
 */
export function redactJsonText(text: string, values: string[]): string {
  const escaped = [...values].sort((a, b) => b.length - a.length).map(inJson)
  return text.replace(/"((?:[^"\\]|\\.)*)"(\s*:)?/g, (token, inner: string, key: string | undefined) => {
    if (key || REFERENCE.test(inner) || !escaped.some((v) => inner.includes(v))) return token
    let out = inner
    for (const v of escaped) out = out.split(v).join(REDACTED)
    return `"${out}"`
  })
}

/** A LIKE pattern (escape `\`) for text containing `v`. */
const like = (v: string): string => `%${v.replace(/[\\%_]/g, (c) => `\\${c}`)}%`

/** How a value is written inside a JSON string. */
const inJson = (v: string): string => JSON.stringify(v).slice(1, -1)

/** History entries whose state or actor holds any of the values (the database narrows, the exact test is here). */
async function entriesHolding(m: EntityManager, ws: string, values: string[]): Promise<HistoryEntry[]> {
  const qb = m.getRepository(HistoryEntry).createQueryBuilder('h').where('h.workspaceId = :ws', { ws })
  const params: Row = {}
  const ors = values.flatMap((v, i) => {
    params[`s${i}`] = like(inJson(v))
    params[`a${i}`] = like(v)
    return [`h.state LIKE :s${i} ESCAPE '\\'`, `h.actor LIKE :a${i} ESCAPE '\\'`]
  })
  const rows = await qb.andWhere(`(${ors.join(' OR ')})`, params).orderBy('h.seq', 'ASC').getMany()
  return rows.filter((h) => holds(h.actor, values) || leaves(JSON.parse(h.state)).some(([, v]) => leafHolds(v, values)))
}

const VERSION_TEXTS = ['note', 'proposedBy', 'approvedBy', 'approvalNote', 'rejectedBy', 'rejectionReason'] as const

/** Register versions whose document or texts hold any of the values, with their documents. */
async function versionsHolding(m: EntityManager, ws: string, values: string[]): Promise<RegisterVersion[]> {
  const all = await m.getRepository(RegisterVersion).createQueryBuilder('v').addSelect('v.document').where('v.workspaceId = :ws', { ws }).orderBy('v.number', 'ASC').getMany()
  return all.filter((v) => redactJsonText(v.document, values) !== v.document || VERSION_TEXTS.some((f) => holds(v[f], values)))
}

/** Records of the live register that still hold any of the values: each record's latest entry, when it is not a delete. */
async function liveHolders(m: EntityManager, ws: string, entries: HistoryEntry[], values: string[]): Promise<Reference[]> {
  const records = new Map<string, { type: string; id: string }>()
  for (const h of entries) {
    if ([VERSION_RECORD_TYPE, RESTORE_RECORD_TYPE, REDACTION_RECORD_TYPE].includes(h.recordType)) continue
    records.set(`${h.recordType}:${h.recordId}`, { type: h.recordType, id: h.recordId })
  }
  const out: Reference[] = []
  for (const { type, id } of records.values()) {
    const latest = await m.getRepository(HistoryEntry).createQueryBuilder('h')
      .where('h.workspaceId = :ws AND h.recordType = :type AND h.recordId = :id', { ws, type, id }).orderBy('h.seq', 'DESC').limit(1).getOne()
    if (!latest || latest.operation === 'delete') continue
    const state = JSON.parse(latest.state)
    if (leaves(state).some(([, v]) => leafHolds(v, values))) out.push({ type, id, name: typeof state.name === 'string' ? state.name : id })
  }
  return out
}

function refuseWhileLive(live: Reference[]): void {
  if (!live.length) return
  throw new AppError(409, 'values_in_register', `The live register still holds the values in ${live.map((r) => `${r.type} ${r.id} ("${r.name}")`).join(', ')}: change those records first, then redact their history`, undefined, live)
}

// --- the lifecycle -----------------------------------------------------------------------------

const repo = (m: EntityManager) => m.getRepository(Redaction)

/** Proposes a redaction (admin): refused while the live register holds any of the values. */
export async function proposeRedaction(db: Database, who: Principal, body: unknown): Promise<RedactionView> {
  const input = validateBody(RedactionProposal, body)
  const values = [...new Set(input.values)]
  return db.write(async (m) => {
    const entries = await entriesHolding(m, who.ws, values)
    refuseWhileLive(await liveHolders(m, who.ws, entries, values))
    const versions = await versionsHolding(m, who.ws, values)
    const row: Redaction = {
      workspaceId: who.ws, id: randomUUID(), status: 'proposed', values: JSON.stringify(values), reason: input.reason, proposedBy: who.sub,
      proposedAt: new Date().toISOString(), decidedBy: null, decidedAt: null, rejectionReason: null,
      occurrences: JSON.stringify({ history: entries.length, versions: versions.length }), fields: null,
    }
    await m.createQueryBuilder().insert().into(Redaction).values(row).execute()
    return view(row)
  })
}

async function mustFind(m: EntityManager, ws: string, id: string): Promise<Redaction> {
  const found = /^[0-9a-f-]{36}$/i.test(id) ? await repo(m).findOne({ where: { workspaceId: ws, id } }) : null
  if (!found) throw new RedactionNotFound(id)
  return found
}

function mustBeProposed(r: Redaction, action: string): void {
  if (r.status !== 'proposed') throw new Conflict('redaction_not_proposed', `Redaction ${r.id} is ${r.status}: only a proposed redaction can be ${action}`)
}

/** A field's path with list positions as `*`, so that the fields named say where, not how many. */
const fieldOf = (type: string, path: string): string => `${type}:${path.replace(/\/\d+(?=\/|$)/g, '/*')}`

/**
 * Erases the values from one history entry, in place. Scheme 2: the erased leaves' commitments are
 * kept with the entry, the other leaves' salts written out and the key deleted (so the erased
 * values cannot be confirmed by guessing); the hash is checked to still follow before anything is
 * written. Scheme 1: the entry is marked redacted (its hash is then taken as it stands). Either way
 * the redaction's entry names it with the digest of what it reads afterwards. Answers the fields erased and that digest.
 */
async function redactEntry(m: EntityManager, ws: string, h: HistoryEntry, values: string[], salts: EntrySalts | undefined, previous: string | null): Promise<{ fields: string[]; digest: string }> {
  const erased: string[] = []
  const original = new Map<string, string>()
  const state = mapLeaves(JSON.parse(h.state), (p, v) => {
    if (!leafHolds(v, values)) return v
    erased.push(p)
    original.set(p, v)
    return redactText(v, values)
  })
  const actorErased = holds(h.actor, values)
  const actor = actorErased ? redactText(h.actor, values) : h.actor
  const fields = erased.map((p) => fieldOf(h.recordType, p))
  if (actorErased) fields.push('actor')
  const newState = JSON.stringify(state)
  let redacted: Record<string, string> = {}
  if (h.hashVersion === 2) {
    redacted = jsonField<Record<string, string>>(h.redacted) ?? {}
    const saltOf = (p: string): string => {
      const s = salts?.salts?.[p] ?? (salts?.saltKey ? leafSalt(salts.saltKey, p) : undefined)
      if (!s) throw new Error(`history entry ${h.seq}: the salt of ${p} is missing`)
      return s
    }
    for (const p of erased) redacted[p] ??= commitment(saltOf(p), original.get(p)!)
    if (actorErased) redacted[ACTOR_PATH] ??= commitment(saltOf(ACTOR_PATH), h.actor)
    const kept: Record<string, string> = {}
    for (const [p] of leaves(state)) if (!(p in redacted)) kept[p] = saltOf(p)
    if (!(ACTOR_PATH in redacted)) kept[ACTOR_PATH] = saltOf(ACTOR_PATH)
    const after = { ...h, state: newState, actor, redacted: JSON.stringify(redacted) }
    if (entryHash(previous, after, { salts: kept }) !== h.hash) throw new Error(`history entry ${h.seq}: its hash would not follow after the redaction`)
    await m.createQueryBuilder().update(HistorySalt).set({ saltKey: null, salts: JSON.stringify(kept) })
      .where('workspaceId = :ws AND hash = :hash', { ws, hash: h.hash }).execute()
  }
  await m.createQueryBuilder().update(HistoryEntry).set({ state: newState, actor, redacted: JSON.stringify(redacted) })
    .where('seq = :seq', { seq: h.seq }).execute()
  return { fields, digest: redactedDigest({ actor, state: newState }) }
}

/** The hash of the entry before this one in the workspace's chain (what its scheme-2 hash was computed from). */
async function previousHash(m: EntityManager, ws: string, h: HistoryEntry): Promise<string | null> {
  const before = await m.getRepository(HistoryEntry).createQueryBuilder('h').select(['h.seq', 'h.hash', 'h.recordType', 'h.operation'])
    .where('h.workspaceId = :ws AND h.seq < :seq', { ws, seq: h.seq }).orderBy('h.seq', 'DESC').limit(1).getOne()
  // the first entry of a restored chain follows its anchor but was chained from ''
  if (!before || (before.recordType === RESTORE_RECORD_TYPE && before.operation === 'restore')) return null
  return before.hash
}

/**
 * Approves a proposed redaction (admin; with four eyes, not its proposer) and applies it in one
 * transaction: history entries, register versions (their stored files dropped, to be rendered
 * again from the redacted document), the redaction's own history entry, a signed checkpoint.
 */
export async function approveRedaction(db: Database, who: Principal, id: string, fourEyes: boolean, keys: HistoryKeys): Promise<RedactionView> {
  return db.write(async (m) => {
    await holdHistoryChain(m, who.ws)
    const r = await mustFind(m, who.ws, id)
    mustBeProposed(r, 'approved')
    if (fourEyes && r.proposedBy === who.sub) throw new Forbidden(`Redaction ${id} was proposed by ${who.sub}: another admin must approve it (four eyes)`)
    const values = jsonField<string[]>(r.values) ?? []
    const at = new Date().toISOString()
    const entries = await entriesHolding(m, who.ws, values)
    refuseWhileLive(await liveHolders(m, who.ws, entries, values))

    const fields = new Set<string>()
    // each entry erased from (by hash) → the digest of what it reads afterwards: the chain then proves that nothing else changed
    const erased: Record<string, string> = {}
    const salts = await saltsOf(m, who.ws, entries.filter((h) => h.hashVersion === 2).map((h) => h.hash))
    for (const h of entries) {
      const previous = h.hashVersion === 2 ? await previousHash(m, who.ws, h) : null
      const done = await redactEntry(m, who.ws, h, values, h.hash ? salts.get(h.hash) : undefined, previous)
      for (const f of done.fields) fields.add(f)
      if (h.hash) erased[h.hash] = done.digest
    }

    const versions = await versionsHolding(m, who.ws, values)
    const changed: { number: number; contentHash: string; documentHash: string }[] = []
    for (const v of versions) {
      const document = redactJsonText(v.document, values)
      if (document !== v.document) fields.add('register-version:document')
      const texts: Partial<RegisterVersion> = {}
      for (const f of VERSION_TEXTS) {
        if (holds(v[f], values)) {
          (texts as Row)[f] = redactText(v[f]!, values)
          fields.add(`register-version:${f}`)
        }
      }
      const documentHash = sha256(document)
      const redactions = JSON.stringify([...versionRedactions(v), { id, at, documentHash }])
      await m.createQueryBuilder().update(RegisterVersion).set({ ...texts, document, redactions })
        .where('workspaceId = :ws AND number = :number', { ws: who.ws, number: v.number }).execute()
      // its files were rendered from the values: rendered again from the redacted document when next asked for
      await m.createQueryBuilder().delete().from(RegisterVersionFile).where('workspaceId = :ws AND number = :number', { ws: who.ws, number: v.number }).execute()
      changed.push({ number: v.number, contentHash: v.contentHash, documentHash })
    }

    const occurrences = { history: entries.length, versions: versions.length }
    const named = [...fields].sort()
    // the redaction in the chain: who, when, why, how many, where; never the values
    const [entry] = await chainEntries(m, who.ws, [{
      workspaceId: who.ws, recordType: REDACTION_RECORD_TYPE, recordId: id, version: 1, operation: 'redact', actor: who.sub, at,
      state: JSON.stringify({ id, reason: r.reason, proposedBy: r.proposedBy, proposedAt: r.proposedAt, approvedBy: who.sub, approvedAt: at, occurrences, fields: named, versions: changed, entries: erased }),
    }])
    await m.createQueryBuilder().insert().into(HistoryEntry).values(entry).execute()
    await checkpointHead(m, who.ws, keys)
    const applied: Redaction = { ...r, status: 'applied', values: null, decidedBy: who.sub, decidedAt: at, occurrences: JSON.stringify(occurrences), fields: JSON.stringify(named) }
    await repo(m).update({ workspaceId: who.ws, id }, { status: 'applied', values: null, decidedBy: who.sub, decidedAt: at, occurrences: applied.occurrences, fields: applied.fields })
    return view(applied)
  })
}

/** Rejects a proposed redaction (admin), with the reason; its values are dropped. */
export async function rejectRedaction(db: Database, who: Principal, id: string, body: unknown): Promise<RedactionView> {
  const input = validateBody(RedactionRejection, body)
  return db.write(async (m) => {
    const r = await mustFind(m, who.ws, id)
    mustBeProposed(r, 'rejected')
    const at = new Date().toISOString()
    const rejected: Redaction = { ...r, status: 'rejected', values: null, decidedBy: who.sub, decidedAt: at, rejectionReason: input.reason }
    await repo(m).update({ workspaceId: who.ws, id }, { status: 'rejected', values: null, decidedBy: who.sub, decidedAt: at, rejectionReason: input.reason })
    return view(rejected)
  })
}

/** The workspace's redactions, newest first. */
export async function listRedactions(db: Database, ws: string, q: { limit: number; offset: number; status?: RedactionStatus }): Promise<{ items: RedactionView[]; total: number; limit: number; offset: number }> {
  return db.read(async (m) => {
    const [rows, total] = await repo(m).findAndCount({
      where: { workspaceId: ws, ...(q.status ? { status: q.status } : {}) }, order: { proposedAt: 'DESC', id: 'ASC' }, skip: q.offset, take: q.limit,
    })
    return { items: rows.map(view), total, limit: q.limit, offset: q.offset }
  })
}

export async function getRedaction(db: Database, ws: string, id: string): Promise<RedactionView> {
  return db.read(async (m) => view(await mustFind(m, ws, id)))
}
