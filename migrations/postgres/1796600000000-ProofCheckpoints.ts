import { MigrationInterface, QueryRunner } from 'typeorm'

/**
 * Signed history checkpoints, and register versions made append-only: a version changes only by an
 * allowed step (proposed → approved or rejected, approved → superseded), each filling its own
 * fields once and its checkpoint. TRUNCATE, which passes row triggers, is refused on history,
 * versions and checkpoints by statement triggers.
 */
export class ProofCheckpoints1796600000000 implements MigrationInterface {
  name = 'ProofCheckpoints1796600000000'

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE "history_checkpoints" ("id" SERIAL NOT NULL, "workspace_id" character varying(64) NOT NULL, "seq" integer NOT NULL, "head" character varying(64) NOT NULL, "at" character varying(30) NOT NULL, "kid" character varying(100) NOT NULL, "jws" text NOT NULL, "base" integer NOT NULL DEFAULT '0', CONSTRAINT "PK_a112c811c947395d473cf7df2ac" PRIMARY KEY ("id"))`)
    await queryRunner.query(`CREATE INDEX "IDX_23ce0f02af75ed096446d9564d" ON "history_checkpoints"  ("workspace_id", "id") `)
    await queryRunner.query(`ALTER TABLE "register_versions" ADD "checkpoint" text`)
    await queryRunner.query(`CREATE FUNCTION history_checkpoints_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'history checkpoints are append-only'; END $$`)
    await queryRunner.query(`CREATE TRIGGER history_checkpoints_append_only BEFORE UPDATE OR DELETE ON "history_checkpoints" FOR EACH ROW EXECUTE FUNCTION history_checkpoints_append_only()`)
    await queryRunner.query(`CREATE FUNCTION register_versions_allowed_steps() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
      IF TG_OP = 'DELETE' THEN RAISE EXCEPTION 'register versions cannot be deleted'; END IF;
      IF NOT (${ALLOWED_STEP}) THEN RAISE EXCEPTION 'a register version changes only by approval, rejection or superseding'; END IF;
      RETURN NEW;
    END $$`)
    await queryRunner.query(`CREATE TRIGGER register_versions_allowed_steps BEFORE UPDATE OR DELETE ON "register_versions" FOR EACH ROW EXECUTE FUNCTION register_versions_allowed_steps()`)
    await queryRunner.query(`CREATE FUNCTION refuse_truncate() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION '% is append-only: TRUNCATE is refused', TG_TABLE_NAME; END $$`)
    for (const table of TRUNCATE_GUARDED) {
      await queryRunner.query(`CREATE TRIGGER ${table}_no_truncate BEFORE TRUNCATE ON "${table}" FOR EACH STATEMENT EXECUTE FUNCTION refuse_truncate()`)
    }
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of TRUNCATE_GUARDED) await queryRunner.query(`DROP TRIGGER ${table}_no_truncate ON "${table}"`)
    await queryRunner.query(`DROP FUNCTION refuse_truncate()`)
    await queryRunner.query(`DROP TRIGGER register_versions_allowed_steps ON "register_versions"`)
    await queryRunner.query(`DROP FUNCTION register_versions_allowed_steps()`)
    await queryRunner.query(`DROP TRIGGER history_checkpoints_append_only ON "history_checkpoints"`)
    await queryRunner.query(`DROP FUNCTION history_checkpoints_append_only()`)
    await queryRunner.query(`ALTER TABLE "register_versions" DROP COLUMN "checkpoint"`)
    await queryRunner.query(`DROP INDEX "public"."IDX_23ce0f02af75ed096446d9564d"`)
    await queryRunner.query(`DROP TABLE "history_checkpoints"`)
  }
}

const TRUNCATE_GUARDED = ['history', 'register_versions', 'history_checkpoints']

const same = (...columns: string[]): string => columns.map((c) => `NEW."${c}" IS NOT DISTINCT FROM OLD."${c}"`).join(' AND ')
const setOnce = (...columns: string[]): string => columns.map((c) => `OLD."${c}" IS NULL`).join(' AND ') + ` AND NEW."${columns[0]}" IS NOT NULL`

/** The one condition an UPDATE of a register version must meet (as in the SQLite migration). */
const ALLOWED_STEP = `${same('workspace_id', 'number', 'note', 'proposed_by', 'proposed_at', 'content_hash', 'history_head', 'counts', 'findings', 'document')}
  AND NEW."checkpoint" IS NOT NULL AND (
    (OLD."status" = 'proposed' AND NEW."status" = 'approved' AND ${setOnce('approved_by', 'approved_at', 'approval_note')} AND ${same('rejected_by', 'rejected_at', 'rejection_reason', 'superseded_at', 'superseded_by')})
    OR (OLD."status" = 'proposed' AND NEW."status" = 'rejected' AND ${setOnce('rejected_by', 'rejected_at', 'rejection_reason')} AND ${same('approved_by', 'approved_at', 'approval_note', 'superseded_at', 'superseded_by')})
    OR (OLD."status" = 'approved' AND NEW."status" = 'superseded' AND ${setOnce('superseded_at', 'superseded_by')} AND ${same('approved_by', 'approved_at', 'approval_note', 'rejected_by', 'rejected_at', 'rejection_reason')})
  )`
