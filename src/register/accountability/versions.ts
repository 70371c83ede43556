import { createHash } from 'node:crypto'
import { Readable } from 'node:stream'
import { promisify } from 'node:util'
import { gzip } from 'node:zlib'
import { EntityManager } from 'typeorm'
import { Database, ReadSeries } from '../../db/database'
import { placeholders } from '../../db/sql'
import { validateBody } from '../../dto/validate'
import { VersionApproval, VersionProposal, VersionRejection } from '../../dto/register'
import { AppError, Conflict, Forbidden, ValidationFailed } from '../../errors'
import { HistoryEntry, RegisterVersion, VERSION_FILE_PART } from '../../../entities'
import { exportRegister } from '../exchange/export'
import type { ExportQuery } from '../exchange/export-document'
import { EXPORT_FORMAT, EXPORT_FORMAT_VERSION, SECTION_OF_TYPE, SECTIONS } from '../exchange/export-document'
import { registerFindings } from '../review/register-findings'
import { ActivityChanges, appendVersionHistory, differences } from './history'
import { historyHead, holdHistoryChain, saltsOf } from '../records/journal'
import { backupEntry, versionRedactions } from './redactions'
import { allCheckpoints, CheckpointView, checkpointHead, HistoryKeys } from './checkpoints'
import type { Principal } from '../../auth/principal'

import type { Row } from '../records/model'

/**
 * Established versions of a workspace's register (fastställd registerförteckning). Proposing
 * freezes the whole register (Art. 30(1) and 30(2) records) as one JSON export document, kept
 * byte for byte; an admin other than the proposer approves it (four eyes) or rejects it, and an
 * approval supersedes the version approved before. Every export of a version is made from the
 * frozen document, so it is the same on every download whatever happens to the register since.
 */

export type VersionStatus = 'proposed' | 'approved' | 'rejected' | 'superseded'

export class VersionNotFound extends AppError {
  constructor(which: number | 'approved') {
    super(404, 'not_found', which === 'approved' ? 'No version of the register has been approved yet' : `No register version ${which}`)
  }
}

export interface VersionCounts {
  /** Art. 30(1) record: activities with the role controller. */
  controllerActivities: number
  /** Art. 30(2) record: activities with the role processor. */
  processorActivities: number
  [section: string]: number
}

export interface VersionFindings {
  total: number
  bySeverity: Record<string, number>
  byRule: Record<string, number>
}

export interface VersionView {
  number: number
  status: VersionStatus
  note: string | null
  proposedBy: string
  proposedAt: string
  approvedBy: string | null
  approvedAt: string | null
  approvalNote: string | null
  rejectedBy: string | null
  rejectedAt: string | null
  rejectionReason: string | null
  supersededAt: string | null
  supersededBy: number | null
  contentHash: string
  historyHead: string | null
  counts: VersionCounts
  findings: VersionFindings
  /** The signed checkpoint made at its latest step, whose head covers that step's history entry. */
  checkpoint: CheckpointView | null
  /** The redactions applied to its document since it was frozen (its files are served redacted; contentHash stays the frozen one). */
  redactions: { id: string; at: string; documentHash: string }[]
}

/** What the version's history entries state: the version as read, without its checkpoint (which signs the entry). */
const stateOf = (v: RegisterVersion): Omit<VersionView, 'checkpoint' | 'redactions'> => ({
  number: v.number, status: v.status as VersionStatus, note: v.note, proposedBy: v.proposedBy, proposedAt: v.proposedAt,
  approvedBy: v.approvedBy, approvedAt: v.approvedAt, approvalNote: v.approvalNote,
  rejectedBy: v.rejectedBy, rejectedAt: v.rejectedAt, rejectionReason: v.rejectionReason,
  supersededAt: v.supersededAt, supersededBy: v.supersededBy,
  contentHash: v.contentHash, historyHead: v.historyHead, counts: JSON.parse(v.counts), findings: JSON.parse(v.findings),
})

const view = (v: RegisterVersion): VersionView => ({ ...stateOf(v), checkpoint: v.checkpoint ? JSON.parse(v.checkpoint) : null, redactions: versionRedactions(v) })

/** Signs the head just appended to (the chain is held): what a version carries as its checkpoint. */
async function signedStep(m: EntityManager, ws: string, keys: HistoryKeys): Promise<string> {
  const signed = await checkpointHead(m, ws, keys)
  return JSON.stringify(signed!.checkpoint)
}

/** The frozen document's name among the version's stored files (register_version_files, version-files.ts). */
export const FROZEN_DOCUMENT_FILE = 'json'

/**
 * The frozen document stored gzipped beside the version's other files, as it is frozen: a download
 * of it then reads a few MB (10,000 activities: 55 MB of JSON) and unzips them a chunk at a time,
 * instead of reading the whole document from register_versions for each chunk (version-files.ts).
 * Compressed off the event loop (zlib's thread pool).
 */
async function storeFrozenDocument(m: EntityManager, dialect: Database['dialect'], ws: string, number: number, document: string, at: string): Promise<void> {
  const bytes = Buffer.from(document, 'utf8')
  const zipped = (await promisify(gzip)(bytes)).toString('base64')
  // in parts, a row each: a download reads a part at a time (version-files.ts)
  for (let part = 0; part * VERSION_FILE_PART < zipped.length || part === 0; part++) {
    await m.query(placeholders(dialect, 'INSERT INTO "register_version_files" (workspace_id, number, file, part, rendered_at, bytes, gzip) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING'),
      [ws, number, FROZEN_DOCUMENT_FILE, part, at, bytes.length, zipped.slice(part * VERSION_FILE_PART, (part + 1) * VERSION_FILE_PART)])
  }
}

export const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex')

/**
 * The register services, reading inside the caller's transaction: so that the frozen document,
 * its findings and the history head are one consistent moment. The write transaction holds the
 * workspace's history chain (PostgreSQL) or the database's write lock (SQLite), so no change to
 * the workspace can commit in between.
 */
function within(m: EntityManager, dialect: Database['dialect']): Database {
  const series: ReadSeries = { read: (fn) => fn(m), close: async () => undefined }
  const bound = { dialect, dataSource: m.connection, read: series.read, snapshot: async () => series, write: series.read }
  return bound as unknown as Database
}

async function text(stream: Readable): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk))
  return Buffer.concat(chunks).toString('utf8')
}

const byId = (a: Row, b: Row): number => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)

/**
 * The whole register as one export document (`record: "all"`): the Art. 30(1) and the Art. 30(2)
 * exports taken on the same transaction, their activities and records merged by id, written in
 * the export's own layout (one record a line). The import takes it back like any export.
 */
async function frozenDocument(register: Database, ws: string, at: Date, version: Row | null, timeZone: string): Promise<{ document: string; counts: VersionCounts }> {
  const parts: Row[] = []
  for (const record of ['controller', 'processor'] as const) {
    const q: ExportQuery = { format: 'json', record, lang: 'en', delimiter: 'comma' }
    parts.push(JSON.parse(await text(exportRegister(register, ws, q, at, timeZone).stream)))
  }
  const lists = SECTIONS.map((s) => {
    const byKey = new Map<string, Row>()
    for (const part of parts) for (const r of part[s.key] as Row[]) byKey.set(r.id, r)
    return [s.key, [...byKey.values()].sort(byId)] as const
  })
  const head = {
    format: EXPORT_FORMAT, formatVersion: EXPORT_FORMAT_VERSION, generatedAt: at.toISOString(), workspace: ws, record: 'all',
    filters: { controllerId: null, status: null, asOf: null }, ...(version ? { registerVersion: version } : {}),
  }
  // the activities first, as in every export
  const ordered = [...lists.filter(([k]) => k === 'processingActivities'), ...lists.filter(([k]) => k !== 'processingActivities')]
  let document = JSON.stringify(head).slice(0, -1)
  for (const [key, records] of ordered) {
    document += `,\n${JSON.stringify(key)}:[` + (records.length ? '\n' + records.map((r) => JSON.stringify(r)).join(',\n') : '') + '\n]'
  }
  document += '}\n'
  const activities = lists.find(([k]) => k === 'processingActivities')![1]
  const counts: VersionCounts = {
    controllerActivities: activities.filter((a) => a.role === 'controller').length,
    processorActivities: activities.filter((a) => a.role === 'processor').length,
    ...Object.fromEntries(lists.map(([k, records]) => [k, records.length])),
  }
  return { document, counts }
}

const versions = (m: EntityManager) => m.getRepository(RegisterVersion)

/**
 * Freezes the register as it is now as the workspace's next version, proposed by the caller. The
 * frozen document names the history head it was frozen at and a signed checkpoint of it; the
 * proposal is then a history entry (with the contentHash and the proposer), and the checkpoint
 * signed after it is the version's.
 */
export async function proposeVersion(db: Database, who: Principal, body: unknown, timeZone: string, keys: HistoryKeys): Promise<VersionView> {
  const input = validateBody(VersionProposal, body ?? {})
  const ws = who.ws
  return db.write(async (m) => {
    await holdHistoryChain(m, ws)
    const last = await versions(m).createQueryBuilder('v').select('MAX(v.number)', 'n').where('v.workspaceId = :ws', { ws }).getRawOne()
    const number = Number(last?.n ?? 0) + 1
    const at = new Date()
    const head = (await historyHead(m, ws))?.hash ?? null
    const headSigned = head ? (await checkpointHead(m, ws, keys))!.checkpoint : null
    const note = input.note ?? null
    const register = within(m, db.dialect)
    const { document, counts } = await frozenDocument(register, ws, at, { number, proposedBy: who.sub, proposedAt: at.toISOString(), note, historyHead: head, ...(headSigned ? { historyCheckpoint: headSigned } : {}) }, timeZone)
    const found = await registerFindings(register, ws, {}, at, timeZone)
    const byRule: Record<string, number> = {}
    for (const f of found.items) byRule[f.rule] = (byRule[f.rule] ?? 0) + 1
    const findings: VersionFindings = { total: found.total, bySeverity: found.counts, byRule: Object.fromEntries(Object.entries(byRule).sort()) }
    const row: RegisterVersion = {
      workspaceId: ws, number, status: 'proposed', note, proposedBy: who.sub, proposedAt: at.toISOString(),
      approvedBy: null, approvedAt: null, approvalNote: null, rejectedBy: null, rejectedAt: null, rejectionReason: null,
      supersededAt: null, supersededBy: null, contentHash: sha256(document), historyHead: head,
      counts: JSON.stringify(counts), findings: JSON.stringify(findings), checkpoint: null, redactions: null, document,
    }
    await appendVersionHistory(m, who, row.proposedAt, [{ operation: 'propose', version: stateOf(row) }])
    row.checkpoint = await signedStep(m, ws, keys)
    await m.createQueryBuilder().insert().into(RegisterVersion).values(row).execute()
    await storeFrozenDocument(m, db.dialect, ws, number, document, row.proposedAt)
    return view(row)
  })
}

/**
 * A backup of the workspace: the whole register as one export document (`record: "all"`), with the
 * workspace's whole history (as stored, hashes included) and every register version (with its frozen
 * document), all as of one moment. POST /register/import takes it back into a workspace without a
 * register: the records through the write path, history and versions verbatim (see import.ts).
 */
export async function backupDocument(db: Database, ws: string, timeZone: string, keys: HistoryKeys): Promise<string> {
  return db.write(async (m) => {
    // the chain held: no change commits between the records, the history and the versions read here
    await holdHistoryChain(m, ws)
    // the head signed, so that the backup proves all its history (and can be restored)
    await checkpointHead(m, ws, keys)
    const { document } = await frozenDocument(within(m, db.dialect), ws, new Date(), null, timeZone)
    const parts = [document.slice(0, -2)]
    const entries = await m.getRepository(HistoryEntry).find({ where: { workspaceId: ws }, order: { seq: 'ASC' } })
    const salts = await saltsOf(m, ws, entries.filter((h) => h.hashVersion === 2).map((h) => h.hash))
    parts.push(',\n"history":[' + (entries.length ? '\n' + entries.map((h) => JSON.stringify(backupEntry(h, h.hash ? salts.get(h.hash) : undefined))).join(',\n') : '') + '\n]')
    const all = await versions(m).createQueryBuilder('v').addSelect('v.document').where('v.workspaceId = :ws', { ws }).orderBy('v.number', 'ASC').getMany()
    parts.push(',\n"registerVersions":[' + (all.length ? '\n' + all.map((v) => JSON.stringify({ ...view(v), document: v.document })).join(',\n') : '') + '\n]')
    const signed = await allCheckpoints(m, ws)
    parts.push(',\n"checkpoints":[' + (signed.length ? '\n' + signed.map((c) => JSON.stringify(c)).join(',\n') : '') + '\n]')
    return parts.join('') + '}\n'
  })
}

async function mustFindVersion(m: EntityManager, ws: string, which: number | 'approved'): Promise<RegisterVersion> {
  const found = await versions(m).findOne({ where: which === 'approved' ? { workspaceId: ws, status: 'approved' } : { workspaceId: ws, number: which } })
  if (!found) throw new VersionNotFound(which)
  return found
}

function mustBeProposed(v: RegisterVersion, action: string): void {
  if (v.status !== 'proposed') throw new Conflict('version_not_proposed', `Version ${v.number} is ${v.status}: only a proposed version can be ${action}`)
}

/**
 * Approves a proposed version (admin; with four eyes, not its proposer). The version approved
 * before it becomes superseded, so there is at most one approved version at a time.
 */
export async function approveVersion(db: Database, who: Principal, number: number, body: unknown, fourEyes: boolean, keys: HistoryKeys): Promise<VersionView> {
  const input = validateBody(VersionApproval, body ?? {})
  return db.write(async (m) => {
    await holdHistoryChain(m, who.ws)
    const v = await mustFindVersion(m, who.ws, number)
    mustBeProposed(v, 'approved')
    if (fourEyes && v.proposedBy === who.sub) {
      throw new Forbidden(`Version ${number} was proposed by ${who.sub}: another admin must approve it (four eyes)`)
    }
    const at = new Date().toISOString()
    const previous = await versions(m).findOne({ where: { workspaceId: who.ws, status: 'approved' } })
    const approved: RegisterVersion = { ...v, status: 'approved', approvedBy: who.sub, approvedAt: at, approvalNote: input.note ?? null }
    const superseded: RegisterVersion | null = previous ? { ...previous, status: 'superseded', supersededAt: at, supersededBy: number } : null
    // the approval and, following from it, the superseding of the version approved before: both in the
    // history chain, then signed; each row changes once, with the checkpoint that covers its entry
    await appendVersionHistory(m, who, at, [
      { operation: 'approve', version: stateOf(approved) },
      ...(superseded ? [{ operation: 'supersede' as const, version: stateOf(superseded) }] : []),
    ])
    const checkpoint = await signedStep(m, who.ws, keys)
    if (superseded) {
      await versions(m).createQueryBuilder().update().set({ status: 'superseded', supersededAt: at, supersededBy: number, checkpoint })
        .where('workspaceId = :ws AND number = :number', { ws: who.ws, number: superseded.number }).execute()
    }
    await versions(m).createQueryBuilder().update().set({ status: 'approved', approvedBy: who.sub, approvedAt: at, approvalNote: input.note ?? null, checkpoint })
      .where('workspaceId = :ws AND number = :number', { ws: who.ws, number }).execute()
    return view({ ...approved, checkpoint })
  })
}

/** Rejects a proposed version (admin), with the reason. */
export async function rejectVersion(db: Database, who: Principal, number: number, body: unknown, keys: HistoryKeys): Promise<VersionView> {
  const input = validateBody(VersionRejection, body)
  return db.write(async (m) => {
    await holdHistoryChain(m, who.ws)
    const v = await mustFindVersion(m, who.ws, number)
    mustBeProposed(v, 'rejected')
    const at = new Date().toISOString()
    const rejected: RegisterVersion = { ...v, status: 'rejected', rejectedBy: who.sub, rejectedAt: at, rejectionReason: input.reason }
    await appendVersionHistory(m, who, at, [{ operation: 'reject', version: stateOf(rejected) }])
    const checkpoint = await signedStep(m, who.ws, keys)
    await versions(m).createQueryBuilder().update().set({ status: 'rejected', rejectedBy: who.sub, rejectedAt: at, rejectionReason: input.reason, checkpoint })
      .where('workspaceId = :ws AND number = :number', { ws: who.ws, number }).execute()
    return view({ ...rejected, checkpoint })
  })
}

/** The workspace's versions, newest first. */
export async function listVersions(db: Database, ws: string, q: { status?: VersionStatus; limit: number; offset: number }): Promise<{ items: VersionView[]; total: number; limit: number; offset: number }> {
  return db.read(async (m) => {
    const [rows, total] = await versions(m).findAndCount({
      where: { workspaceId: ws, ...(q.status ? { status: q.status } : {}) }, order: { number: 'DESC' }, skip: q.offset, take: q.limit,
    })
    return { items: rows.map(view), total, limit: q.limit, offset: q.offset }
  })
}

export async function getVersion(db: Database, ws: string, which: number | 'approved'): Promise<VersionView> {
  return view(await db.read((m) => mustFindVersion(m, ws, which)))
}

/** A version with its frozen document. */
async function frozen(db: Database, ws: string, which: number | 'approved'): Promise<{ version: RegisterVersion; document: string }> {
  return db.read(async (m) => {
    const version = await mustFindVersion(m, ws, which)
    const row = await versions(m).createQueryBuilder('v').addSelect('v.document')
      .where('v.workspaceId = :ws AND v.number = :number', { ws, number: version.number }).getOne()
    return { version, document: row!.document }
  })
}

export interface VersionChanges extends ActivityChanges {
  /** The version compared. */
  version: number
  /** The version it is compared against (the earlier state). */
  against: number
}

/**
 * Processing activities added, changed (field by field) and removed from version `against` to
 * version `number`, in the shape of /register/changes: `at` and `actor` are the last change
 * (from history) to the activity as the later version shows it, or for a removed one, as the
 * earlier version showed it.
 */
export async function versionChanges(db: Database, ws: string, number: number, against: number): Promise<VersionChanges> {
  const [to, from] = [await frozen(db, ws, number), await frozen(db, ws, against)]
  const activities = (document: string): Map<string, Row> => new Map((JSON.parse(document).processingActivities as Row[]).map((a) => [a.id, a]))
  const [before, after] = [activities(from.document), activities(to.document)]
  const shown: Row[] = []
  const result: VersionChanges = { version: number, against, since: from.version.proposedAt, until: to.version.proposedAt, added: [], changed: [], removed: [] }
  const kinds: [Row, 'added' | 'changed' | 'removed', Row[] | undefined][] = []
  for (const [id, now] of after) {
    const then = before.get(id)
    if (!then) kinds.push([now, 'added', undefined])
    else {
      const fields = differences(then, now)
      if (fields.length) kinds.push([now, 'changed', fields as unknown as Row[]])
    }
  }
  for (const [id, then] of before) if (!after.has(id)) kinds.push([then, 'removed', undefined])
  for (const [state] of kinds) shown.push(state)
  const actors = await lastEditors(db, ws, shown)
  for (const [state, kind, fields] of kinds) {
    const who = { id: state.id, name: state.name, at: state.updatedAt, actor: actors.get(`${state.id}:${state.version}`) ?? 'unknown' }
    if (kind === 'changed') result.changed.push({ ...who, fields: fields as any })
    else result[kind].push(who)
  }
  return result
}

/** Who wrote each given version of an activity, from history: `id:version` → actor. */
async function lastEditors(db: Database, ws: string, states: Row[]): Promise<Map<string, string>> {
  const out = new Map<string, string>()
  const ids = [...new Set(states.map((s) => s.id))]
  for (let i = 0; i < ids.length; i += 500) {
    const rows = await db.read((m) => m.getRepository(HistoryEntry).createQueryBuilder('h').select(['h.recordId', 'h.version', 'h.actor', 'h.operation'])
      .where('h.workspaceId = :ws AND h.recordType = :type AND h.recordId IN (:...ids)', { ws, type: SECTION_OF_TYPE['processing-activity'].def.type, ids: ids.slice(i, i + 500) })
      .orderBy('h.seq', 'ASC').getMany())
    for (const h of rows) if (h.operation !== 'delete') out.set(`${h.recordId}:${h.version}`, h.actor)
  }
  return out
}
