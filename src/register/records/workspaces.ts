import { WORKSPACE_PATTERN } from '../../auth/principal'
import { Database } from '../../db/database'
import { Conflict, NotFound, ValidationFailed } from '../../errors'
import { Workspace } from '../../../entities'
import { ensureCatalogue } from './writes'

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

/** Registers a workspace and copies the built-in catalogue into it, so that it is ready for its first token. */
export async function addWorkspace(db: Database, id: string, name = id): Promise<Workspace> {
  checkId(id)
  const workspace = { id, name: checkName(name), createdAt: new Date().toISOString() }
  await db.write(async (m) => {
    const repo = m.getRepository(Workspace)
    if (await repo.findOneBy({ id })) throw new Conflict('workspace_exists', `The workspace ${id} is already registered`)
    await repo.insert(workspace)
  })
  await ensureCatalogue(db, id)
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

/**
 * Opens a workspace for a request: present, or (in development) registered on its first use, and
 * holding the built-in catalogue (including entries a newer release added). False when it is unknown
 * and may not be created.
 */
export async function openWorkspace(db: Database, id: string, createIfMissing: boolean): Promise<boolean> {
  if (!(await findWorkspace(db, id))) {
    if (!createIfMissing) return false
    await db.write((m) => m.createQueryBuilder().insert().into(Workspace).orIgnore()
      .values({ id, name: id, createdAt: new Date().toISOString() }).execute())
  }
  await ensureCatalogue(db, id)
  return true
}
