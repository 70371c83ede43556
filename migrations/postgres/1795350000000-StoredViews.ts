import { MigrationInterface, QueryRunner } from 'typeorm'
import { rebuildViewsInMigration } from '../rebuild-views'

const TABLES = [
  'controllers', 'processors', 'purposes', 'legal_bases', 'data_subject_categories', 'data_categories', 'recipients',
  'retention_rules', 'security_measures', 'processing_activities',
]

/**
 * The stored read model: each record's resolved view in its own row, built here for the rows that
 * exist, so that an upgraded database answers at once. ADD COLUMN, not a rebuilt table (see
 * Accountability). The views are computed by the current code from the current tables: a later
 * migration that changes what a view shows rebuilds them again (rebuildViewsInMigration, which lends this one the columns added after it).
 */
export class StoredViews1795350000000 implements MigrationInterface {
  name = 'StoredViews1795350000000'

  public async up(queryRunner: QueryRunner): Promise<void> {
    for (const table of TABLES) await queryRunner.query(`ALTER TABLE "${table}" ADD COLUMN "resolved_view" text`)
    await rebuildViewsInMigration(queryRunner)
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of TABLES) await queryRunner.query(`ALTER TABLE "${table}" DROP COLUMN "resolved_view"`)
  }
}
