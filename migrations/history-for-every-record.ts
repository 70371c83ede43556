import { createHash } from 'node:crypto'
import { QueryRunner } from 'typeorm'
import { TABLE_OF } from './lookup-columns'

/**
 * Gives each record that has no history (it was written before the Accountability migration, or
 * beside the service) a first entry: its state at the upgrade (its stored view), at the time it
 * last changed (updated_at, so that `asOf` finds it from then on), with its version, attributed
 * to `system`. Appended to each workspace's hash chain after its current head, with the formula
 * of src/register/accountability/history.ts (entryHash), written out here so that this migration stays what it
 * was when it ran (as chain-history.ts does). Only inserts: the append-only triggers allow that.
 */
export async function historyForEveryRecord(runner: QueryRunner, placeholder: (n: number) => string): Promise<void> {
  const p = placeholder
  const workspaces = new Set<string>()
  for (const table of Object.values(TABLE_OF)) {
    for (const r of await runner.query(`SELECT DISTINCT "workspace_id" FROM "${table}"`) as Record<string, any>[]) workspaces.add(r.workspace_id)
  }
  for (const ws of [...workspaces].sort()) {
    const [head] = await runner.query(`SELECT "hash" FROM "history" WHERE "workspace_id" = ${p(1)} ORDER BY "seq" DESC LIMIT 1`, [ws]) as Record<string, any>[]
    let previous: string = head?.hash ?? ''
    for (const [recordType, table] of Object.entries(TABLE_OF)) {
      let after = ''
      for (;;) {
        const rows: Record<string, any>[] = await runner.query(
          `SELECT t."id", t."version", t."updated_at", t."resolved_view" FROM "${table}" t
           WHERE t."workspace_id" = ${p(1)} AND t."id" > ${p(2)}
             AND NOT EXISTS (SELECT 1 FROM "history" h WHERE h."workspace_id" = t."workspace_id" AND h."record_type" = ${p(3)} AND h."record_id" = t."id")
           ORDER BY t."id" LIMIT 500`,
          [ws, after, recordType],
        )
        for (const r of rows) {
          const version = Number(r.version)
          const state = JSON.stringify(JSON.parse(r.resolved_view))
          const operation = version === 1 ? 'create' : 'update'
          const content = [previous, recordType, r.id, version, operation, 'system', r.updated_at, state]
          previous = createHash('sha256').update(JSON.stringify(content)).digest('hex')
          await runner.query(
            `INSERT INTO "history" ("workspace_id", "record_type", "record_id", "version", "operation", "actor", "at", "state", "hash") VALUES (${[1, 2, 3, 4, 5, 6, 7, 8, 9].map(p).join(', ')})`,
            [ws, recordType, r.id, version, operation, 'system', r.updated_at, state, previous],
          )
        }
        if (rows.length < 500) break
        after = rows[rows.length - 1].id
      }
    }
  }
}
