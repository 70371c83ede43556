import { MigrationInterface, QueryRunner } from 'typeorm'

/**
 * Erasure that keeps the proof (docs/verifying-history.md, scheme 2): history entries name their
 * hash scheme and may carry the commitments of erased leaves; their salts live in a table of their
 * own (deletable); redactions are proposed and approved as versions are. The append-only triggers
 * allow exactly one more change: a redaction's (history: state, actor and `redacted` set, nothing
 * else; a register version: its document and the texts that may name people, with `redactions` set).
 */
export class Redactions1796644260000 implements MigrationInterface {
  name = 'Redactions1796644260000'

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "history" ADD "hash_version" integer NOT NULL DEFAULT '1'`)
    await queryRunner.query(`ALTER TABLE "history" ADD "redacted" text`)
    await queryRunner.query(`CREATE TABLE "history_salts" ("workspace_id" character varying(64) NOT NULL, "hash" character varying(64) NOT NULL, "salt_key" character varying(64), "salts" text, CONSTRAINT "PK_history_salts" PRIMARY KEY ("workspace_id", "hash"))`)
    await queryRunner.query(`CREATE TABLE "redactions" ("workspace_id" character varying(64) NOT NULL, "id" character varying(36) NOT NULL, "status" character varying(12) NOT NULL, "values" text, "reason" text NOT NULL, "proposed_by" character varying(200) NOT NULL, "proposed_at" character varying(30) NOT NULL, "decided_by" character varying(200), "decided_at" character varying(30), "rejection_reason" text, "occurrences" text NOT NULL, "fields" text, CONSTRAINT "PK_redactions" PRIMARY KEY ("workspace_id", "id"))`)
    await queryRunner.query(`ALTER TABLE "register_versions" ADD "redactions" text`)
    await queryRunner.query(`CREATE OR REPLACE FUNCTION history_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
      IF TG_OP = 'UPDATE' AND (${HISTORY_REDACTION}) THEN RETURN NEW; END IF;
      RAISE EXCEPTION 'history is append-only';
    END $$`)
    await queryRunner.query(`CREATE OR REPLACE FUNCTION register_versions_allowed_steps() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
      IF TG_OP = 'DELETE' THEN RAISE EXCEPTION 'register versions cannot be deleted'; END IF;
      IF NOT ((${ALLOWED_STEP}) OR (${VERSION_REDACTION})) THEN RAISE EXCEPTION 'a register version changes only by approval, rejection, superseding or redaction'; END IF;
      RETURN NEW;
    END $$`)
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE OR REPLACE FUNCTION register_versions_allowed_steps() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
      IF TG_OP = 'DELETE' THEN RAISE EXCEPTION 'register versions cannot be deleted'; END IF;
      RAISE EXCEPTION 'a register version changes only by approval, rejection or superseding';
    END $$`)
    await queryRunner.query(`CREATE OR REPLACE FUNCTION history_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'history is append-only'; END $$`)
    await queryRunner.query(`ALTER TABLE "register_versions" DROP COLUMN "redactions"`)
    await queryRunner.query(`DROP TABLE "redactions"`)
    await queryRunner.query(`DROP TABLE "history_salts"`)
    await queryRunner.query(`ALTER TABLE "history" DROP COLUMN "redacted"`)
    await queryRunner.query(`ALTER TABLE "history" DROP COLUMN "hash_version"`)
  }
}

const same = (...columns: string[]): string => columns.map((c) => `NEW."${c}" IS NOT DISTINCT FROM OLD."${c}"`).join(' AND ')
const setOnce = (...columns: string[]): string => columns.map((c) => `OLD."${c}" IS NULL`).join(' AND ') + ` AND NEW."${columns[0]}" IS NOT NULL`

/** A history entry changes only by a redaction: its state and actor, with `redacted` set; what places and hashes it stays. */
const HISTORY_REDACTION = `${same('seq', 'workspace_id', 'record_type', 'record_id', 'version', 'operation', 'at', 'hash', 'hash_version')} AND NEW."redacted" IS NOT NULL`

/** A version's redaction: the document and the texts that may name people change, with the list of redactions; its hash, status and times stay. */
const VERSION_REDACTION = `${same('workspace_id', 'number', 'status', 'proposed_at', 'content_hash', 'history_head', 'counts', 'findings', 'approved_at', 'rejected_at', 'superseded_at', 'superseded_by', 'checkpoint')}
  AND NEW."redactions" IS NOT NULL AND NEW."redactions" IS DISTINCT FROM OLD."redactions"`

/** The steps of a version's lifecycle (as in the ProofCheckpoints migration). */
const ALLOWED_STEP = `${same('workspace_id', 'number', 'note', 'proposed_by', 'proposed_at', 'content_hash', 'history_head', 'counts', 'findings', 'document', 'redactions')}
  AND NEW."checkpoint" IS NOT NULL AND (
    (OLD."status" = 'proposed' AND NEW."status" = 'approved' AND ${setOnce('approved_by', 'approved_at', 'approval_note')} AND ${same('rejected_by', 'rejected_at', 'rejection_reason', 'superseded_at', 'superseded_by')})
    OR (OLD."status" = 'proposed' AND NEW."status" = 'rejected' AND ${setOnce('rejected_by', 'rejected_at', 'rejection_reason')} AND ${same('approved_by', 'approved_at', 'approval_note', 'superseded_at', 'superseded_by')})
    OR (OLD."status" = 'approved' AND NEW."status" = 'superseded' AND ${setOnce('superseded_at', 'superseded_by')} AND ${same('approved_by', 'approved_at', 'approval_note', 'rejected_by', 'rejected_at', 'rejection_reason')})
  )`
