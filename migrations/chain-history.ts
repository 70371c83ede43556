import { createHash } from 'node:crypto'
import { QueryRunner } from 'typeorm'

/**
 * Gives every existing history entry its hash, chaining each workspace's entries in seq order, as
 * src/register/accountability/history.ts (entryHash) does for new ones. The formula is written out here rather
 * than imported so that this migration stays what it was when it ran; test/versions-migration
 * checks that the entries it chains verify. The caller lifts the append-only triggers around it.
 */
export async function chainExistingHistory(runner: QueryRunner, placeholder: (n: number) => string): Promise<void> {
  const previous = new Map<string, string>()
  let after = 0
  for (;;) {
    const rows: Record<string, any>[] = await runner.query(
      `SELECT "seq", "workspace_id", "record_type", "record_id", "version", "operation", "actor", "at", "state" FROM "history" WHERE "seq" > ${placeholder(1)} ORDER BY "seq" LIMIT 1000`,
      [after],
    )
    for (const r of rows) {
      const content = [previous.get(r.workspace_id) ?? '', r.record_type, r.record_id, Number(r.version), r.operation, r.actor, r.at, r.state]
      const hash = createHash('sha256').update(JSON.stringify(content)).digest('hex')
      await runner.query(`UPDATE "history" SET "hash" = ${placeholder(1)} WHERE "seq" = ${placeholder(2)}`, [hash, r.seq])
      previous.set(r.workspace_id, hash)
    }
    if (rows.length < 1000) return
    after = rows[rows.length - 1].seq
  }
}
