import { randomUUID } from 'node:crypto'
import { EntityManager, EntityTarget, In, Not } from 'typeorm'
import type { Principal } from '../../auth/principal'
import { Database } from '../../db/database'
import { validateBody } from '../../dto/validate'
import { AppError, FieldError, NotFound, Reference, StillReferenced, ValidationFailed } from '../../errors'
import { BUILT_IN_LEGAL_BASES, catalogueId } from './catalogue'
import { ENTITY_OF, RefUse, Resolver, RESOURCE_OF, ResourceDef, referencedFrom, legalBases, processingActivities } from './model'
import type { RecordType } from '../../dto/shape'
import { ReviewWrite } from '../../dto/register'
import { assembleViews, ChildRows, findIn, findRow, getView, leanRowsIn, loadSummaries, selectOf, toViews } from './reads'
import { dialectOfManager, placeholders, quoted } from '../../db/sql'
import { copyStatement } from '../../db/copy'
import type { Dialect } from '../../db/data-source'
import { appendHistory, ChainCursor, chainEntries, holdHistoryChain, Operation } from './journal'
import { resolveLegalBasisCodes } from './legal-basis-codes'
import { rewriteDependents, storeViews, summaryOf, viewJson } from './stored-views'
import { HistoryEntry, LegalBasis } from '../../../entities'

import type { Row } from './model'


const now = (): string => new Date().toISOString()

/** Changes the service makes itself, such as filling the catalogue, are attributed to `system`. */
const SYSTEM = (ws: string): Principal => ({ sub: 'system', role: 'admin', ws })

export class PreconditionFailed extends AppError {
  constructor(current: number) {
    super(412, 'precondition_failed', `The record has changed since you read it: it is at version ${current}. Read it again and reapply your change.`)
  }
}

/** Validates a write body: its request class first, then the cross-field rules. */
export function validateWrite(def: ResourceDef, body: unknown, id: string): Row {
  const dto = validateBody(def.writeClass, body) as Row
  const errors = def.rules?.(dto, id) ?? []
  if (errors.length) throw new ValidationFailed(errors)
  return dto
}

/** Which of `uses` name no record of the writer's workspace: one query per kind of record for all of them. */
async function missingReferences(m: EntityManager, ws: string, uses: RefUse[]): Promise<Set<RefUse>> {
  const byType = new Map<RecordType, RefUse[]>()
  for (const u of uses) {
    if (!byType.has(u.type)) byType.set(u.type, [])
    byType.get(u.type)!.push(u)
  }
  const missing = new Set<RefUse>()
  for (const [type, typeUses] of byType) {
    const found = new Set((await leanRowsIn(m, ENTITY_OF[type], ws, ['id'], 'id', typeUses.map((u) => u.id))).map((r) => r.id))
    for (const u of typeUses) if (!found.has(u.id)) missing.add(u)
  }
  return missing
}

/** References by kind of record, as loadSummaries takes them. */
function wantedBy(uses: RefUse[]): Map<RecordType, Set<string>> {
  const wanted = new Map<RecordType, Set<string>>()
  for (const u of uses) {
    if (!wanted.has(u.type)) wanted.set(u.type, new Set())
    wanted.get(u.type)!.add(u.id)
  }
  return wanted
}

const referenceErrors = (uses: RefUse[], missing: Set<RefUse>): FieldError[] => uses.filter((u) => missing.has(u))
  .map((u) => ({ field: u.field, message: `no ${RESOURCE_OF[u.type].title} with id ${u.id} in this workspace` }))

/** Every referenced id must exist in the writer's workspace; a 400 names each one that does not. */
async function checkReferences(m: EntityManager, ws: string, uses: RefUse[]): Promise<void> {
  const errors = referenceErrors(uses, await missingReferences(m, ws, uses))
  if (errors.length) throw new ValidationFailed(errors)
}

async function checkUnique(m: EntityManager, ws: string, def: ResourceDef, dto: Row, id: string): Promise<void> {
  for (const column of def.unique ?? []) {
    const clash = await m.getRepository(def.entity).findOne({ where: { workspaceId: ws, [column]: dto[column], id: Not(id) } as any, select: selectOf(['id']) })
    if (clash) throw new AppError(409, 'duplicate', `Another ${def.title} already has this ${column}`, [{ field: column, message: `${column} ${dto[column]} is already used by ${clash.id}` }])
  }
}

async function replaceChildren(m: EntityManager, ws: string, def: ResourceDef, id: string, dto: Row | null): Promise<void> {
  for (const child of def.children) {
    await m.createQueryBuilder().delete().from(child.entity).where('workspaceId = :ws AND ownerId = :id', { ws, id }).execute()
  }
  if (!dto) return
  for (const child of def.children) {
    const rows = child.rows(dto).map((r) => ({ workspaceId: ws, ownerId: id, ...r }))
    for (let i = 0; i < rows.length; i += 200) {
      await m.createQueryBuilder().insert().into(child.entity).values(rows.slice(i, i + 200)).execute()
    }
  }
}

/**
 * A write's UPDATE or DELETE found the record at another version than it read: another write
 * came first. With If-Match the client hears 412; without, the write starts again (see retried).
 */
class LostRace extends PreconditionFailed {
  constructor(readonly current: number) {
    super(current)
  }
}

/** Writes without If-Match are never answered 412: a write that lost a race reads again and reapplies. */
async function retried<T>(expectedVersion: number | undefined, fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn()
    } catch (err) {
      if (!(err instanceof LostRace) || expectedVersion !== undefined || attempt >= 5) throw err
    }
  }
}

/**
 * The stored row a write starts from. On PostgreSQL it is locked until the transaction ends, so
 * that writes of one record take turns and a rewrite of its dependents' views sees it whole. The
 * history chain is taken first: every write takes its locks in one order, the chain and then rows
 * (docs/architecture.md, "One lock order"), so no two writes wait for each other in a cycle.
 */
async function mustFind(m: EntityManager, ws: string, def: ResourceDef, id: string, expectedVersion?: number): Promise<Row> {
  await holdHistoryChain(m, ws)
  const existing = m.connection.driver.options.type === 'postgres'
    ? await m.getRepository(def.entity).findOne({ where: { workspaceId: ws, id } as any, lock: { mode: 'pessimistic_write' } })
    : await findRow(m, ws, def, id)
  if (!existing) throw new NotFound(def.title, id)
  if (expectedVersion !== undefined && existing.version !== expectedVersion) throw new PreconditionFailed(existing.version)
  return existing
}

/**
 * The one write path: checks, the row, its lists, and the history entry, in the caller's
 * transaction, so there is no change without its history and no history without its change.
 * `extra` sets stored columns no write body carries (e.g. who reviewed an activity).
 */
export async function store(m: EntityManager, who: Principal, def: ResourceDef, id: string, dto: Row, existing: Row | null, extra: Row = {}): Promise<Row> {
  const ws = who.ws
  await holdHistoryChain(m, ws)
  if (existing && def.guardReplace) {
    const refused = def.guardReplace(existing, dto)
    if (refused.length) throw new AppError(409, 'built_in_entry', refused[0].message, refused)
  }
  await resolveLegalBasisCodes(m, ws, def, dto)
  await checkReferences(m, ws, def.refUses(dto))
  await checkUnique(m, ws, def, dto, id)
  const at = now()
  if (existing) {
    const result = await m.createQueryBuilder().update(def.entity)
      .set({ ...def.columns(dto), ...extra, updatedAt: at, version: existing.version + 1 })
      .where('workspaceId = :ws AND id = :id AND version = :version', { ws, id, version: existing.version })
      .execute()
    if (result.affected === 0) throw new LostRace(existing.version + 1)
  } else {
    await m.createQueryBuilder().insert().into(def.entity)
      .values({ workspaceId: ws, id, createdAt: at, updatedAt: at, version: 1, ...def.insertDefaults, ...def.columns(dto), ...extra })
      .execute()
  }
  await replaceChildren(m, ws, def, id, dto)
  const view = (await getView(m, ws, def, id))!
  const refused = def.viewRules?.(view, existing) ?? []
  if (refused.length) throw new ValidationFailed(refused)
  await storeViews(m, ws, def, [view])
  if (existing && summaryOf(def.type, existing) !== summaryOf(def.type, view)) await rewriteDependents(m, ws, def.type, id)
  await appendHistory(m, who, def.type, view, existing ? 'update' : 'create', at)
  return view
}

/** A record for storeMany: its id, validated write body, and the stored row it replaces (null: a new record). */
export interface StoreItem {
  id: string
  dto: Row
  existing: Row | null
}

/**
 * From this many rows on, PostgreSQL gets them by COPY (src/db/copy.ts) rather than by multi-row
 * INSERTs: an import's batches; a CRUD write's few rows keep the one-round-trip INSERT.
 */
const COPY_FROM = 64

/** Rows per multi-row INSERT: well below every database's limit on parameters. */
const rowsPerInsert = (columns: number): number => Math.max(1, Math.floor(8000 / Math.max(1, columns)))

/**
 * Rows into a table by multi-row INSERTs, their values converted as the query builder would
 * (booleans, JSON lists), `?` placeholders written as the dialect wants them.
 */
async function insertRows(m: EntityManager, entity: EntityTarget<any>, rows: Row[], series?: StoreSeries): Promise<void> {
  if (!rows.length) return
  const dialect = dialectOfManager(m)
  const metadata = m.connection.getMetadata(entity)
  const driver = m.connection.driver
  // the columns of the properties given, those of embedded objects (contacts) included
  const given = new Set(Object.keys(rows[0]))
  const columns = metadata.columns.filter((c) => given.has(c.propertyPath.split('.')[0]))
  const into = `INSERT INTO ${quoted(metadata.tableName)} (${columns.map((c) => quoted(c.databaseName)).join(', ')}) VALUES `
  const tuple = `(${columns.map(() => '?').join(', ')})`
  // a plain column's value is the row's property (what getEntityValue answers for it, read
  // directly: an import converts a few million values)
  const read = columns.map((c): ((row: Row) => unknown) => {
    if (c.embeddedMetadata || c.relationMetadata || c.referencedColumn) return (row) => c.getEntityValue(row)
    const property = c.propertyName
    return (row) => row[property]
  })
  const value = (row: Row, k: number): unknown => driver.preparePersistentValue(read[k](row) ?? null, columns[k]) ?? null
  if (dialect === 'postgres' && rows.length >= COPY_FROM) {
    const statement = copyStatement(m, quoted(metadata.tableName), columns.map((c) => quoted(c.databaseName)), rows, value)
    if (series) await series.send(m, statement)
    else await statement()
    return
  }
  const per = rowsPerInsert(columns.length)
  for (let i = 0; i < rows.length; i += per) {
    const end = Math.min(rows.length, i + per)
    const values: unknown[] = new Array((end - i) * columns.length)
    let v = 0
    for (let r = i; r < end; r++) {
      const row = rows[r]
      for (let k = 0; k < columns.length; k++) values[v++] = value(row, k)
    }
    const sql = insertText(dialect, into, tuple, end - i)
    if (series) await series.send(m, () => m.query(sql, values))
    else await m.query(sql, values)
  }
}

/** Statements a series lets run ahead of it at most (PostgreSQL): bounds the memory their parameters hold. */
const IN_FLIGHT = 16

/**
 * What the storeMany calls of one kind of record in one transaction share (an import writes a
 * section in batches): the summaries of the records they refer to, read once rather than per batch;
 * the history chain's head (see ChainCursor); and, on PostgreSQL, the INSERTs run one after another
 * behind the caller's back, so that the database stores one batch while the next one is validated
 * and its views built. Any other statement on the transaction waits for them first (`drain`), so
 * the connection runs one statement at a time, in the order they were made. Valid only while no
 * record of the kinds referred to is written: one series per kind, drained before the transaction
 * goes on to anything else. A statement that fails makes `drain` (and every later `send`) throw
 * its error, and the statements after it are not run.
 */
export class StoreSeries {
  readonly chain = new ChainCursor()
  /** Summaries by kind and id; null: no such record in the workspace. */
  private readonly summaries = new Map<RecordType, Map<string, Row | null>>()
  /** The last statement sent, and each one's end, in order. */
  private tail: Promise<void> = Promise.resolve()
  private readonly ends: Promise<void>[] = []
  private failure: { error: unknown } | null = null

  /** Reads the summaries of the records named that are not known yet. */
  async know(m: EntityManager, ws: string, wanted: Map<RecordType, Set<string>>): Promise<void> {
    const unknown = new Map<RecordType, Set<string>>()
    for (const [type, ids] of wanted) {
      const known = this.summaries.get(type)
      const missing = [...ids].filter((id) => !known?.has(id))
      if (missing.length) unknown.set(type, new Set(missing))
    }
    if (!unknown.size) return
    await this.drain()
    const found = await loadSummaries(m, ws, unknown)
    for (const [type, ids] of unknown) {
      if (!this.summaries.has(type)) this.summaries.set(type, new Map())
      const known = this.summaries.get(type)!
      for (const id of ids) known.set(id, found.ref(type, id))
    }
  }

  exists(type: RecordType, id: string): boolean {
    return Boolean(this.summaries.get(type)?.get(id))
  }

  /** As loadSummaries answers, for records made known. */
  readonly resolver: Resolver = { ref: (type, id) => (id ? this.summaries.get(type)?.get(id) ?? null : null) }

  /** Runs a statement whose answer nobody reads: on PostgreSQL behind the caller's back (up to IN_FLIGHT of them). */
  async send(m: EntityManager, statement: () => Promise<unknown>): Promise<void> {
    this.throwIfFailed()
    if (dialectOfManager(m) !== 'postgres') {
      await statement()
      return
    }
    this.tail = this.tail.then(async () => {
      if (this.failure) return
      try {
        await statement()
      } catch (error) {
        this.failure = { error }
      }
    })
    this.ends.push(this.tail)
    if (this.ends.length > IN_FLIGHT) await this.ends.shift()
    this.throwIfFailed()
  }

  /** Waits for every statement sent; throws the first failure. */
  async drain(): Promise<void> {
    await this.tail
    this.ends.length = 0
    this.throwIfFailed()
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure.error
  }
}

/** The text of multi-row INSERTs by dialect, columns and number of rows: an import sends the same few again and again. */
const insertTexts = new Map<string, string>()

function insertText(dialect: Dialect, into: string, tuple: string, rows: number): string {
  const key = `${dialect} ${rows} ${into}`
  let sql = insertTexts.get(key)
  if (!sql) {
    sql = placeholders(dialect, into + new Array(rows).fill(tuple).join(', '))
    if (insertTexts.size >= 200) insertTexts.clear()
    insertTexts.set(key, sql)
  }
  return sql
}

/** Records that refer to records of their own kind must be written one by one, in order. */
const batchable = (def: ResourceDef): boolean => !def.unique?.length &&
  ![...def.refs, ...def.children.flatMap((c) => c.refs)].some((r) => r.type === def.type)

/**
 * The one write path for many records of one kind at once (an import): the same checks, rows and
 * history entries as store, in the caller's transaction, but each query covers the whole batch,
 * and each view is built from the rows just written (as getView would read them). Answers, per item, its
 * view or the AppError that refused it; a refused item writes nothing. Kinds whose records must
 * be unique or refer to each other are stored one by one through store.
 */
export async function storeMany(m: EntityManager, who: Principal, def: ResourceDef, items: StoreItem[], pace: () => Promise<void> = async () => undefined, series?: StoreSeries): Promise<(Row | AppError)[]> {
  const out: (Row | AppError)[] = new Array(items.length)
  if (!batchable(def)) {
    await series?.drain()
    // store reads the chain's head itself and appends to it
    if (series) series.chain.head = undefined
    for (const [i, item] of items.entries()) {
      try {
        await pace()
        out[i] = await store(m, who, def, item.id, item.dto, item.existing)
      } catch (err) {
        if (!(err instanceof AppError)) throw err
        out[i] = err
      }
    }
    return out
  }
  const ws = who.ws
  if (!series?.chain.held) await holdHistoryChain(m, ws)
  const ok: number[] = []
  const uses = items.map((item) => def.refUses(item.dto))
  const allUses = uses.flat()
  let missing: Set<RefUse>
  if (series) {
    await series.know(m, ws, wantedBy(allUses))
    missing = new Set(allUses.filter((u) => !series.exists(u.type, u.id)))
  } else {
    missing = await missingReferences(m, ws, allUses)
  }
  items.forEach((item, i) => {
    const refused = item.existing && def.guardReplace ? def.guardReplace(item.existing, item.dto) : []
    if (refused.length) {
      out[i] = new AppError(409, 'built_in_entry', refused[0].message, refused)
      return
    }
    const errors = referenceErrors(uses[i], missing)
    if (errors.length) out[i] = new ValidationFailed(errors)
    else ok.push(i)
  })
  const at = now()
  // The views first, from the rows about to be written rather than read back (which doubled an
  // import's time): the stored row is what is inserted, or the existing row with what is set, so
  // they are what getView returns (test/writes-batch.test.ts compares them). Each row is then
  // written with its stored view.
  const childrenByOwner = new Map<string, ChildRows>(ok.map((i) => [items[i].id, new Map()]))
  for (const child of def.children) {
    for (const i of ok) childrenByOwner.get(items[i].id)!.set(child.entity, child.rows(items[i].dto).map((r) => ({ workspaceId: ws, ownerId: items[i].id, ...r })))
  }
  const plannedRows: Row[] = ok.map((i) => {
    const { id, dto, existing } = items[i]
    return existing
      ? { ...existing, ...def.columns(dto), updatedAt: at, version: existing.version + 1 }
      : { workspaceId: ws, id, createdAt: at, updatedAt: at, version: 1, ...def.insertDefaults, ...def.columns(dto) }
  })
  const views = new Map<string, Row>()
  if (series) {
    // the records the views show, as assembleViews would read them (most are known already)
    const shown: RefUse[] = []
    for (const row of plannedRows) {
      for (const ref of def.refs) if (row[ref.column]) shown.push({ type: ref.type, id: row[ref.column], field: '' })
      for (const child of def.children) {
        for (const c of childrenByOwner.get(row.id)!.get(child.entity)!) for (const ref of child.refs) if (c[ref.column]) shown.push({ type: ref.type, id: c[ref.column], field: '' })
      }
    }
    await series.know(m, ws, wantedBy(shown))
  }
  for (let i = 0; i < plannedRows.length; i += 50) {
    await pace()
    const rows = plannedRows.slice(i, i + 50)
    const built = series
      ? rows.map((r) => def.view(r, childrenByOwner.get(r.id) ?? new Map(), series.resolver))
      : await assembleViews(m, ws, def, rows, childrenByOwner)
    for (const view of built) views.set(view.id, view)
  }
  const created: Row[] = []
  const stored: number[] = []
  const renamed: string[] = []
  for (const i of ok) {
    await pace()
    const { id, dto, existing } = items[i]
    const view = views.get(id)!
    const refused = def.viewRules?.(view, existing) ?? []
    if (refused.length) {
      out[i] = new ValidationFailed(refused)
      continue
    }
    const resolvedView = viewJson(def, view)
    const computed = def.viewColumns?.(view) ?? {}
    if (!existing) {
      created.push({ workspaceId: ws, id, createdAt: at, updatedAt: at, version: 1, ...def.insertDefaults, ...def.columns(dto), ...computed, resolvedView })
      stored.push(i)
      continue
    }
    await series?.drain()
    const result = await m.createQueryBuilder().update(def.entity)
      .set({ ...def.columns(dto), ...computed, updatedAt: at, version: existing.version + 1, resolvedView })
      .where('workspaceId = :ws AND id = :id AND version = :version', { ws, id, version: existing.version })
      .execute()
    if (result.affected === 0) {
      out[i] = new PreconditionFailed(existing.version + 1)
      continue
    }
    stored.push(i)
    if (summaryOf(def.type, existing) !== summaryOf(def.type, views.get(id)!)) renamed.push(id)
  }
  await insertRows(m, def.entity, created, series)
  const written = stored.map((i) => items[i])
  const replaced = written.filter((item) => item.existing).map((item) => item.id)
  for (const child of def.children) {
    for (let i = 0; i < replaced.length; i += 500) {
      const ids = replaced.slice(i, i + 500)
      const remove = (): Promise<unknown> => m.createQueryBuilder().delete().from(child.entity).where('workspaceId = :ws AND ownerId IN (:...ids)', { ws, ids }).execute()
      if (series) await series.send(m, remove)
      else await remove()
    }
    await pace()
    await insertRows(m, child.entity, written.flatMap((item) => childrenByOwner.get(item.id)!.get(child.entity)!), series)
  }
  if (renamed.length) await series?.drain()
  for (const id of renamed) {
    await pace()
    await rewriteDependents(m, ws, def.type, id)
  }
  await pace()
  // the chain's head is read once per series, after the statements before it
  if (series?.chain.head === undefined) await series?.drain()
  // the history entries, as appendHistory writes them, in multi-row INSERTs
  await insertRows(m, HistoryEntry, await chainEntries(m, ws, stored.map((i) => {
    const view = views.get(items[i].id)!
    const operation: Operation = items[i].existing ? 'update' : 'create'
    return { workspaceId: ws, recordType: def.type, recordId: view.id, version: view.version, operation, actor: who.sub, at, state: JSON.stringify(view) }
  }), series?.chain), series)
  for (const i of stored) out[i] = views.get(items[i].id)!
  return out
}

export async function createRecord(db: Database, who: Principal, def: ResourceDef, body: unknown): Promise<Row> {
  const id = randomUUID()
  const dto = validateWrite(def, body, id)
  return db.write((m) => store(m, who, def, id, dto, null))
}

/** PUT: the body replaces the record; fields left out are cleared. */
export async function replaceRecord(db: Database, who: Principal, def: ResourceDef, id: string, body: unknown, expectedVersion?: number): Promise<Row> {
  const dto = validateWrite(def, body, id)
  return retried(expectedVersion, () => db.write(async (m) => store(m, who, def, id, dto, await mustFind(m, who.ws, def, id, expectedVersion))))
}

/** PATCH: the fields given replace the stored ones (lists and nested objects whole); the rest stay. */
export async function updateRecord(db: Database, who: Principal, def: ResourceDef, id: string, body: unknown, expectedVersion?: number): Promise<Row> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new ValidationFailed([{ field: 'body', message: 'the body must be a JSON object' }])
  }
  return retried(expectedVersion, () => db.write(async (m) => {
    const existing = await mustFind(m, who.ws, def, id, expectedVersion)
    const current = def.toWrite((await getView(m, who.ws, def, id))!)
    const dto = validateWrite(def, { ...current, ...body }, id)
    return store(m, who, def, id, dto, existing)
  }))
}

/** The records that refer to record `id` of kind `type`, by name. */
export async function referencesTo(m: EntityManager, ws: string, type: RecordType, id: string): Promise<Reference[]> {
  const owners = new Map<RecordType, Set<string>>()
  for (const from of referencedFrom(type)) {
    const rows = await m.getRepository(from.entity).find({ where: { workspaceId: ws, [from.column]: id } as any, select: selectOf([from.ownerColumn]) })
    for (const r of rows) {
      if (from.ownerType === type && r[from.ownerColumn] === id) continue
      if (!owners.has(from.ownerType)) owners.set(from.ownerType, new Set())
      owners.get(from.ownerType)!.add(r[from.ownerColumn])
    }
  }
  const out: Reference[] = []
  for (const [ownerType, idSet] of owners) {
    const rows = await findIn(m, ENTITY_OF[ownerType], ws, 'id', [...idSet], { select: selectOf(['id', 'name']), order: { name: 'ASC' } })
    out.push(...rows.map((r) => ({ type: ownerType, id: r.id, name: r.name })))
  }
  return out
}

/** Deletes a record that nothing refers to; its own lists go with it, nothing else does. */
export async function deleteRecord(db: Database, who: Principal, def: ResourceDef, id: string, expectedVersion?: number): Promise<void> {
  await retried(expectedVersion, () => db.write(async (m) => remove(m, who, def, await mustFind(m, who.ws, def, id, expectedVersion))))
}

/**
 * The one delete path, in the caller's transaction (the chain held): refused while anything refers
 * to the record; its own lists go with it, and its history entry is appended.
 */
export async function remove(m: EntityManager, who: Principal, def: ResourceDef, existing: Row): Promise<void> {
  const id = existing.id as string
  await holdHistoryChain(m, who.ws)
  const refused = def.guardDelete?.(existing)
  if (refused) throw new AppError(409, 'built_in_entry', refused)
  const refs = await referencesTo(m, who.ws, def.type, id)
  if (refs.length) throw new StillReferenced(def.title, refs)
  const before = (await getView(m, who.ws, def, id))!
  // the row first, at the version read: a write that came in between makes this one start again
  const result = await m.createQueryBuilder().delete().from(def.entity)
    .where('workspaceId = :ws AND id = :id AND version = :version', { ws: who.ws, id, version: existing.version }).execute()
  if (result.affected === 0) throw new LostRace(existing.version + 1)
  await replaceChildren(m, who.ws, def, id, null)
  await appendHistory(m, who, def.type, before, 'delete', now())
}

/**
 * Copies the built-in legal-basis catalogue into a workspace the first time it is used (and adds
 * entries that a newer release ships). Built-in ids are derived from the codes, so they are the
 * same in every workspace and instance.
 */
export async function ensureCatalogue(db: Database, ws: string): Promise<void> {
  await db.write((m) => fillCatalogue(m, ws))
}

/** The catalogue's missing built-in entries, added in the caller's write transaction (with a new workspace's row, say). */
export async function fillCatalogue(m: EntityManager, ws: string): Promise<void> {
  const present = new Set((await m.getRepository(LegalBasis).find({ where: { workspaceId: ws, code: In(BUILT_IN_LEGAL_BASES.map((b) => b.code)) }, select: { code: true } })).map((r) => r.code))
  const missing = BUILT_IN_LEGAL_BASES.filter((b) => !present.has(b.code))
  if (!missing.length) return
  await holdHistoryChain(m, ws)
  const at = now()
  await m.createQueryBuilder().insert().into(legalBases.entity).orIgnore()
    .values(missing.map((b) => ({ ...legalBases.columns(b), workspaceId: ws, id: catalogueId(b.code), createdAt: at, updatedAt: at, version: 1, builtIn: true })))
    .execute()
  // the catalogue is part of the register as it stood: history holds it like any other record
  // (entries another instance added at the same moment have another timestamp, and their own history)
  const added = await findIn(m, legalBases.entity, ws, 'id', missing.map((b) => catalogueId(b.code)))
  for (const view of await toViews(m, ws, legalBases, added.filter((r) => r.createdAt === at))) {
    await storeViews(m, ws, legalBases, [view])
    await appendHistory(m, SYSTEM(ws), 'legal-basis', view, 'create', at)
  }
}

const addYear = (date: string): string => `${Number(date.slice(0, 4)) + 1}${date.slice(4) === '-02-29' ? '-02-28' : date.slice(4)}`

/** Marks an activity reviewed `today` (registerToday: the register's time zone) by the caller, with the next review due (default: in a year). */
export async function markReviewed(db: Database, who: Principal, id: string, body: unknown, today: string, expectedVersion?: number): Promise<Row> {
  const input = validateBody(ReviewWrite, body ?? {}) as Row
  const next = input.nextReviewAt ?? addYear(today)
  if (next <= today) throw new ValidationFailed([{ field: 'nextReviewAt', message: 'nextReviewAt must be after today' }])
  const def = processingActivities
  return retried(expectedVersion, () => db.write(async (m) => {
    const existing = await mustFind(m, who.ws, def, id, expectedVersion)
    const current = def.toWrite((await getView(m, who.ws, def, id))!)
    const dto = validateWrite(def, { ...current, lastReviewedAt: today, nextReviewAt: next }, id)
    return store(m, who, def, id, dto, existing, { lastReviewedBy: who.sub })
  }))
}
