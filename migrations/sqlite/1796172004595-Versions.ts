import { MigrationInterface, QueryRunner } from 'typeorm'
import { chainExistingHistory } from '../chain-history'

/**
 * Established register versions, and the hash chain over history. Written by hand: the generator
 * rebuilds the history table to add a column (DROP TABLE and copy), which would drop its
 * append-only triggers with it; ADD COLUMN keeps the table, its rows and its triggers.
 */
export class Versions1796172004595 implements MigrationInterface {
  name = 'Versions1796172004595'

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE "register_versions" ("workspace_id" varchar(64) NOT NULL, "number" integer NOT NULL, "status" varchar(12) NOT NULL, "note" text, "proposed_by" varchar(200) NOT NULL, "proposed_at" varchar(30) NOT NULL, "approved_by" varchar(200), "approved_at" varchar(30), "approval_note" text, "rejected_by" varchar(200), "rejected_at" varchar(30), "rejection_reason" text, "superseded_at" varchar(30), "superseded_by" integer, "content_hash" varchar(64) NOT NULL, "history_head" varchar(64), "counts" text NOT NULL, "findings" text NOT NULL, "document" text NOT NULL, PRIMARY KEY ("workspace_id", "number"))`)
    await queryRunner.query(`ALTER TABLE "history" ADD COLUMN "hash" varchar(64)`)
    await queryRunner.query(`CREATE INDEX "IDX_4955d38f2f1533211d8332faca" ON "history" ("workspace_id", "seq") `)
    // the one time entries are changed: each gets its hash, with the triggers lifted meanwhile
    await queryRunner.query(`DROP TRIGGER "history_append_only_update"`)
    await chainExistingHistory(queryRunner, () => '?')
    await queryRunner.query(`CREATE TRIGGER "history_append_only_update" BEFORE UPDATE ON "history" BEGIN SELECT RAISE(ABORT, 'history is append-only'); END`)
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "IDX_4955d38f2f1533211d8332faca"`)
    await queryRunner.query(`ALTER TABLE "history" DROP COLUMN "hash"`)
    await queryRunner.query(`DROP TABLE "register_versions"`)
  }
}
