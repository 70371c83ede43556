import { MigrationInterface, QueryRunner } from 'typeorm'

/**
 * The files of frozen register versions as first rendered (entities/register-version-file.ts):
 * a version never changes, so each of its files is rendered once and its bytes served after.
 */
export class RenderedVersionFiles1796643000000 implements MigrationInterface {
  name = 'RenderedVersionFiles1796643000000'

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE "register_version_files" ("workspace_id" varchar(64) NOT NULL, "number" integer NOT NULL, "file" varchar(64) NOT NULL, "rendered_at" varchar(30) NOT NULL, "bytes" integer NOT NULL, "gzip" text NOT NULL, PRIMARY KEY ("workspace_id", "number", "file"))`)
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "register_version_files"`)
  }
}
