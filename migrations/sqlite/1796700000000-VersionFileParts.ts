import { MigrationInterface, QueryRunner } from 'typeorm'

/**
 * A version's stored file in parts, a row each (entities/register-version-file.ts, `part`): SQLite
 * reads a whole value for every read of a piece of it, so a file of 10 MB read in pieces held the
 * event loop for each piece as long as for the whole file. The files stored before stay one part
 * each (part 0), read as before. SQLite changes a primary key only by rebuilding the table (its
 * documented steps; the table has no index, trigger or view of its own); `gzip` stays last, so that
 * a read of the other columns does not walk its overflow pages.
 */
export class VersionFileParts1796700000000 implements MigrationInterface {
  name = 'VersionFileParts1796700000000'

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE "temporary_register_version_files" ("workspace_id" varchar(64) NOT NULL, "number" integer NOT NULL, "file" varchar(64) NOT NULL, "part" integer NOT NULL, "rendered_at" varchar(30) NOT NULL, "bytes" integer NOT NULL, "gzip" text NOT NULL, PRIMARY KEY ("workspace_id", "number", "file", "part"))`)
    await queryRunner.query(`INSERT INTO "temporary_register_version_files" ("workspace_id", "number", "file", "part", "rendered_at", "bytes", "gzip") SELECT "workspace_id", "number", "file", 0, "rendered_at", "bytes", "gzip" FROM "register_version_files"`)
    await queryRunner.query(`DROP TABLE "register_version_files"`)
    await queryRunner.query(`ALTER TABLE "temporary_register_version_files" RENAME TO "register_version_files"`)
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    // a file of several parts cannot be one row again without joining them: let go, rendered again at its next download
    await queryRunner.query(`CREATE TABLE "temporary_register_version_files" ("workspace_id" varchar(64) NOT NULL, "number" integer NOT NULL, "file" varchar(64) NOT NULL, "rendered_at" varchar(30) NOT NULL, "bytes" integer NOT NULL, "gzip" text NOT NULL, PRIMARY KEY ("workspace_id", "number", "file"))`)
    await queryRunner.query(`INSERT INTO "temporary_register_version_files" ("workspace_id", "number", "file", "rendered_at", "bytes", "gzip") SELECT f."workspace_id", f."number", f."file", f."rendered_at", f."bytes", f."gzip" FROM "register_version_files" f WHERE f."part" = 0 AND NOT EXISTS (SELECT 1 FROM "register_version_files" o WHERE o."workspace_id" = f."workspace_id" AND o."number" = f."number" AND o."file" = f."file" AND o."part" > 0)`)
    await queryRunner.query(`DROP TABLE "register_version_files"`)
    await queryRunner.query(`ALTER TABLE "temporary_register_version_files" RENAME TO "register_version_files"`)
  }
}
