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
import { HistoryCheckpoint, HistoryEntry, RegisterVersion } from '../../../entities'
import {
  chainEntries, REDACTION_RECORD_TYPE, RESTORE_OPERATION, RESTORE_RECORD_TYPE, RESTORED_OPERATION, storeSalts, VERSION_RECORD_TYPE, versionRecordId,
} from '../records/journal'
import { REDACTED } from '../records/commitments'
import { RECORD_TYPES } from '../../schemas/accountability'

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
  /** A restore's register versions left out, each with why (only when there are any). */
  leftOut?: ImportError[]
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
 * description in an activity's summary of it, the DPIA screening's facts (unanswered) and its outcome
 * (computed again on import in any case).
 */
function withFieldsAddedSince(doc: unknown): void {
  const activities = (doc as { processingActivities?: unknown } | null)?.processingActivities
  if (!Array.isArray(activities)) return
  const fill = (items: unknown, fields: string[]): void => {
    if (!Array.isArray(items)) return
    for (const item of items) if (item && typeof item === 'object') for (const f of fields) if (!(f in item)) (item as Record<string, unknown>)[f] = null
  }
  const d = doc as Record<string, unknown>
  fill(d.dataSubjectCategories, ['vulnerable'])
  fill(d.dataCategories, ['highlyPersonal'])
  // the DPIA screening's facts (unanswered), and its outcome, which the import computes again whatever a document says
  fill(activities, ['riskFactors', 'dataSubjectsApprox', 'individualProfessional'])
  for (const a of activities) {
    if (!a || typeof a !== 'object') continue
    if (!('dpiaScreening' in a)) a.dpiaScreening = { outcome: 'undetermined', met: [], setAside: [], unanswered: [] }
    fill(a.dataSubjectCategories, ['vulnerable'])
    fill(a.dataCategories, ['highlyPersonal'])
    if (Array.isArray(a.retention)) for (const r of a.retention) fill(r?.dataCategories, ['highlyPersonal'])
    fill(a.purposes, ['provisionRequirement', 'provisionConsequences'])
    fill(a.transfers, ['internationalOrganisation'])
    if (Array.isArray(a.retention)) fill(a.retention.map((r: { retentionRule?: unknown } | null) => r?.retentionRule), ['description'])
  }
}

/**
 * What a restore needs from the accountability room, handed in by the caller (the exchange room sits
 * below it): the proof check of a backup, and signing the head once the restore is written.
 */
export interface RestoreProof {
  /** The backup's proof checked with the keys the service trusts: null when it holds, else the first failure. */
  check(doc: Row): Promise<ImportError | null>
  /** Signs the workspace's head inside the transaction (the chain held). */
  signHead(m: EntityManager, ws: string): Promise<void>
}

/** Whether a document carries history, versions or checkpoints: a backup to restore, not only records. */
export const carriesHistory = (doc: unknown): boolean =>
  Boolean(doc && typeof doc === 'object' && ['history', 'registerVersions', 'checkpoints'].some((k) => Array.isArray((doc as Row)[k]) && (doc as Row)[k].length))

export async function importRegister(db: Database, who: Principal, doc: unknown, dryRun: boolean, proof?: RestoreProof): Promise<ImportResult> {
  const result: ImportResult = { dryRun, created: emptyCounts(), updated: emptyCounts(), unchanged: emptyCounts(), errors: [] }
  const restoring = carriesHistory(doc)
  // history and established versions are the accountability record: restoring them is the most
  // privileged write there is, refused before anything is read (four eyes would mean nothing if
  // an editor could plant an approved version)
  if (restoring && who.role !== 'admin') {
    throw new AppError(403, 'forbidden', `Restoring history, register versions and checkpoints from a backup needs the admin role; the token has ${who.role}. Import the document without them to restore only the records`)
  }
  const pacer = new Pacer()
  withFieldsAddedSince(doc)
  result.errors = await validateDocument(doc, pacer)
  if (!result.errors.length && restoring) {
    result.errors = await checkRestoredShapes(doc as Row, pacer)
    if (!result.errors.length) {
      const failure = proof ? await proof.check(doc as Row) : { path: 'checkpoints', message: 'checkpoints: this import cannot check signed checkpoints, so it restores no history' }
      if (failure) result.errors.push(failure)
    }
  }
  if (!result.errors.length) {
    try {
      await db.write(async (m) => {
        // a transaction the database made start again (a deadlock, SQLite busy) counts afresh
        Object.assign(result, { created: emptyCounts(), updated: emptyCounts(), unchanged: emptyCounts(), errors: [] })
        delete result.leftOut
        const restored = await restoreHistory(m, who, doc as Row, result, pacer)
        await new Importer(m, who, result, pacer).run(doc as Row)
        if (dryRun || result.errors.length) throw new RolledBack(result)
        // the restored chain with the records written after it, signed
        if (restored && proof) await proof.signHead(m, who.ws)
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

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const OPERATIONS: Record<string, string[]> = {
  ...Object.fromEntries(RECORD_TYPES.map((t) => [t, ['create', 'update', 'delete']])),
  [VERSION_RECORD_TYPE]: ['propose', 'approve', 'reject', 'supersede'],
  [RESTORE_RECORD_TYPE]: [RESTORE_OPERATION, RESTORED_OPERATION],
  [REDACTION_RECORD_TYPE]: ['redact'],
}
const isInstant = (v: unknown): boolean => typeof v === 'string' && ISO_INSTANT.test(v) && !Number.isNaN(Date.parse(v))
const isObject = (v: unknown): v is Row => Boolean(v) && typeof v === 'object' && !Array.isArray(v)
const isCount = (v: unknown): boolean => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 2147483647
const counted = (v: unknown): boolean => isObject(v) && Object.values(v).every(isCount)

/** The top of an export document with its lists empty, to check one record against its list's schema. */
const emptyDocument = (): Row => ({
  format: 'gdpr-art30-register', formatVersion: 1, generatedAt: new Date(0).toISOString(), workspace: 'check', record: 'all',
  filters: { controllerId: null, status: null, asOf: null }, ...Object.fromEntries(SECTIONS.map((s) => [s.key, []])),
})

/** Does the value at this path (keys and list positions) hold a redaction's marker anywhere within? */
function markedAt(root: unknown, path: string[]): boolean {
  let at: any = root
  for (const token of path) {
    if (at === null || typeof at !== 'object') return false
    at = at[token.replace(/~1/g, '/').replace(/~0/g, '~')]
  }
  return at !== undefined && JSON.stringify(at).includes(REDACTED)
}

/**
 * Everything restored is what readers will later read: each history entry's state is the JSON of an
 * object of its kind (a record as its view, with the entry's id and version; a register version as
 * the version), times are instants, and each version's document is an export document of the whole
 * register, so that nothing planted in a backup fails a read (the register as of a moment, a
 * version's CSV) for everyone in the workspace later. Each failure names the entry.
 */
async function checkRestoredShapes(doc: Row, pacer: Pacer): Promise<ImportError[]> {
  const errors: ImportError[] = []
  const error = (path: string, message: string): void => {
    if (errors.length < MAX_ERRORS) errors.push({ path, message: `${path} ${message}` })
  }
  const validate = validator()
  const sectionOf = new Map(SECTIONS.map((s) => [s.def.type as string, s.key]))
  const top = emptyDocument()
  for (const [i, h] of ((doc.history ?? []) as Row[]).entries()) {
    await pacer.pace()
    const path = `history[${i}]`
    const operations = OPERATIONS[h.recordType]
    if (!operations) {
      error(`${path}.recordType`, `must be one of ${Object.keys(OPERATIONS).join(', ')}, e.g. "processing-activity"`)
      continue
    }
    if (!operations.includes(h.operation)) error(`${path}.operation`, `must be one of ${operations.join(', ')} for ${h.recordType}`)
    if (!UUID.test(h.recordId)) error(`${path}.recordId`, 'must be a UUID, e.g. "0d9e3f4a-6a51-4c8e-9a8e-2f1f5b7c9d10"')
    if (!isInstant(h.at)) error(`${path}.at`, 'must be an instant in UTC, e.g. "2026-12-01T14:02:51.007Z"')
    let state: unknown
    try {
      state = JSON.parse(h.state)
    } catch {
      state = undefined
    }
    if (!isObject(state)) {
      error(`${path}.state`, 'must be the JSON text of an object (the record, version or restore the entry is about)')
      continue
    }
    const key = sectionOf.get(h.recordType)
    if (key) {
      if (state.id !== h.recordId) error(`${path}.state`, `must be the record ${h.recordId} (its id is ${JSON.stringify(state.id)})`)
      if (state.version !== h.version || !isCount(state.version) || state.version < 1) error(`${path}.state.version`, `must be the entry's version, ${h.version} (1 or more)`)
      // the record's view as its list in an export holds it; a field added since may be missing, and
      // one since removed may remain, in a state written long ago
      const checked = { ...top, [key]: [state] }
      validate(checked)
      // where a redaction erased a value, its marker is no e-mail address or phone number
      const erased = (pointer: string): boolean => Boolean(h.redacted) && markedAt(checked, pointer.split('/').slice(1))
      for (const e of (validate.errors ?? []).filter((x) => x.keyword !== 'required' && x.keyword !== 'additionalProperties' && !erased(x.instancePath)).slice(0, 5)) {
        error(`${path}.state${jsonPath(e.instancePath.replace(new RegExp(`^/${key}/0`), '')).replace(/^(?=[^[])/, '.')}`, e.message ?? 'is not valid')
      }
    } else if (h.recordType === VERSION_RECORD_TYPE) {
      if (state.number !== h.version || !isCount(state.number) || state.number < 1) error(`${path}.state.number`, `must be the entry's version, ${h.version} (1 to 2147483647)`)
      if (typeof state.contentHash !== 'string' || !/^[0-9a-f]{64}$/.test(state.contentHash)) error(`${path}.state.contentHash`, 'must be a SHA-256 in hex')
      if (!counted(state.counts)) error(`${path}.state.counts`, 'must be counts of records by kind, e.g. { "processingActivities": 12 }')
    } else if (h.operation === RESTORE_OPERATION && !(isCount(state.entries) && state.entries > 0 && typeof state.head === 'string')) {
      error(`${path}.state`, 'must name the entries restored and their head, e.g. { "workspace": "acme", "entries": 412, "head": "9f2c…" }')
    }
  }
  for (const [i, v] of ((doc.registerVersions ?? []) as Row[]).entries()) {
    await pacer.pace()
    const path = `registerVersions[${i}]`
    for (const field of ['proposedAt', 'approvedAt', 'rejectedAt', 'supersededAt']) {
      if ((field === 'proposedAt' || v[field] !== null) && !isInstant(v[field])) error(`${path}.${field}`, 'must be an instant in UTC, e.g. "2026-12-01T14:02:51.007Z"')
    }
    const f = v.findings
    if (!isObject(f) || !isCount(f.total) || !counted(f.bySeverity) || !counted(f.byRule)) error(`${path}.findings`, 'must be { total, bySeverity, byRule } with counts, e.g. { "total": 1, "bySeverity": { "high": 1 }, "byRule": { "retention-missing": 1 } }')
    let frozen: unknown
    try {
      frozen = JSON.parse(v.document)
    } catch {
      frozen = undefined
    }
    if (!isObject(frozen)) {
      error(`${path}.document`, 'must be the JSON text of the register export document the version froze')
      continue
    }
    const redacted = Array.isArray(v.redactions) && v.redactions.length > 0
    const problems = (await validateDocument(frozen, pacer)).filter((e) => !(redacted && markedAt(frozen, e.path.match(/[^.[\]]+/g) ?? [])))
    for (const e of problems.slice(0, 5)) error(`${path}.document.${e.path}`, `(${e.message})`)
    if (!problems.length) {
      if (frozen.record !== 'all') error(`${path}.document.record`, 'must be "all": a version freezes the whole register')
      if (!isObject(frozen.registerVersion) || frozen.registerVersion.number !== v.number) error(`${path}.document.registerVersion.number`, `must be the version's number, ${v.number}`)
    }
  }
  return errors
}

/**
 * A backup (GET /register/backup) carries the workspace's history, register versions and signed
 * checkpoints beside its records. Checked before this (checkRestoredShapes, and the proof: the chain
 * from its first entry, every checkpoint signed by a trusted key, the head signed, every version
 * what the chain says it is), they are restored verbatim, before the records, into the token's
 * workspace if it has no register of its own (its history holds at most the built-in catalogue's
 * entries, and it has no version): an anchor entry, chained to what the workspace has, names how
 * many entries follow and the head they end at; the entries follow as they were, hashes included;
 * a closing entry, chained to the last of them, names the anchor; the versions keep their numbers,
 * statuses, frozen documents, contentHash and checkpoint; the checkpoints are kept with the number
 * of entries before the chain they count. The records are then written as by any import, their
 * entries chained after the closing one. Answers whether anything was restored.
 */
async function restoreHistory(m: EntityManager, who: Principal, doc: Row, result: ImportResult, pacer: Pacer): Promise<boolean> {
  const history = (doc.history ?? []) as Row[]
  const registerVersions = (doc.registerVersions ?? []) as Row[]
  const checkpoints = (doc.checkpoints ?? []) as Row[]
  if (!history.length && !registerVersions.length) return false
  const ws = who.ws
  const before = result.errors.length
  const error = (path: string, message: string): void => {
    if (result.errors.length < MAX_ERRORS) result.errors.push({ path, message })
  }
  const own = await m.getRepository(HistoryEntry).createQueryBuilder('h')
    .where('h.workspaceId = :ws', { ws }).andWhere('NOT (h.actor = :system AND h.recordType = :catalogue)', { system: 'system', catalogue: 'legal-basis' }).getCount()
  if (own) error(history.length ? 'history' : 'registerVersions', `a history can be restored only into a workspace without a register of its own; this one has ${own} history entries`)
  if (await m.getRepository(RegisterVersion).count({ where: { workspaceId: ws } })) error('registerVersions', 'register versions can be restored only into a workspace without versions of its own')
  const numbers = new Set<number>()
  registerVersions.forEach((v, i) => {
    if (numbers.has(v.number)) error(`registerVersions[${i}].number`, `registerVersions[${i}].number repeats version ${v.number}`)
    numbers.add(v.number)
  })
  if (result.errors.length > before) return false
  const entriesBefore = await m.getRepository(HistoryEntry).count({ where: { workspaceId: ws } })
  const head = history[history.length - 1].hash as string
  const at = new Date().toISOString()
  const [anchor] = await chainEntries(m, ws, [{
    workspaceId: ws, recordType: RESTORE_RECORD_TYPE, recordId: versionRecordId(head), version: history.length, operation: RESTORE_OPERATION,
    actor: who.sub, at, state: JSON.stringify({ workspace: doc.workspace, entries: history.length, head }),
  }])
  await m.createQueryBuilder().insert().into(HistoryEntry).values(anchor).execute()
  for (let i = 0; i < history.length; i += 200) {
    const rows = history.slice(i, i + 200).map((h) => ({
      workspaceId: ws, recordType: h.recordType, recordId: h.recordId, version: h.version, operation: h.operation, actor: h.actor, at: h.at, state: h.state, hash: h.hash,
      hashVersion: h.hashVersion ?? 1, redacted: h.redacted ? JSON.stringify(h.redacted) : null,
    }))
    await m.createQueryBuilder().insert().into(HistoryEntry).values(rows).execute()
    await storeSalts(m, ws, history.slice(i, i + 200))
    await pacer.pace()
  }
  const [closing] = await chainEntries(m, ws, [{
    workspaceId: ws, recordType: RESTORE_RECORD_TYPE, recordId: versionRecordId(head), version: history.length, operation: RESTORED_OPERATION,
    actor: who.sub, at, state: JSON.stringify({ anchor: anchor.hash, head }),
  }])
  await m.createQueryBuilder().insert().into(HistoryEntry).values(closing).execute()
  // A version no entry states passed the proof only as a proposal nobody decided, made before
  // proposals were history entries (accountability/proof.ts): nothing signed says it was proposed
  // with that document, so it is not restored, and the answer says so (never restored as decided).
  const stated = new Set(history.filter((h) => h.recordType === VERSION_RECORD_TYPE).map((h) => h.version))
  const leftOut = registerVersions.flatMap((v, i) => (stated.has(v.number) ? [] : [{
    path: `registerVersions[${i}]`,
    message: `registerVersions[${i}] (version ${v.number}, proposed by ${v.proposedBy} at ${v.proposedAt}, never approved or rejected) was not restored: it was proposed before proposals were history entries, so no signed history covers it. Its frozen document stays in the backup; propose the register again to establish it`,
  }]))
  if (leftOut.length) result.leftOut = leftOut
  for (const v of registerVersions.filter((x) => stated.has(x.number))) {
    await m.createQueryBuilder().insert().into(RegisterVersion).values({
      workspaceId: ws, number: v.number, status: v.status, note: v.note, proposedBy: v.proposedBy, proposedAt: v.proposedAt,
      approvedBy: v.approvedBy, approvedAt: v.approvedAt, approvalNote: v.approvalNote, rejectedBy: v.rejectedBy, rejectedAt: v.rejectedAt,
      rejectionReason: v.rejectionReason, supersededAt: v.supersededAt, supersededBy: v.supersededBy, contentHash: v.contentHash,
      historyHead: v.historyHead, counts: JSON.stringify(v.counts), findings: JSON.stringify(v.findings), document: v.document,
      redactions: Array.isArray(v.redactions) && v.redactions.length ? JSON.stringify(v.redactions) : null,
      checkpoint: v.checkpoint ? JSON.stringify({ seq: v.checkpoint.seq, head: v.checkpoint.head, at: v.checkpoint.at, kid: v.checkpoint.kid, jws: v.checkpoint.jws }) : null,
    }).execute()
  }
  // each checkpoint still counts its seq in the chain it signed, which now starts after the anchor
  for (let i = 0; i < checkpoints.length; i += 200) {
    await m.createQueryBuilder().insert().into(HistoryCheckpoint).values(checkpoints.slice(i, i + 200).map((c) => ({
      workspaceId: ws, seq: c.seq, head: c.head, at: c.at, kid: c.kid, jws: c.jws, base: entriesBefore + 1 + (c.base ?? 0),
    }))).execute()
  }
  return true
}
