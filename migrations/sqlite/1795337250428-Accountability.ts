import { MigrationInterface, QueryRunner } from 'typeorm'

/**
 * The change history (append-only) and the accountability fields. Written by hand rather than
 * generated: TypeORM's generator rebuilds a SQLite table to add a column (DROP TABLE and copy),
 * and dropping processing_activities inside the migration's transaction, where foreign keys stay
 * on, would delete every activity's lists in cascade. ADD COLUMN keeps the data where it is.
 */
export class Accountability1795337250428 implements MigrationInterface {
  name = 'Accountability1795337250428'

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE "history" ("seq" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "workspace_id" varchar(64) NOT NULL, "record_type" varchar(40) NOT NULL, "record_id" varchar(36) NOT NULL, "version" integer NOT NULL, "operation" varchar(10) NOT NULL, "actor" varchar(200) NOT NULL, "at" varchar(30) NOT NULL, "state" text NOT NULL)`)
    await queryRunner.query(`CREATE INDEX "IDX_913a9330576b47bad6d61d19ed" ON "history" ("workspace_id", "at") `)
    await queryRunner.query(`CREATE INDEX "IDX_897bfe086cbb9db6ea484f6994" ON "history" ("workspace_id", "record_type", "record_id") `)
    await queryRunner.query(`CREATE TRIGGER "history_append_only_update" BEFORE UPDATE ON "history" BEGIN SELECT RAISE(ABORT, 'history is append-only'); END`)
    await queryRunner.query(`CREATE TRIGGER "history_append_only_delete" BEFORE DELETE ON "history" BEGIN SELECT RAISE(ABORT, 'history is append-only'); END`)
    await queryRunner.query(`ALTER TABLE "processing_activities" ADD COLUMN "last_reviewed_by" varchar(200)`)
    await queryRunner.query(`ALTER TABLE "processing_activities" ADD COLUMN "national_id_justification" text`)
    await queryRunner.query(`ALTER TABLE "activity_purposes" ADD COLUMN "consent_withdrawal" text`)
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "activity_purposes" DROP COLUMN "consent_withdrawal"`)
    await queryRunner.query(`ALTER TABLE "processing_activities" DROP COLUMN "national_id_justification"`)
    await queryRunner.query(`ALTER TABLE "processing_activities" DROP COLUMN "last_reviewed_by"`)
    await queryRunner.query(`DROP TRIGGER "history_append_only_delete"`)
    await queryRunner.query(`DROP TRIGGER "history_append_only_update"`)
    await queryRunner.query(`DROP INDEX "IDX_897bfe086cbb9db6ea484f6994"`)
    await queryRunner.query(`DROP INDEX "IDX_913a9330576b47bad6d61d19ed"`)
    await queryRunner.query(`DROP TABLE "history"`)
  }
}
