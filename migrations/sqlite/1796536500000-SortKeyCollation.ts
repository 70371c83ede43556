import { MigrationInterface, QueryRunner } from 'typeorm'

/**
 * The collation the sort keys are in (src/register/records/collation-identity.ts), recorded by the
 * service at its start: an empty register gets the collation of the process that starts on it;
 * keys already stored were computed under a collation nobody recorded, so that start recomputes
 * them. (A migration holds no live code: what it does stays what it did.)
 */
export class SortKeyCollation1796536500000 implements MigrationInterface {
  name = 'SortKeyCollation1796536500000'

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE "sort_key_collation" ("id" integer NOT NULL PRIMARY KEY, "locale" varchar(64) NOT NULL, "icu" varchar(32) NOT NULL, "unicode" varchar(32) NOT NULL, "recorded_at" varchar(30) NOT NULL)`)
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "sort_key_collation"`)
  }
}
