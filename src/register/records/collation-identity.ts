import type { FastifyBaseLogger } from 'fastify'
import type { Database } from '../../db/database'
import { RESOURCES } from './model'
import { registerLocale, withLookupColumns } from '../wording/collation'

/**
 * Sort keys are ranks from Intl.Collator (collation.ts), so they hold only for the collation that
 * computed them: the locale, and the ICU (and its Unicode version) of the Node.js that ran. A Node
 * upgrade brings another ICU, whose ranks may differ. The identity of the collation is stored with
 * the keys (table sort_key_collation, one row); a start that finds another identity recomputes the
 * keys in the background, a batch per write, so the service answers meanwhile.
 */
export interface CollationIdentity {
  locale: string
  icu: string
  unicode: string
}

export const COLLATION_TABLE = 'sort_key_collation'

/** The collation this process computes sort keys in. */
export function currentCollation(locale = registerLocale()): CollationIdentity {
  return { locale, icu: process.versions.icu ?? 'none', unicode: process.versions.unicode ?? 'none' }
}

export const describeCollation = (c: CollationIdentity): string => `${c.locale} (ICU ${c.icu}, Unicode ${c.unicode})`

const sameCollation = (a: CollationIdentity, b: CollationIdentity): boolean => a.locale === b.locale && a.icu === b.icu && a.unicode === b.unicode

type Runner = { query(sql: string, parameters?: unknown[]): Promise<any> }
const placeholderOf = (dialect: string) => (dialect === 'postgres' ? (n: number) => `$${n}` : () => '?')

/** Records the collation the stored keys are in (after every key was computed in it). */
export async function recordCollation(runner: Runner, dialect: string, collation = currentCollation()): Promise<void> {
  const p = placeholderOf(dialect)
  await runner.query(`DELETE FROM "${COLLATION_TABLE}"`)
  await runner.query(`INSERT INTO "${COLLATION_TABLE}" ("id", "locale", "icu", "unicode", "recorded_at") VALUES (1, ${p(1)}, ${p(2)}, ${p(3)}, ${p(4)})`,
    [collation.locale, collation.icu, collation.unicode, new Date().toISOString()])
}

export async function storedCollation(db: Database): Promise<CollationIdentity | null> {
  const rows = await db.query<CollationIdentity>(`SELECT "locale", "icu", "unicode" FROM "${COLLATION_TABLE}" WHERE "id" = 1`, [])
  return rows[0] ? { locale: rows[0].locale, icu: rows[0].icu, unicode: rows[0].unicode } : null
}

/** Records per write transaction (the pause between two, SORT_KEYS_RECOMPUTE_PAUSE, lets users' requests go between). */
const BATCH = 200

/**
 * Recomputes every record's sort key and search text in this process's collation, a batch per
 * write transaction, then records the collation. Answers the number of records, or null when
 * stopped first (the service closing: the next start goes on).
 */
export async function recomputeSortKeys(db: Database, stopped: () => boolean = () => false, pauseMs = 5): Promise<number | null> {
  const p = placeholderOf(db.dialect)
  let count = 0
  for (const def of RESOURCES) {
    const table = db.dataSource.getMetadata(def.entity).tableName
    let after = { ws: '', id: '' }
    for (;;) {
      if (stopped()) return null
      const rows = await db.write(async (m) => {
        const batch: { workspace_id: string; id: string; resolved_view: string | null }[] = await m.query(
          `SELECT "workspace_id", "id", "resolved_view" FROM "${table}" WHERE "workspace_id" > ${p(1)} OR ("workspace_id" = ${p(2)} AND "id" > ${p(3)}) ORDER BY "workspace_id", "id" LIMIT ${BATCH}`,
          [after.ws, after.ws, after.id])
        for (const r of batch) {
          const lookup = withLookupColumns(def.searchColumns, r.resolved_view ? JSON.parse(r.resolved_view) : {})
          await m.query(`UPDATE "${table}" SET "search_text" = ${p(1)}, "sort_key" = ${p(2)} WHERE "workspace_id" = ${p(3)} AND "id" = ${p(4)}`,
            [lookup.searchText, lookup.sortKey, r.workspace_id, r.id])
        }
        return batch
      })
      count += rows.length
      if (rows.length < BATCH) break
      after = { ws: rows[rows.length - 1].workspace_id, id: rows[rows.length - 1].id }
      await new Promise((resolve) => setTimeout(resolve, pauseMs))
    }
  }
  if (stopped()) return null
  await db.write((m) => recordCollation(m, db.dialect))
  return count
}

/**
 * At start: when the stored keys are of another collation (or of one not recorded), says so once;
 * `start` (once the service is ready) recomputes them in the background, `stop` (at close) ends that.
 */
export async function keepSortKeysInCollation(db: Database, log: FastifyBaseLogger, pauseMs: number): Promise<{ start(): void; stop(): Promise<void> }> {
  const stored = await storedCollation(db)
  const current = currentCollation()
  if (stored && sameCollation(stored, current)) return { start: () => undefined, stop: async () => undefined }
  log.warn({ stored, current }, `sort keys were computed in ${stored ? describeCollation(stored) : 'a collation not recorded'}: `
    + `recomputing them in ${describeCollation(current)}, in the background; until done, lists sorted by name may be out of order`)
  let stopping = false
  let task: Promise<void> = Promise.resolve()
  return {
    start: () => {
      const started = performance.now()
      task = recomputeSortKeys(db, () => stopping, pauseMs).then((records) => {
        if (records !== null) log.info({ records, ms: Math.round(performance.now() - started) }, `sort keys recomputed in ${describeCollation(current)}`)
      }, (err) => {
        if (!stopping) log.error({ err }, 'sort keys not recomputed (the next start tries again)')
      })
    },
    stop: async () => { stopping = true; await task },
  }
}
