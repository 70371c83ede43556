import { MigrationInterface, QueryRunner } from 'typeorm'

/**
 * A version's stored file in parts, a row each (entities/register-version-file.ts, `part`): read a
 * part at a time, a download holds neither the database nor the event loop for the whole file. The
 * files stored before stay one part each (part 0), read as before.
 */
export class VersionFileParts1796700000000 implements MigrationInterface {
  name = 'VersionFileParts1796700000000'

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "register_version_files" ADD "part" integer NOT NULL DEFAULT 0`)
    await queryRunner.query(`ALTER TABLE "register_version_files" ALTER COLUMN "part" DROP DEFAULT`)
    await queryRunner.query(`ALTER TABLE "register_version_files" DROP CONSTRAINT "PK_f2cf4c952f09df4b9bdb38404bf"`)
    await queryRunner.query(`ALTER TABLE "register_version_files" ADD CONSTRAINT "PK_4cc4cef1779cc888b692ccade36" PRIMARY KEY ("workspace_id", "number", "file", "part")`)
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    // a file of several parts cannot be one row again without joining them: let go, rendered again at its next download
    await queryRunner.query(`DELETE FROM "register_version_files" f WHERE EXISTS (SELECT 1 FROM "register_version_files" o WHERE o."workspace_id" = f."workspace_id" AND o."number" = f."number" AND o."file" = f."file" AND o."part" > 0)`)
    await queryRunner.query(`ALTER TABLE "register_version_files" DROP CONSTRAINT "PK_4cc4cef1779cc888b692ccade36"`)
    await queryRunner.query(`ALTER TABLE "register_version_files" ADD CONSTRAINT "PK_f2cf4c952f09df4b9bdb38404bf" PRIMARY KEY ("workspace_id", "number", "file")`)
    await queryRunner.query(`ALTER TABLE "register_version_files" DROP COLUMN "part"`)
  }
}
