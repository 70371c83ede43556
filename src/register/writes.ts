import { randomUUID } from 'node:crypto'
import { EntityManager, In, Not } from 'typeorm'
import { Database } from '../db/database'
import { validateBody } from '../dto/validate'
import { AppError, FieldError, NotFound, Reference, StillReferenced, ValidationFailed } from '../errors'
import { BUILT_IN_LEGAL_BASES, catalogueId } from './catalogue'
import { ENTITY_OF, RecordType, RefUse, RESOURCE_OF, ResourceDef, referencedFrom, legalBases, processingActivities } from './model'
import { ReviewWrite } from '../dto/register'
import { findIn, findRow, getView, selectOf, toViews } from './reads'
import { appendHistory } from './history'
import { LegalBasis } from '../../entities'

type Row = Record<string, any>

/** Who is writing: the token's subject, role and workspace. */
export interface Principal {
  sub: string
  role: 'reader' | 'editor' | 'admin'
  ws: string
}

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

/** Every referenced id must exist in the writer's workspace; a 400 names each one that does not. */
async function checkReferences(m: EntityManager, ws: string, uses: RefUse[]): Promise<void> {
  const byType = new Map<RecordType, RefUse[]>()
  for (const u of uses) {
    if (!byType.has(u.type)) byType.set(u.type, [])
    byType.get(u.type)!.push(u)
  }
  const errors: FieldError[] = []
  for (const [type, typeUses] of byType) {
    const found = new Set((await findIn(m, ENTITY_OF[type], ws, 'id', typeUses.map((u) => u.id), { select: selectOf(['id']) })).map((r) => r.id))
    for (const u of typeUses) {
      if (!found.has(u.id)) errors.push({ field: u.field, message: `no ${RESOURCE_OF[type].title} with id ${u.id} in this workspace` })
    }
  }
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

async function mustFind(m: EntityManager, ws: string, def: ResourceDef, id: string, expectedVersion?: number): Promise<Row> {
  const existing = await findRow(m, ws, def, id)
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
  if (existing && def.guardReplace) {
    const refused = def.guardReplace(existing, dto)
    if (refused.length) throw new AppError(409, 'built_in_entry', refused[0].message, refused)
  }
  await checkReferences(m, ws, def.refUses(dto))
  await checkUnique(m, ws, def, dto, id)
  const at = now()
  if (existing) {
    const result = await m.createQueryBuilder().update(def.entity)
      .set({ ...def.columns(dto), ...extra, updatedAt: at, version: existing.version + 1 })
      .where('workspaceId = :ws AND id = :id AND version = :version', { ws, id, version: existing.version })
      .execute()
    if (result.affected === 0) throw new PreconditionFailed(existing.version + 1)
  } else {
    await m.createQueryBuilder().insert().into(def.entity)
      .values({ workspaceId: ws, id, createdAt: at, updatedAt: at, version: 1, ...def.insertDefaults, ...def.columns(dto), ...extra })
      .execute()
  }
  await replaceChildren(m, ws, def, id, dto)
  const view = (await getView(m, ws, def, id))!
  await appendHistory(m, who, def.type, view, existing ? 'update' : 'create', at)
  return view
}

export async function createRecord(db: Database, who: Principal, def: ResourceDef, body: unknown): Promise<Row> {
  const id = randomUUID()
  const dto = validateWrite(def, body, id)
  return db.write((m) => store(m, who, def, id, dto, null))
}

/** PUT: the body replaces the record; fields left out are cleared. */
export async function replaceRecord(db: Database, who: Principal, def: ResourceDef, id: string, body: unknown, expectedVersion?: number): Promise<Row> {
  const dto = validateWrite(def, body, id)
  return db.write(async (m) => store(m, who, def, id, dto, await mustFind(m, who.ws, def, id, expectedVersion)))
}

/**
 * Creates the record under the given id, or replaces it (as PUT does) when it exists: for records
 * loaded under stable ids, such as the demo register, so that loading them again adds nothing.
 */
export async function upsertRecord(db: Database, who: Principal, def: ResourceDef, id: string, body: unknown): Promise<Row> {
  const dto = validateWrite(def, body, id)
  return db.write(async (m) => store(m, who, def, id, dto, await findRow(m, who.ws, def, id)))
}

/** PATCH: the fields given replace the stored ones (lists and nested objects whole); the rest stay. */
export async function updateRecord(db: Database, who: Principal, def: ResourceDef, id: string, body: unknown, expectedVersion?: number): Promise<Row> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new ValidationFailed([{ field: 'body', message: 'the body must be a JSON object' }])
  }
  return db.write(async (m) => {
    const existing = await mustFind(m, who.ws, def, id, expectedVersion)
    const current = def.toWrite((await getView(m, who.ws, def, id))!)
    const dto = validateWrite(def, { ...current, ...body }, id)
    return store(m, who, def, id, dto, existing)
  })
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
  await db.write(async (m) => {
    const existing = await mustFind(m, who.ws, def, id, expectedVersion)
    const refused = def.guardDelete?.(existing)
    if (refused) throw new AppError(409, 'built_in_entry', refused)
    const refs = await referencesTo(m, who.ws, def.type, id)
    if (refs.length) throw new StillReferenced(def.title, refs)
    const before = (await getView(m, who.ws, def, id))!
    await replaceChildren(m, who.ws, def, id, null)
    await m.createQueryBuilder().delete().from(def.entity).where('workspaceId = :ws AND id = :id', { ws: who.ws, id }).execute()
    await appendHistory(m, who, def.type, before, 'delete', now())
  })
}

/**
 * Copies the built-in legal-basis catalogue into a workspace the first time it is used (and adds
 * entries that a newer release ships). Built-in ids are derived from the codes, so they are the
 * same in every workspace and instance.
 */
export async function ensureCatalogue(db: Database, ws: string): Promise<void> {
  await db.write(async (m) => {
    const present = new Set((await m.getRepository(LegalBasis).find({ where: { workspaceId: ws, code: In(BUILT_IN_LEGAL_BASES.map((b) => b.code)) }, select: { code: true } })).map((r) => r.code))
    const missing = BUILT_IN_LEGAL_BASES.filter((b) => !present.has(b.code))
    if (!missing.length) return
    const at = now()
    await m.createQueryBuilder().insert().into(legalBases.entity).orIgnore()
      .values(missing.map((b) => ({ ...b, workspaceId: ws, id: catalogueId(b.code), createdAt: at, updatedAt: at, version: 1, builtIn: true })))
      .execute()
    // the catalogue is part of the register as it stood: history holds it like any other record
    // (entries another instance added at the same moment have another timestamp, and their own history)
    const added = await findIn(m, legalBases.entity, ws, 'id', missing.map((b) => catalogueId(b.code)))
    for (const view of await toViews(m, ws, legalBases, added.filter((r) => r.createdAt === at))) {
      await appendHistory(m, SYSTEM(ws), 'legal-basis', view, 'create', at)
    }
  })
}

const addYear = (date: string): string => `${Number(date.slice(0, 4)) + 1}${date.slice(4) === '-02-29' ? '-02-28' : date.slice(4)}`

/** Marks an activity reviewed today by the caller, with the next review due (default: in a year). */
export async function markReviewed(db: Database, who: Principal, id: string, body: unknown, expectedVersion?: number): Promise<Row> {
  const input = validateBody(ReviewWrite, body ?? {}) as Row
  const today = now().slice(0, 10)
  const next = input.nextReviewAt ?? addYear(today)
  if (next <= today) throw new ValidationFailed([{ field: 'nextReviewAt', message: 'nextReviewAt must be after today' }])
  const def = processingActivities
  return db.write(async (m) => {
    const existing = await mustFind(m, who.ws, def, id, expectedVersion)
    const current = def.toWrite((await getView(m, who.ws, def, id))!)
    const dto = validateWrite(def, { ...current, lastReviewedAt: today, nextReviewAt: next }, id)
    return store(m, who, def, id, dto, existing, { lastReviewedBy: who.sub })
  })
}
