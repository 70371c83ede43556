import { MigrationInterface, QueryRunner } from 'typeorm'

/**
 * Erasure that keeps the proof (docs/verifying-history.md, scheme 2): history entries name their
 * hash scheme and may carry the commitments of erased leaves; their salts live in a table of their
 * own (deletable); redactions are proposed and approved as versions are. The append-only triggers
 * allow exactly one more change: a redaction's (history: state, actor and `redacted` set, nothing
 * else; a register version: its document and the texts that may name people, with `redactions` set).
 * Written by hand: ADD COLUMN keeps the tables, their rows and their other triggers.
 */
export class Redactions1796644260000 implements MigrationInterface {
  name = 'Redactions1796644260000'

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "history" ADD COLUMN "hash_version" integer NOT NULL DEFAULT (1)`)
    await queryRunner.query(`ALTER TABLE "history" ADD COLUMN "redacted" text`)
    await queryRunner.query(`CREATE TABLE "history_salts" ("workspace_id" varchar(64) NOT NULL, "hash" varchar(64) NOT NULL, "salt_key" varchar(64), "salts" text, PRIMARY KEY ("workspace_id", "hash"))`)
    await queryRunner.query(`CREATE TABLE "redactions" ("workspace_id" varchar(64) NOT NULL, "id" varchar(36) NOT NULL, "status" varchar(12) NOT NULL, "values" text, "reason" text NOT NULL, "proposed_by" varchar(200) NOT NULL, "proposed_at" varchar(30) NOT NULL, "decided_by" varchar(200), "decided_at" varchar(30), "rejection_reason" text, "occurrences" text NOT NULL, "fields" text, PRIMARY KEY ("workspace_id", "id"))`)
    await queryRunner.query(`ALTER TABLE "register_versions" ADD COLUMN "redactions" text`)
    await queryRunner.query(`DROP TRIGGER "history_append_only_update"`)
    await queryRunner.query(`CREATE TRIGGER "history_append_only_update" BEFORE UPDATE ON "history" WHEN NOT (${HISTORY_REDACTION}) BEGIN SELECT RAISE(ABORT, 'history is append-only'); END`)
    await queryRunner.query(`DROP TRIGGER "register_versions_allowed_steps"`)
    await queryRunner.query(`CREATE TRIGGER "register_versions_allowed_steps" BEFORE UPDATE ON "register_versions" WHEN NOT ((${ALLOWED_STEP}) OR (${VERSION_REDACTION})) BEGIN SELECT RAISE(ABORT, 'a register version changes only by approval, rejection, superseding or redaction'); END`)
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TRIGGER "register_versions_allowed_steps"`)
    await queryRunner.query(`CREATE TRIGGER "register_versions_allowed_steps" BEFORE UPDATE ON "register_versions" WHEN NOT (${ALLOWED_STEP}) BEGIN SELECT RAISE(ABORT, 'a register version changes only by approval, rejection or superseding'); END`)
    await queryRunner.query(`DROP TRIGGER "history_append_only_update"`)
    await queryRunner.query(`CREATE TRIGGER "history_append_only_update" BEFORE UPDATE ON "history" BEGIN SELECT RAISE(ABORT, 'history is append-only'); END`)
    await queryRunner.query(`ALTER TABLE "register_versions" DROP COLUMN "redactions"`)
    await queryRunner.query(`DROP TABLE "redactions"`)
    await queryRunner.query(`DROP TABLE "history_salts"`)
    await queryRunner.query(`ALTER TABLE "history" DROP COLUMN "redacted"`)
    await queryRunner.query(`ALTER TABLE "history" DROP COLUMN "hash_version"`)
  }
}

const same = (...columns: string[]): string => columns.map((c) => `NEW."${c}" IS OLD."${c}"`).join(' AND ')
const setOnce = (...columns: string[]): string => columns.map((c) => `OLD."${c}" IS NULL`).join(' AND ') + ` AND NEW."${columns[0]}" IS NOT NULL`

/** A history entry changes only by a redaction: its state and actor, with `redacted` set; what places and hashes it stays. */
const HISTORY_REDACTION = `${same('seq', 'workspace_id', 'record_type', 'record_id', 'version', 'operation', 'at', 'hash', 'hash_version')} AND NEW."redacted" IS NOT NULL`

/** A version's redaction: the document and the texts that may name people change, with the list of redactions; its hash, status and times stay. */
const VERSION_REDACTION = `${same('workspace_id', 'number', 'status', 'proposed_at', 'content_hash', 'history_head', 'counts', 'findings', 'approved_at', 'rejected_at', 'superseded_at', 'superseded_by', 'checkpoint')}
  AND NEW."redactions" IS NOT NULL AND NEW."redactions" IS NOT OLD."redactions"`

/** The steps of a version's lifecycle (as in the ProofCheckpoints migration). */
const ALLOWED_STEP = `${same('workspace_id', 'number', 'note', 'proposed_by', 'proposed_at', 'content_hash', 'history_head', 'counts', 'findings', 'document', 'redactions')}
  AND NEW."checkpoint" IS NOT NULL AND (
    (OLD."status" = 'proposed' AND NEW."status" = 'approved' AND ${setOnce('approved_by', 'approved_at', 'approval_note')} AND ${same('rejected_by', 'rejected_at', 'rejection_reason', 'superseded_at', 'superseded_by')})
    OR (OLD."status" = 'proposed' AND NEW."status" = 'rejected' AND ${setOnce('rejected_by', 'rejected_at', 'rejection_reason')} AND ${same('approved_by', 'approved_at', 'approval_note', 'superseded_at', 'superseded_by')})
    OR (OLD."status" = 'approved' AND NEW."status" = 'superseded' AND ${setOnce('superseded_at', 'superseded_by')} AND ${same('approved_by', 'approved_at', 'approval_note', 'rejected_by', 'rejected_at', 'rejection_reason')})
  )`
