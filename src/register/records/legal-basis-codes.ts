import { EntityManager, In } from 'typeorm'
import { LegalBasis } from '../../../entities'
import { FieldError, ValidationFailed } from '../../errors'
import { ResourceDef } from './model'

import type { Row } from './model'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/**
 * A purpose's legal bases may be given by code (`A6-1-b`) as well as by id: a person writing a
 * request knows the article, not the catalogue's UUID. Codes are replaced by the ids they name in
 * the writer's workspace before the record is checked and stored, so views, history and exports
 * hold ids as before. An unknown code is a 400 naming the field.
 */
export async function resolveLegalBasisCodes(m: EntityManager, ws: string, def: ResourceDef, dto: Row): Promise<void> {
  if (def.type !== 'processing-activity' || !Array.isArray(dto.purposes)) return
  const codes = new Set<string>()
  for (const p of dto.purposes as Row[]) for (const ref of p.legalBasisIds ?? []) if (!UUID.test(ref)) codes.add(ref)
  if (!codes.size) return
  const rows = await m.getRepository(LegalBasis).find({ where: { workspaceId: ws, code: In([...codes]) }, select: { id: true, code: true } })
  const idOf = new Map(rows.map((r) => [r.code, r.id]))
  const errors: FieldError[] = []
  for (const [i, p] of (dto.purposes as Row[]).entries()) {
    if (!p.legalBasisIds) continue
    p.legalBasisIds = (p.legalBasisIds as string[]).map((ref, j) => {
      if (UUID.test(ref)) return ref
      const id = idOf.get(ref)
      if (!id) errors.push({ field: `purposes[${i}].legalBasisIds[${j}]`, message: `no legal basis with code ${ref} in this workspace` })
      return id ?? ref
    })
    const ids = p.legalBasisIds as string[]
    ids.forEach((id, j) => {
      if (ids.indexOf(id) !== j) errors.push({ field: `purposes[${i}].legalBasisIds[${j}]`, message: `purposes[${i}].legalBasisIds names the same legal basis twice (by id and by code)` })
    })
  }
  if (errors.length) throw new ValidationFailed(errors)
}
