import { QueryRunner } from 'typeorm'
import { withLookupColumns } from '../src/register/wording/collation'
import { RESOURCES } from '../src/register/records/model'

/** Table of each kind of register record (as entities name them). */
export const TABLE_OF: Record<string, string> = {
  controller: 'controllers', processor: 'processors', purpose: 'purposes', 'legal-basis': 'legal_bases',
  'data-subject-category': 'data_subject_categories', 'data-category': 'data_categories', recipient: 'recipients',
  'retention-rule': 'retention_rules', 'security-measure': 'security_measures', 'processing-activity': 'processing_activities',
}

export const LOOKUP_TABLES = Object.values(TABLE_OF)

/**
 * Adds what list searches and name sorts compare (search_text, sort_key, with an index serving
 * `sort=name`) and fills them for the rows that exist, from each row's stored view: a view holds
 * every searched field under the name the columns have (src/register/wording/collation.ts).
 */
export async function addLookupColumns(runner: QueryRunner, placeholder: (n: number) => string): Promise<void> {
  for (const table of LOOKUP_TABLES) {
    await runner.query(`ALTER TABLE "${table}" ADD COLUMN "search_text" text`)
    await runner.query(`ALTER TABLE "${table}" ADD COLUMN "sort_key" text`)
  }
  await fillLookupColumns(runner, placeholder)
  for (const table of LOOKUP_TABLES) {
    await runner.query(`CREATE INDEX "IDX_${table}_sort_sort_key" ON "${table}" ("workspace_id", "sort_key", "id")`)
  }
}

/** Computes search_text and sort_key of every record from its stored view (all workspaces, or `ws`). */
export async function fillLookupColumns(runner: Pick<QueryRunner, 'query'>, placeholder: (n: number) => string, ws?: string): Promise<void> {
  for (const def of RESOURCES) {
    const table = TABLE_OF[def.type]
    const workspaces: Record<string, any>[] = ws !== undefined ? [{ workspace_id: ws }]
      : await runner.query(`SELECT DISTINCT "workspace_id" FROM "${table}"`)
    for (const { workspace_id: w } of workspaces) {
      let after = ''
      for (;;) {
        const rows: Record<string, any>[] = await runner.query(
          `SELECT "id", "resolved_view" FROM "${table}" WHERE "workspace_id" = ${placeholder(1)} AND "id" > ${placeholder(2)} ORDER BY "id" LIMIT 500`,
          [w, after],
        )
        for (const r of rows) {
          const lookup = withLookupColumns(def.searchColumns, r.resolved_view ? JSON.parse(r.resolved_view) : {})
          await runner.query(`UPDATE "${table}" SET "search_text" = ${placeholder(1)}, "sort_key" = ${placeholder(2)} WHERE "workspace_id" = ${placeholder(3)} AND "id" = ${placeholder(4)}`,
            [lookup.searchText, lookup.sortKey, w, r.id])
        }
        if (rows.length < 500) break
        after = rows[rows.length - 1].id
      }
    }
  }
}

export async function dropLookupColumns(runner: QueryRunner): Promise<void> {
  for (const table of LOOKUP_TABLES) {
    await runner.query(`DROP INDEX "IDX_${table}_sort_sort_key"`)
    await runner.query(`ALTER TABLE "${table}" DROP COLUMN "sort_key"`)
    await runner.query(`ALTER TABLE "${table}" DROP COLUMN "search_text"`)
  }
}
