import { MigrationInterface, QueryRunner } from 'typeorm'
import { LOOKUP_TABLES } from '../lookup-columns'
import { recordCollation } from '../../src/register/records/collation-identity'

/**
 * The collation the sort keys are in (src/register/records/collation-identity.ts). An empty
 * register gets the collation of the process migrating it; keys already stored were computed
 * under a collation nobody recorded, so the first start recomputes them.
 */
export class SortKeyCollation1796536500000 implements MigrationInterface {
  name = 'SortKeyCollation1796536500000'

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE "sort_key_collation" ("id" integer NOT NULL PRIMARY KEY, "locale" varchar(64) NOT NULL, "icu" varchar(32) NOT NULL, "unicode" varchar(32) NOT NULL, "recorded_at" varchar(30) NOT NULL)`)
    for (const table of LOOKUP_TABLES) {
      if ((await queryRunner.query(`SELECT 1 FROM "${table}" LIMIT 1`)).length) return
    }
    await recordCollation(queryRunner, queryRunner.connection.options.type === 'postgres' ? 'postgres' : 'sqlite')
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "sort_key_collation"`)
  }
}
