import Ajv2020, { ErrorObject, ValidateFunction } from 'ajv/dist/2020'
import addFormats from 'ajv-formats'
import { EntityManager } from 'typeorm'
import { Database } from '../../db/database'
import { AppError, FieldError } from '../../errors'
import { publishedExportSchema, Section, SECTIONS } from './export-document'
import { legalBases, processors, viewNames } from '../records/model'
import type { FieldShape } from '../../dto/shape'
import { findIn, toViews } from '../records/reads'
import { addIdnEmailFormat } from '../../schemas/json-schema'
import type { Principal } from '../../auth/principal'
import { store, StoreItem, storeMany, StoreSeries, validateWrite } from '../records/writes'
import { HistoryEntry, RegisterVersion } from '../../../entities'
import { chainEntries, firstBrokenIn, RESTORE_RECORD_TYPE, versionRecordId } from '../records/journal'
import { createHash } from 'node:crypto'

import type { Row } from '../records/model'
type Counts = Record<string, number>

/**
 * Import of an export document (see export-document.ts): every record is created or updated by
 * its id through the same validation and write path as the CRUD routes, in one transaction, all or
 * nothing. References are satisfied by writing in the document's section order (controllers,
 * processors, catalogue entries, then activities); processors that are each other's sub-processors
 * are written first without them and completed afterwards.
 */
export interface ImportError {
  /** JSON path in the submitted document, e.g. `processingActivities[3].purposes[0].legalBases[1].id`. */
  path: string
  message: string
}

export interface ImportResult {
  dryRun: boolean
  created: Counts
  updated: Counts
  unchanged: Counts
  errors: ImportError[]
}

/** Errors reported at most; a document failing everywhere still gets a bounded answer. */
const MAX_ERRORS = 500

/** Records written per storeMany call: bounds the memory a batch holds (its bodies and views). */
const WRITE_BATCH = 500

/**
 * How long the import keeps the event loop before it lets other requests through. better-sqlite3
 * answers synchronously, so a transaction of awaited statements would otherwise run to its end
 * before any other request is even read; a read needs a few turns of the loop (parse, verify the
 * token, read, send), so each turn given to the import must be short. Reads go on meanwhile on
 * their own snapshots (they see the register before the import until it commits); other writes
 * wait for it.
 */
const SLICE_MS = 10

/**
 * Hands the event loop back once a slice has run SLICE_MS: the import's steps (validating a record,
 * building its view, each statement of a batch) check it as they go, so the import goes on at
 * full speed when no one else is waiting, and in short steps when they are.
 */
class Pacer {
  private sliceStart = performance.now()

  /** Lets others through if this slice has run its time. */
  readonly pace = async (): Promise<void> => {
    if (performance.now() - this.sliceStart < SLICE_MS) return
    await new Promise<void>((resolve) => setImmediate(resolve))
    this.sliceStart = performance.now()
  }
}

let documentValidator: ValidateFunction | null = null
function validator(): ValidateFunction {
  if (!documentValidator) {
    const ajv = new Ajv2020({ allErrors: true, strict: false })
    addFormats(ajv)
    addIdnEmailFormat(ajv)
    documentValidator = ajv.compile(publishedExportSchema())
  }
  return documentValidator
}
// Compiled once the service has started rather than in the first import, where it would hold up
// every request for the compile (a third of a second); a process that exits first does not wait.
setImmediate(() => {
  try {
    validator()
  } catch {
    // the first import compiles it again and reports the error
  }
}).unref()

/** Records checked against the schema per step (see Pacer). */
const VALIDATE_CHUNK = 100

/**
 * The document against the published schema: its top level first (with its lists empty), then each
 * list a chunk at a time, the event loop handed back between chunks. Errors are those the whole
 * document would give, each list's paths at their index in the document.
 */
async function validateDocument(doc: unknown, pacer: Pacer): Promise<ImportError[]> {
  const validate = validator()
  const errorsOf = (value: unknown): ErrorObject[] => (validate(value) ? [] : validate.errors ?? [])
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) return errorsOf(doc).slice(0, MAX_ERRORS).map(ajvError)
  const lists = SECTIONS.map((s) => s.key).filter((key) => Array.isArray((doc as Row)[key]))
  const top: Row = { ...doc, ...Object.fromEntries(lists.map((key) => [key, []])) }
  const errors = errorsOf(top)
  for (const key of lists) {
    const items = (doc as Row)[key] as unknown[]
    for (let start = 0; start < items.length && errors.length < MAX_ERRORS; start += VALIDATE_CHUNK) {
      await pacer.pace()
      const inList = new RegExp(`^/${key}/(\\d+)`)
      for (const e of errorsOf({ ...top, [key]: items.slice(start, start + VALIDATE_CHUNK) })) {
        const m = inList.exec(e.instancePath)
        if (m) errors.push({ ...e, instancePath: `/${key}/${start + Number(m[1])}${e.instancePath.slice(m[0].length)}` })
      }
    }
  }
  return errors.slice(0, MAX_ERRORS).map(ajvError)
}

/** `/processingActivities/3/purposes/0` → `processingActivities[3].purposes[0]` */
function jsonPath(pointer: string): string {
  return pointer.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((path, seg) => (/^\d+$/.test(seg) ? `${path}[${seg}]` : path ? `${path}.${seg}` : seg), '')
}

function ajvError(e: ErrorObject): ImportError {
  const at = jsonPath(e.instancePath)
  const join = (prop: string): string => (at ? `${at}.${prop}` : prop)
  const params = e.params as Record<string, any>
  if (e.keyword === 'required') return { path: join(params.missingProperty), message: `${join(params.missingProperty)} is required` }
  if (e.keyword === 'additionalProperties') return { path: join(params.additionalProperty), message: `${join(params.additionalProperty)} is not a known field` }
  if (e.keyword === 'enum') return { path: at || 'body', message: `${at || 'body'} must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}` }
  return { path: at || 'body', message: `${at || 'body'} ${e.message ?? 'is not valid'}` }
}

/** Write-body field → where the same value sits in a view (the document holds views): from the declarations. */
let viewFields: Map<string, FieldShape> | undefined

/** `purposes[0].legalBasisIds[1]` → `purposes[0].legalBases[1].id`, prefixed with the record's own path. */
export function documentPath(recordPath: string, field: string): string {
  if (!field || field === 'body') return recordPath
  const inView = field.split('.').map((seg) => {
    const m = /^(\w+)((?:\[\d+\])*)$/.exec(seg)
    if (!m) return seg
    const [, name, index] = m
    const f = (viewFields ??= viewNames()).get(name)
    if (f?.kind === 'refs') return f.as + index + (index ? '.id' : '')
    if (f?.kind === 'ref') return `${f.as}.id`
    if (name === 'mechanism') return 'mechanism.code'
    return seg
  }).join('.')
  return `${recordPath}.${inView}`
}

/** Thrown inside the transaction to roll it back (dry run, or errors found) with the result. */
class RolledBack extends Error {
  constructor(readonly result: ImportResult) {
    super('rolled back')
  }
}

/** Stable text of a write body: key order and undefined-vs-null do not make a change. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v) => (v && typeof v === 'object' && !Array.isArray(v)
    ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, v[k] === undefined ? null : v[k]]))
    : v)) ?? 'null'
}

const emptyCounts = (): Counts => Object.fromEntries(SECTIONS.map((s) => [s.key, 0]))

/**
 * A document exported before a field was added lacks it; the field is optional to a write, so it
 * is given as null (what the view of a record written then shows), and such a file imports as it did:
 * a purpose's Art. 13(2)(e) fields, a transfer's international organisation, a retention rule's
 * description in an activity's summary of it.
 */
function withFieldsAddedSince(doc: unknown): void {
  const activities = (doc as { processingActivities?: unknown } | null)?.processingActivities
  if (!Array.isArray(activities)) return
  const fill = (items: unknown, fields: string[]): void => {
    if (!Array.isArray(items)) return
    for (const item of items) if (item && typeof item === 'object') for (const f of fields) if (!(f in item)) (item as Record<string, unknown>)[f] = null
  }
  for (const a of activities) {
    if (!a || typeof a !== 'object') continue
    fill(a.purposes, ['provisionRequirement', 'provisionConsequences'])
    fill(a.transfers, ['internationalOrganisation'])
    if (Array.isArray(a.retention)) fill(a.retention.map((r: { retentionRule?: unknown } | null) => r?.retentionRule), ['description'])
  }
}

export async function importRegister(db: Database, who: Principal, doc: unknown, dryRun: boolean): Promise<ImportResult> {
  const result: ImportResult = { dryRun, created: emptyCounts(), updated: emptyCounts(), unchanged: emptyCounts(), errors: [] }
  const pacer = new Pacer()
  withFieldsAddedSince(doc)
  result.errors = await validateDocument(doc, pacer)
  if (!result.errors.length) {
    try {
      await db.write(async (m) => {
        // a transaction the database made start again (a deadlock, SQLite busy) counts afresh
        Object.assign(result, { created: emptyCounts(), updated: emptyCounts(), unchanged: emptyCounts(), errors: [] })
        await restoreHistory(m, who, doc as Row, result, pacer)
        await new Importer(m, who, result, pacer).run(doc as Row)
        if (dryRun || result.errors.length) throw new RolledBack(result)
      }, { bulk: true })
    } catch (err) {
      if (!(err instanceof RolledBack)) throw err
    }
  }
  if (!dryRun && result.errors.length) {
    // An import without the admin role may not touch legal bases, as the CRUD routes say.
    const forbidden = result.errors.some((e) => e.message.includes('needs the admin role'))
    const details: FieldError[] = result.errors.map((e) => ({ field: e.path, message: e.message }))
    throw new AppError(forbidden ? 403 : 400, forbidden ? 'forbidden' : 'validation_failed',
      `The import was not applied: ${details.length} error(s), first at ${details[0].field}`, details)
  }
  return result
}

interface Pending {
  section: Section
  index: number
  id: string
  body: Row
  existing: Row | null
  /** The stored record's write body, to tell an update from no change. */
  current: string | null
}

class Importer {
  constructor(private readonly m: EntityManager, private readonly who: Principal, private readonly result: ImportResult, private readonly pacer: Pacer) {}

  private error(path: string, message: string): void {
    if (this.result.errors.length < MAX_ERRORS) this.result.errors.push({ path, message })
  }

  private get ws(): string {
    return this.who.ws
  }

  async run(doc: Row): Promise<void> {
    for (const section of SECTIONS) {
      const items = await this.prepare(section, doc[section.key] as Row[])
      if (section.def === processors) await this.writeProcessors(items)
      else await this.writeAll(items)
    }
  }

  /**
   * A section's records through the batch write path (storeMany), a slice at a time: the same
   * checks, counts and errors as writing them one by one, errors reported in document order.
   */
  private async writeAll(items: Pending[]): Promise<void> {
    // a section writes one kind of record, which refers only to kinds written before it
    const series = new StoreSeries()
    for (let start = 0; start < items.length; start += WRITE_BATCH) {
      const slice = items.slice(start, start + WRITE_BATCH)
      const errors: ImportError[][] = slice.map(() => [])
      const toStore: { index: number; item: StoreItem }[] = []
      for (const [index, p] of slice.entries()) {
        await this.pacer.pace()
        const { def, key } = p.section
        const path = `${key}[${p.index}]`
        try {
          const dto = validateWrite(def, p.body, p.id)
          if (p.existing && p.current === canonical(p.body)) {
            this.result.unchanged[key]++
            continue
          }
          if (def === legalBases && this.who.role !== 'admin') {
            errors[index].push({ path, message: `${path}: creating or changing a legal basis needs the admin role; the token has ${this.who.role}` })
            continue
          }
          toStore.push({ index, item: { id: p.id, dto, existing: p.existing } })
        } catch (err) {
          if (!(err instanceof AppError)) throw err
          errors[index].push(...importErrors(path, err))
        }
      }
      if (toStore.length) {
        const { def, key } = slice[0].section
        const outcomes = await storeMany(this.m, this.who, def, toStore.map((s) => s.item), this.pacer.pace, series)
        outcomes.forEach((outcome, j) => {
          const { index, item } = toStore[j]
          if (outcome instanceof AppError) errors[index].push(...importErrors(`${key}[${slice[index].index}]`, outcome))
          else if (item.existing) this.result.updated[key]++
          else this.result.created[key]++
        })
      }
      for (const e of errors.flat()) this.error(e.path, e.message)
    }
    await series.drain()
  }

  /** Write bodies of a section's records, with what is stored under the same ids. */
  private async prepare(section: Section, views: Row[]): Promise<Pending[]> {
    const { def, key } = section
    const seen = new Map<string, number>()
    const ids = views.map((v) => v.id as string)
    const existingRows = new Map((await findIn(this.m, def.entity, this.ws, 'id', ids)).map((r) => [r.id, r]))
    const current = new Map<string, string>()
    const rows = [...existingRows.values()]
    for (let i = 0; i < rows.length; i += 50) {
      await this.pacer.pace()
      for (const v of await toViews(this.m, this.ws, def, rows.slice(i, i + 50))) current.set(v.id, canonical(def.toWrite(v)))
    }
    const out: Pending[] = []
    for (const [index, view] of views.entries()) {
      await this.pacer.pace()
      const path = `${key}[${index}]`
      if (seen.has(view.id)) {
        this.error(`${path}.id`, `${path}.id repeats ${key}[${seen.get(view.id)}].id`)
        continue
      }
      seen.set(view.id, index)
      const existing = existingRows.get(view.id) ?? null
      if (def === legalBases && !this.checkLegalBasis(path, view, existing)) continue
      out.push({ section, index, id: view.id, body: def.toWrite(view), existing, current: current.get(view.id) ?? null })
    }
    if (def === legalBases) await this.findBuiltIns(out)
    return out
  }

  /** Built-in legal bases are matched, never created: each workspace has them under the same ids. */
  private checkLegalBasis(path: string, view: Row, existing: Row | null): boolean {
    if (view.builtIn && !existing) {
      this.pendingBuiltIns.push({ path, view })
      return false
    }
    if (existing && Boolean(existing.builtIn) !== Boolean(view.builtIn)) {
      this.error(`${path}.builtIn`, existing.builtIn
        ? `${path} is the built-in entry ${existing.code} in this workspace; it cannot become a custom entry`
        : `${path} is a custom entry in this workspace; an import cannot make it built-in`)
      return false
    }
    return true
  }

  private pendingBuiltIns: { path: string; view: Row }[] = []

  private async findBuiltIns(_out: Pending[]): Promise<void> {
    if (!this.pendingBuiltIns.length) return
    const byCode = new Map((await findIn(this.m, legalBases.entity, this.ws, 'code', this.pendingBuiltIns.map((b) => b.view.code))).map((r) => [r.code, r]))
    for (const { path, view } of this.pendingBuiltIns) {
      const match = byCode.get(view.code)
      this.error(match ? `${path}.id` : `${path}.code`, match
        ? `the built-in entry ${view.code} has id ${match.id} in this workspace, not ${view.id}`
        : `there is no built-in legal basis with code ${view.code}; built-in entries are matched by code and never created by an import`)
    }
    this.pendingBuiltIns = []
  }

  /** Sub-processors first; processors that are each other's sub-processors in two steps. */
  private async writeProcessors(items: Pending[]): Promise<void> {
    const inDocument = new Set(items.map((i) => i.id))
    const done = new Set<string>()
    const deferred: Pending[] = []
    let pending = items
    while (pending.length) {
      const ready = pending.filter((p) => (p.body.subProcessorIds as string[]).every((s) => !inDocument.has(s) || done.has(s) || s === p.id))
      if (ready.length) {
        for (const p of ready) {
          await this.pacer.pace()
          await this.write(p)
          done.add(p.id)
        }
        pending = pending.filter((p) => !done.has(p.id))
        continue
      }
      // a cycle: write one without its sub-processors (if it is new), complete it after the others
      const [first, ...rest] = pending
      if (!first.existing) await this.write({ ...first, body: { ...first.body, subProcessorIds: [] } }, true)
      done.add(first.id)
      deferred.push(first)
      pending = rest
    }
    for (const p of deferred) {
      await this.pacer.pace()
      const existing = await findIn(this.m, processors.entity, this.ws, 'id', [p.id])
      await this.write({ ...p, existing: existing[0] ?? null }, false, Boolean(p.existing))
    }
  }

  /**
   * Creates or updates one record through the CRUD write path. `step` marks the first half of a
   * two-step write (not counted); `existedBefore` counts the second half as an update or a creation.
   */
  private async write(p: Pending, step = false, existedBefore = p.existing !== null): Promise<void> {
    const { def, key } = p.section
    const path = `${key}[${p.index}]`
    try {
      const dto = validateWrite(def, p.body, p.id)
      const unchanged = p.existing && p.current === canonical(p.body)
      if (unchanged) {
        if (!step) this.result.unchanged[key]++
        return
      }
      if (def === legalBases && this.who.role !== 'admin') {
        this.error(path, `${path}: creating or changing a legal basis needs the admin role; the token has ${this.who.role}`)
        return
      }
      await store(this.m, this.who, def, p.id, dto, p.existing)
      if (step) return
      if (existedBefore) this.result.updated[key]++
      else this.result.created[key]++
    } catch (err) {
      if (!(err instanceof AppError)) throw err
      for (const e of importErrors(path, err)) this.error(e.path, e.message)
    }
  }
}

/** A refused write as import errors: each detail at its path in the document. */
function importErrors(path: string, err: AppError): ImportError[] {
  if (err.details?.length) return err.details.map((d) => ({ path: documentPath(path, d.field), message: d.message }))
  return [{ path, message: err.message }]
}

// --- a backup's history and versions ------------------------------------------------------------

/**
 * A backup (GET /register/backup) carries the workspace's history and register versions beside its
 * records. They are restored verbatim, before the records, into a workspace without a register of
 * its own (its history holds at most the built-in catalogue's entries, and it has no version): an
 * anchor entry, chained to what the workspace has, names how many entries follow and the head they
 * end at; the entries follow as they were, hashes included; the versions keep their numbers,
 * statuses, frozen documents and contentHash. The records are then written as by any import, their
 * entries chained after the restored ones. Checked first: the chain as it was (from its first entry),
 * each version's document against its contentHash, and its historyHead against the chain.
 */
async function restoreHistory(m: EntityManager, who: Principal, doc: Row, result: ImportResult, pacer: Pacer): Promise<void> {
  const history = (doc.history ?? []) as Row[]
  const registerVersions = (doc.registerVersions ?? []) as Row[]
  if (!history.length && !registerVersions.length) return
  const ws = who.ws
  const before = result.errors.length
  const error = (path: string, message: string): void => {
    if (result.errors.length < MAX_ERRORS) result.errors.push({ path, message })
  }
  const own = await m.getRepository(HistoryEntry).createQueryBuilder('h')
    .where('h.workspaceId = :ws', { ws }).andWhere('NOT (h.actor = :system AND h.recordType = :catalogue)', { system: 'system', catalogue: 'legal-basis' }).getCount()
  if (own) error(history.length ? 'history' : 'registerVersions', `a history can be restored only into a workspace without a register of its own; this one has ${own} history entries`)
  if (await m.getRepository(RegisterVersion).count({ where: { workspaceId: ws } })) error('registerVersions', 'register versions can be restored only into a workspace without versions of its own')
  const broken = firstBrokenIn(history as any)
  if (broken >= 0) error(`history[${broken}].hash`, `history[${broken}].hash does not follow from the entry before it and its own content: the history was changed after it was backed up`)
  const hashes = new Set(history.map((h) => h.hash as string))
  const numbers = new Set<number>()
  registerVersions.forEach((v, i) => {
    if (numbers.has(v.number)) error(`registerVersions[${i}].number`, `registerVersions[${i}].number repeats version ${v.number}`)
    numbers.add(v.number)
    if (createHash('sha256').update(v.document, 'utf8').digest('hex') !== v.contentHash) {
      error(`registerVersions[${i}].contentHash`, `registerVersions[${i}].contentHash is not the SHA-256 of its document: the version was changed after it was frozen`)
    }
    if (v.historyHead !== null && !hashes.has(v.historyHead)) error(`registerVersions[${i}].historyHead`, `registerVersions[${i}].historyHead is not in the backup's history`)
  })
  if (result.errors.length > before) return
  if (history.length) {
    const head = history[history.length - 1].hash as string
    const [anchor] = await chainEntries(m, ws, [{
      workspaceId: ws, recordType: RESTORE_RECORD_TYPE, recordId: versionRecordId(head), version: history.length, operation: 'restore',
      actor: who.sub, at: new Date().toISOString(), state: JSON.stringify({ workspace: doc.workspace, entries: history.length, head }),
    }])
    await m.createQueryBuilder().insert().into(HistoryEntry).values(anchor).execute()
    for (let i = 0; i < history.length; i += 200) {
      const rows = history.slice(i, i + 200).map((h) => ({
        workspaceId: ws, recordType: h.recordType, recordId: h.recordId, version: h.version, operation: h.operation, actor: h.actor, at: h.at, state: h.state, hash: h.hash,
      }))
      await m.createQueryBuilder().insert().into(HistoryEntry).values(rows).execute()
      await pacer.pace()
    }
  }
  for (const v of registerVersions) {
    await m.createQueryBuilder().insert().into(RegisterVersion).values({
      workspaceId: ws, number: v.number, status: v.status, note: v.note, proposedBy: v.proposedBy, proposedAt: v.proposedAt,
      approvedBy: v.approvedBy, approvedAt: v.approvedAt, approvalNote: v.approvalNote, rejectedBy: v.rejectedBy, rejectedAt: v.rejectedAt,
      rejectionReason: v.rejectionReason, supersededAt: v.supersededAt, supersededBy: v.supersededBy, contentHash: v.contentHash,
      historyHead: v.historyHead, counts: JSON.stringify(v.counts), findings: JSON.stringify(v.findings), document: v.document,
    }).execute()
  }
}
