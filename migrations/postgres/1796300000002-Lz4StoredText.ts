import { MigrationInterface, QueryRunner } from 'typeorm'

const TABLES = [
  'controllers', 'processors', 'purposes', 'legal_bases', 'data_subject_categories', 'data_categories', 'recipients',
  'retention_rules', 'security_measures', 'processing_activities',
]

/**
 * The stored views and history states (5–6 KB of JSON each for an activity, so compressed when
 * stored) compressed with lz4 rather than pglz: an import writes two of them per activity, and
 * pglz was most of the server's time for the activities' INSERTs. Values already stored keep
 * their compression until rewritten. Only on a server that has lz4 (PostgreSQL 14 and later, built
 * with it); elsewhere nothing changes. SQLite does not compress: no migration there.
 */
export class Lz4StoredText1796300000002 implements MigrationInterface {
  name = 'Lz4StoredText1796300000002'

  private async hasLz4(queryRunner: QueryRunner): Promise<boolean> {
    const rows = await queryRunner.query(`SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression' AND 'lz4' = ANY (enumvals)`)
    return rows.length > 0
  }

  public async up(queryRunner: QueryRunner): Promise<void> {
    if (!(await this.hasLz4(queryRunner))) return
    for (const table of TABLES) await queryRunner.query(`ALTER TABLE "${table}" ALTER COLUMN "resolved_view" SET COMPRESSION lz4`)
    await queryRunner.query(`ALTER TABLE "history" ALTER COLUMN "state" SET COMPRESSION lz4`)
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    if (!(await this.hasLz4(queryRunner))) return
    for (const table of TABLES) await queryRunner.query(`ALTER TABLE "${table}" ALTER COLUMN "resolved_view" SET COMPRESSION DEFAULT`)
    await queryRunner.query(`ALTER TABLE "history" ALTER COLUMN "state" SET COMPRESSION DEFAULT`)
  }
}
