import { MigrationInterface, QueryRunner } from 'typeorm'

/**
 * Signed history checkpoints, and register versions made append-only. Written by hand: ADD COLUMN
 * rather than the generator's table rebuild (see the Accountability migration). A version may
 * change only by an allowed step: proposed → approved or rejected, approved → superseded, each
 * filling its own fields once and its checkpoint; everything frozen at proposal stays as it was.
 */
export class ProofCheckpoints1796600000000 implements MigrationInterface {
  name = 'ProofCheckpoints1796600000000'

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE "history_checkpoints" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "workspace_id" varchar(64) NOT NULL, "seq" integer NOT NULL, "head" varchar(64) NOT NULL, "at" varchar(30) NOT NULL, "kid" varchar(100) NOT NULL, "jws" text NOT NULL, "base" integer NOT NULL DEFAULT (0))`)
    await queryRunner.query(`CREATE INDEX "IDX_23ce0f02af75ed096446d9564d" ON "history_checkpoints" ("workspace_id", "id") `)
    await queryRunner.query(`CREATE TRIGGER "history_checkpoints_append_only_update" BEFORE UPDATE ON "history_checkpoints" BEGIN SELECT RAISE(ABORT, 'history checkpoints are append-only'); END`)
    await queryRunner.query(`CREATE TRIGGER "history_checkpoints_append_only_delete" BEFORE DELETE ON "history_checkpoints" BEGIN SELECT RAISE(ABORT, 'history checkpoints are append-only'); END`)
    await queryRunner.query(`ALTER TABLE "register_versions" ADD COLUMN "checkpoint" text`)
    await queryRunner.query(`CREATE TRIGGER "register_versions_append_only_delete" BEFORE DELETE ON "register_versions" BEGIN SELECT RAISE(ABORT, 'register versions cannot be deleted'); END`)
    await queryRunner.query(`CREATE TRIGGER "register_versions_allowed_steps" BEFORE UPDATE ON "register_versions" WHEN NOT (${ALLOWED_STEP}) BEGIN SELECT RAISE(ABORT, 'a register version changes only by approval, rejection or superseding'); END`)
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TRIGGER "register_versions_allowed_steps"`)
    await queryRunner.query(`DROP TRIGGER "register_versions_append_only_delete"`)
    await queryRunner.query(`ALTER TABLE "register_versions" DROP COLUMN "checkpoint"`)
    await queryRunner.query(`DROP TRIGGER "history_checkpoints_append_only_delete"`)
    await queryRunner.query(`DROP TRIGGER "history_checkpoints_append_only_update"`)
    await queryRunner.query(`DROP INDEX "IDX_23ce0f02af75ed096446d9564d"`)
    await queryRunner.query(`DROP TABLE "history_checkpoints"`)
  }
}

const same = (...columns: string[]): string => columns.map((c) => `NEW."${c}" IS OLD."${c}"`).join(' AND ')
const setOnce = (...columns: string[]): string => columns.map((c) => `OLD."${c}" IS NULL`).join(' AND ') + ` AND NEW."${columns[0]}" IS NOT NULL`

/** The one condition an UPDATE of a register version must meet (the same in the PostgreSQL migration). */
const ALLOWED_STEP = `${same('workspace_id', 'number', 'note', 'proposed_by', 'proposed_at', 'content_hash', 'history_head', 'counts', 'findings', 'document')}
  AND NEW."checkpoint" IS NOT NULL AND (
    (OLD."status" = 'proposed' AND NEW."status" = 'approved' AND ${setOnce('approved_by', 'approved_at', 'approval_note')} AND ${same('rejected_by', 'rejected_at', 'rejection_reason', 'superseded_at', 'superseded_by')})
    OR (OLD."status" = 'proposed' AND NEW."status" = 'rejected' AND ${setOnce('rejected_by', 'rejected_at', 'rejection_reason')} AND ${same('approved_by', 'approved_at', 'approval_note', 'superseded_at', 'superseded_by')})
    OR (OLD."status" = 'approved' AND NEW."status" = 'superseded' AND ${setOnce('superseded_at', 'superseded_by')} AND ${same('approved_by', 'approved_at', 'approval_note', 'rejected_by', 'rejected_at', 'rejection_reason')})
  )`
