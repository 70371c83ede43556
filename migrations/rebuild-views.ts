import { QueryRunner } from 'typeorm'
import { rebuildAllViews } from '../src/register/records/stored-views'

/**
 * Rebuilds every stored view from a migration. The views are computed by the current code, which
 * reads every column today's entities declare; a migration that runs before the one adding a column
 * (an upgrade across several) does not have it yet. Such columns are added for the rebuild, empty
 * (the views show them as null, as a fresh record would), and dropped again after it, so the schema
 * stays the migration's; the migration that adds the column rebuilds the views again.
 */
export async function rebuildViewsInMigration(queryRunner: QueryRunner): Promise<void> {
  const added: { table: string; column: string }[] = []
  for (const metadata of queryRunner.connection.entityMetadatas) {
    // the history is append-only (triggers), and no view is read from it
    if (metadata.tableName === 'history') continue
    const table = await queryRunner.getTable(metadata.tableName)
    if (!table) continue
    for (const c of metadata.columns) {
      if (!c.isNullable || table.findColumnByName(c.databaseName)) continue
      const type = queryRunner.connection.driver.normalizeType(c) + (c.length ? `(${c.length})` : '')
      await queryRunner.query(`ALTER TABLE "${metadata.tableName}" ADD COLUMN "${c.databaseName}" ${type}`)
      added.push({ table: metadata.tableName, column: c.databaseName })
    }
  }
  await rebuildAllViews(queryRunner.manager)
  for (const { table, column } of added.reverse()) await queryRunner.query(`ALTER TABLE "${table}" DROP COLUMN "${column}"`)
}
