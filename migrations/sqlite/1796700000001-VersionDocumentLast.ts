import { MigrationInterface, QueryRunner } from 'typeorm'

const COLUMNS = `"workspace_id" varchar(64) NOT NULL, "number" integer NOT NULL, "status" varchar(12) NOT NULL, "note" text, "proposed_by" varchar(200) NOT NULL, "proposed_at" varchar(30) NOT NULL, "approved_by" varchar(200), "approved_at" varchar(30), "approval_note" text, "rejected_by" varchar(200), "rejected_at" varchar(30), "rejection_reason" text, "superseded_at" varchar(30), "superseded_by" integer, "content_hash" varchar(64) NOT NULL, "history_head" varchar(64), "counts" text NOT NULL, "findings" text NOT NULL`
const NAMES = '"workspace_id", "number", "status", "note", "proposed_by", "proposed_at", "approved_by", "approved_at", "approval_note", "rejected_by", "rejected_at", "rejection_reason", "superseded_at", "superseded_by", "content_hash", "history_head", "counts", "findings", "document", "checkpoint", "redactions"'

/**
 * register_versions with its frozen document as the last column again. `checkpoint` and
 * `redactions` were added after it (ADD COLUMN puts a column last), and SQLite finds a column
 * stored after a long value by walking that value's chain of overflow pages: 17,000 pages for the
 * 68 MB document of 10,000 activities, 30-280 ms with the event loop held, for every read of a
 * redacted version's `redactions` (each download of its JSON) or of any version's `checkpoint`.
 * SQLite reorders columns only by rebuilding the table (its documented steps): the rows are copied,
 * and the table's triggers (append-only, allowed steps) and indexes are made again as they were.
 * PostgreSQL keeps long values apart from the row (TOAST): nothing to do there.
 */
export class VersionDocumentLast1796700000001 implements MigrationInterface {
  name = 'VersionDocumentLast1796700000001'

  public async up(queryRunner: QueryRunner): Promise<void> {
    await rebuild(queryRunner, `${COLUMNS}, "checkpoint" text, "redactions" text, "document" text NOT NULL`)
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await rebuild(queryRunner, `${COLUMNS}, "document" text NOT NULL, "checkpoint" text, "redactions" text`)
  }
}

async function rebuild(queryRunner: QueryRunner, columns: string): Promise<void> {
  const kept: { sql: string }[] = await queryRunner.query(`SELECT sql FROM sqlite_master WHERE tbl_name = 'register_versions' AND type IN ('index', 'trigger') AND sql IS NOT NULL ORDER BY type, name`)
  await queryRunner.query(`CREATE TABLE "temporary_register_versions" (${columns}, PRIMARY KEY ("workspace_id", "number"))`)
  await queryRunner.query(`INSERT INTO "temporary_register_versions" (${NAMES}) SELECT ${NAMES} FROM "register_versions"`)
  await queryRunner.query(`DROP TABLE "register_versions"`)
  await queryRunner.query(`ALTER TABLE "temporary_register_versions" RENAME TO "register_versions"`)
  for (const { sql } of kept) await queryRunner.query(sql)
}
