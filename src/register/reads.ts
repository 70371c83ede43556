import { EntityManager, EntityTarget, In, SelectQueryBuilder } from 'typeorm'
import { Dialect } from '../db/data-source'
import { ENTITY_OF, RecordType, ResourceDef, Resolver, SUMMARY_COLUMNS } from './model'

type Row = Record<string, any>

/** TypeORM's object form of `select` for a list of columns. */
export const selectOf = (columns: string[]): Record<string, true> => Object.fromEntries(columns.map((c) => [c, true]))

/** Parameters of SQL IN lists are chunked well below every database's limit. */
const CHUNK = 500

function chunks<T>(items: T[]): T[][] {
  const out: T[][] = []
  for (let i = 0; i < items.length; i += CHUNK) out.push(items.slice(i, i + CHUNK))
  return out
}

/** Rows of `entity` in workspace `ws` whose `column` is one of `values`, in one query per chunk. */
export async function findIn(m: EntityManager, entity: EntityTarget<any>, ws: string, column: string, values: string[], extra: object = {}): Promise<Row[]> {
  const out: Row[] = []
  for (const part of chunks([...new Set(values)])) {
    out.push(...await m.getRepository(entity).find({ where: { workspaceId: ws, [column]: In(part) } as any, ...extra }))
  }
  return out
}

/** Summaries (id, name, code, …) of referenced records, one query per kind of record. */
export async function loadSummaries(m: EntityManager, ws: string, wanted: Map<RecordType, Set<string>>): Promise<Resolver> {
  const found = new Map<RecordType, Map<string, Row>>()
  for (const [type, idSet] of wanted) {
    const byId = new Map<string, Row>()
    const rows = await findIn(m, ENTITY_OF[type], ws, 'id', [...idSet], { select: selectOf(SUMMARY_COLUMNS[type]) })
    for (const row of rows) {
      const summary: Row = {}
      for (const c of SUMMARY_COLUMNS[type]) summary[c] = row[c] ?? null
      byId.set(row.id, summary)
    }
    found.set(type, byId)
  }
  return { ref: (type, id) => (id ? found.get(type)?.get(id) ?? null : null) }
}

/**
 * Turns stored rows into what clients read: one query per child table for the whole batch, one
 * query per kind of referenced record, then assembled in memory. Never a join across several
 * lists, which multiplies rows.
 */
export async function toViews(m: EntityManager, ws: string, def: ResourceDef, rows: Row[]): Promise<Row[]> {
  if (!rows.length) return []
  const ownerIds = rows.map((r) => r.id)
  const childrenByOwner = new Map<string, Map<EntityTarget<any>, Row[]>>(ownerIds.map((id) => [id, new Map()]))
  const wanted = new Map<RecordType, Set<string>>()
  const want = (type: RecordType, id: string | null | undefined): void => {
    if (!id) return
    if (!wanted.has(type)) wanted.set(type, new Set())
    wanted.get(type)!.add(id)
  }
  for (const ref of def.refs) for (const r of rows) want(ref.type, r[ref.column])
  for (const child of def.children) {
    const order = child.nested ? { parentPosition: 'ASC', position: 'ASC' } : { position: 'ASC' }
    const childRows = await findIn(m, child.entity, ws, 'ownerId', ownerIds, { order })
    for (const c of childRows) {
      const perOwner = childrenByOwner.get(c.ownerId)!
      if (!perOwner.has(child.entity)) perOwner.set(child.entity, [])
      perOwner.get(child.entity)!.push(c)
      for (const ref of child.refs) want(ref.type, c[ref.column])
    }
  }
  const resolver = await loadSummaries(m, ws, wanted)
  return rows.map((r) => def.view(r, childrenByOwner.get(r.id)!, resolver))
}

export async function findRow(m: EntityManager, ws: string, def: ResourceDef, id: string): Promise<Row | null> {
  return m.getRepository(def.entity).findOne({ where: { workspaceId: ws, id } as any })
}

export async function getView(m: EntityManager, ws: string, def: ResourceDef, id: string): Promise<Row | null> {
  const row = await findRow(m, ws, def, id)
  return row ? (await toViews(m, ws, def, [row]))[0] : null
}

export interface ListQuery {
  limit: number
  offset: number
  sort?: string
  q?: string
  [filter: string]: unknown
}

/** `%`, `_` and `\` in a search text match themselves. */
const likePattern = (q: string): string => `%${q.toLowerCase().replace(/[\\%_]/g, (c) => '\\' + c)}%`

function applyFilters(qb: SelectQueryBuilder<any>, def: ResourceDef, query: ListQuery, dialect: Dialect): void {
  for (const f of def.filters) {
    let value = query[f.param]
    if (value === undefined) continue
    if (typeof value === 'boolean' && dialect === 'sqlite') value = value ? 1 : 0
    const param = `f_${f.param}`
    if (f.column) {
      qb.andWhere(`r.${f.column} = :${param}`, { [param]: value })
    } else if (f.child) {
      const sub = qb.subQuery().select('c.ownerId').from(f.child.entity, 'c')
        .where('c.workspaceId = :ws').andWhere(`c.${f.child.column} = :${param}`).getQuery()
      qb.andWhere(`r.id IN ${sub}`, { [param]: value })
    }
  }
  if (query.q) {
    const ors = def.searchColumns.map((c) => `LOWER(r.${c}) LIKE :q ESCAPE '\\'`).join(' OR ')
    qb.andWhere(`(${ors})`, { q: likePattern(query.q) })
  }
}

export async function listViews(m: EntityManager, ws: string, def: ResourceDef, query: ListQuery, dialect: Dialect): Promise<{ items: Row[]; total: number; limit: number; offset: number }> {
  const qb = m.getRepository(def.entity).createQueryBuilder('r').where('r.workspaceId = :ws', { ws })
  applyFilters(qb, def, query, dialect)
  const total = await qb.getCount()
  const sort = query.sort ?? 'createdAt'
  const desc = sort.startsWith('-')
  qb.orderBy(`r.${desc ? sort.slice(1) : sort}`, desc ? 'DESC' : 'ASC').addOrderBy('r.id', 'ASC')
  qb.offset(query.offset).limit(query.limit)
  const rows = await qb.getMany()
  return { items: await toViews(m, ws, def, rows), total, limit: query.limit, offset: query.offset }
}
