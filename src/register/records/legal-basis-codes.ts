import { EntityManager } from 'typeorm'
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
/** Words for an unknown code: the codes like it that exist (or the first few), and where all of them are listed. */
function unknownCode(code: string, known: string[]): string {
  const head = code.split('-')[0].toLowerCase()
  const alike = known.filter((k) => k.split('-')[0].toLowerCase() === head)
  const shown = (alike.length ? alike : known).slice(0, 12)
  const more = known.length > shown.length ? `; all ${known.length} codes: GET /api/v1/legal-bases` : ''
  return `no legal basis with code ${code} in this workspace; codes there are: ${shown.join(', ')}${more}`
}

export async function resolveLegalBasisCodes(m: EntityManager, ws: string, def: ResourceDef, dto: Row): Promise<void> {
  if (def.type !== 'processing-activity' || !Array.isArray(dto.purposes)) return
  const codes = new Set<string>()
  for (const p of dto.purposes as Row[]) for (const ref of p.legalBasisIds ?? []) if (!UUID.test(ref)) codes.add(ref)
  if (!codes.size) return
  // Codes are matched without regard to case (a6-1-b is A6-1-b); a workspace's catalogue is small,
  // so all its codes are read, which also names the codes there are when one is unknown.
  const rows = await m.getRepository(LegalBasis).find({ where: { workspaceId: ws }, select: { id: true, code: true } })
  const exact = new Map(rows.map((r) => [r.code, r.id]))
  const folded = new Map(rows.map((r) => [r.code.toLowerCase(), r.id]))
  const idOf = { get: (code: string) => exact.get(code) ?? folded.get(code.toLowerCase()) }
  const known = rows.map((r) => r.code).sort((a, b) => a.localeCompare(b, 'en', { numeric: true }))
  const errors: FieldError[] = []
  for (const [i, p] of (dto.purposes as Row[]).entries()) {
    if (!p.legalBasisIds) continue
    p.legalBasisIds = (p.legalBasisIds as string[]).map((ref, j) => {
      if (UUID.test(ref)) return ref
      const id = idOf.get(ref)
      if (!id) errors.push({ field: `purposes[${i}].legalBasisIds[${j}]`, message: unknownCode(ref, known) })
      return id ?? ref
    })
    const ids = p.legalBasisIds as string[]
    ids.forEach((id, j) => {
      if (ids.indexOf(id) !== j) errors.push({ field: `purposes[${i}].legalBasisIds[${j}]`, message: `purposes[${i}].legalBasisIds names the same legal basis twice (by id and by code)` })
    })
  }
  if (errors.length) throw new ValidationFailed(errors)
}
