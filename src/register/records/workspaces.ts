import { WORKSPACE_PATTERN } from '../../auth/principal'
import { Database } from '../../db/database'
import { Conflict, NotFound, ValidationFailed } from '../../errors'
import { In } from 'typeorm'
import { LegalBasis, Workspace } from '../../../entities'
import { BUILT_IN_LEGAL_BASES } from './catalogue'
import { ensureCatalogue, fillCatalogue } from './writes'

function checkId(id: string): void {
  if (!WORKSPACE_PATTERN.test(id)) throw new ValidationFailed([{ field: 'id', message: 'id must be 1 to 64 letters, digits, dots, dashes or underscores, starting with a letter or digit' }])
}

function checkName(name: string): string {
  const trimmed = name.trim()
  // eslint-disable-next-line no-control-regex
  if (!trimmed || trimmed.length > 200 || /[\u0000-\u001f\u007f]/.test(trimmed)) {
    throw new ValidationFailed([{ field: 'name', message: 'name must be 1 to 200 characters without control characters' }])
  }
  return trimmed
}

export async function listWorkspaces(db: Database): Promise<Workspace[]> {
  return db.read((m) => m.getRepository(Workspace).find({ order: { id: 'ASC' } }))
}

export async function findWorkspace(db: Database, id: string): Promise<Workspace | null> {
  return db.read((m) => m.getRepository(Workspace).findOneBy({ id }))
}

/**
 * Registers a workspace with its built-in catalogue, in one transaction: a workspace is never seen
 * without its catalogue, so its first read has nothing to write.
 */
export async function addWorkspace(db: Database, id: string, name = id): Promise<Workspace> {
  checkId(id)
  const workspace = { id, name: checkName(name), createdAt: new Date().toISOString() }
  await db.write(async (m) => {
    const repo = m.getRepository(Workspace)
    if (await repo.findOneBy({ id })) throw new Conflict('workspace_exists', `The workspace ${id} is already registered`)
    await repo.insert(workspace)
    await fillCatalogue(m, id)
  })
  return workspace
}

export async function renameWorkspace(db: Database, id: string, name: string): Promise<Workspace> {
  checkId(id)
  const newName = checkName(name)
  return db.write(async (m) => {
    const repo = m.getRepository(Workspace)
    const found = await repo.findOneBy({ id })
    if (!found) throw new NotFound('workspace', id)
    await repo.update({ id }, { name: newName })
    return { ...found, name: newName }
  })
}

const BUILT_IN_CODES = BUILT_IN_LEGAL_BASES.map((b) => b.code)

/** Whether the workspace is registered, and whether it holds every built-in catalogue entry: reads only. */
async function workspaceState(db: Database, id: string): Promise<{ registered: boolean; catalogued: boolean }> {
  return db.read(async (m) => {
    if (!(await m.getRepository(Workspace).existsBy({ id }))) return { registered: false, catalogued: false }
    const present = await m.getRepository(LegalBasis).countBy({ workspaceId: id, code: In(BUILT_IN_CODES) })
    return { registered: true, catalogued: present === BUILT_IN_CODES.length }
  })
}

/**
 * Opens a workspace for a request: false when it is unknown and may not be created. A registered
 * workspace holds its catalogue already (registered with it, or completed when the service started:
 * `completeCatalogues`), so opening it only reads, and a read never waits behind a write. Written are
 * only a workspace created on its first use (development), with its catalogue in one transaction, and
 * the catalogue of a workspace that an older release registered while this one was running.
 */
export async function openWorkspace(db: Database, id: string, createIfMissing: boolean): Promise<boolean> {
  const { registered, catalogued } = await workspaceState(db, id)
  if (registered && catalogued) return true
  if (registered) {
    await ensureCatalogue(db, id)
    return true
  }
  if (!createIfMissing) return false
  await db.write(async (m) => {
    await m.createQueryBuilder().insert().into(Workspace).orIgnore().values({ id, name: id, createdAt: new Date().toISOString() }).execute()
    await fillCatalogue(m, id)
  })
  return true
}

/**
 * Completes the built-in catalogue of every registered workspace that lacks an entry (one this release
 * added; a workspace registered by an older release before its catalogue was written), when the
 * service starts, so that no request has to. Returns the workspaces it completed.
 */
export async function completeCatalogues(db: Database): Promise<string[]> {
  const incomplete = await db.read(async (m) => {
    const all = (await m.getRepository(Workspace).find({ select: { id: true } })).map((w) => w.id)
    const counts = await m.getRepository(LegalBasis).createQueryBuilder('l').select('l.workspaceId', 'ws').addSelect('COUNT(*)', 'n')
      .where('l.code IN (:...codes)', { codes: BUILT_IN_CODES }).groupBy('l.workspaceId').getRawMany<{ ws: string; n: string | number }>()
    const complete = new Set(counts.filter((c) => Number(c.n) === BUILT_IN_CODES.length).map((c) => c.ws))
    return all.filter((id) => !complete.has(id))
  })
  for (const id of incomplete) await ensureCatalogue(db, id)
  return incomplete
}
