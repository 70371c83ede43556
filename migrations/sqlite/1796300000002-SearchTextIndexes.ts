import { MigrationInterface, QueryRunner } from 'typeorm'
import { LOOKUP_TABLES } from '../lookup-columns'

/**
 * SQLite: an index (workspace_id, search_text) on every record table, so that a list search reads
 * the folded texts from the index instead of from rows whose stored view fills overflow pages
 * before the text. Declared in the entities with `synchronize: false` (entities/base.ts): PostgreSQL
 * caps the size of an index entry, and a long description would fail a write there; its scan of
 * the column is fast without it.
 */
export class SearchTextIndexes1796300000002 implements MigrationInterface {
  name = 'SearchTextIndexes1796300000002'

  public async up(queryRunner: QueryRunner): Promise<void> {
    for (const table of LOOKUP_TABLES) {
      await queryRunner.query(`CREATE INDEX IF NOT EXISTS "IDX_${table}_search" ON "${table}" ("workspace_id", "search_text")`)
    }
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of LOOKUP_TABLES) await queryRunner.query(`DROP INDEX IF EXISTS "IDX_${table}_search"`)
  }
}
