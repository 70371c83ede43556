import { MigrationInterface, QueryRunner } from 'typeorm'
import { chainExistingHistory } from '../chain-history'

/** Established register versions, and the hash chain over history (existing entries chained here). */
export class Versions1796172008106 implements MigrationInterface {
  name = 'Versions1796172008106'

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE "register_versions" ("workspace_id" character varying(64) NOT NULL, "number" integer NOT NULL, "status" character varying(12) NOT NULL, "note" text, "proposed_by" character varying(200) NOT NULL, "proposed_at" character varying(30) NOT NULL, "approved_by" character varying(200), "approved_at" character varying(30), "approval_note" text, "rejected_by" character varying(200), "rejected_at" character varying(30), "rejection_reason" text, "superseded_at" character varying(30), "superseded_by" integer, "content_hash" character varying(64) NOT NULL, "history_head" character varying(64), "counts" text NOT NULL, "findings" text NOT NULL, "document" text NOT NULL, CONSTRAINT "PK_e008073ad09a8b42bc0ac483877" PRIMARY KEY ("workspace_id", "number"))`)
    await queryRunner.query(`ALTER TABLE "history" ADD "hash" character varying(64)`)
    await queryRunner.query(`CREATE INDEX "IDX_4955d38f2f1533211d8332faca" ON "history"  ("workspace_id", "seq") `)
    // the one time entries are changed: each gets its hash, with the trigger lifted meanwhile
    // (no writer appends meanwhile: instances take turns migrating before they serve)
    await queryRunner.query(`ALTER TABLE "history" DISABLE TRIGGER history_append_only`)
    await chainExistingHistory(queryRunner, (n) => `$${n}`)
    await queryRunner.query(`ALTER TABLE "history" ENABLE TRIGGER history_append_only`)
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "public"."IDX_4955d38f2f1533211d8332faca"`)
    await queryRunner.query(`ALTER TABLE "history" DROP COLUMN "hash"`)
    await queryRunner.query(`DROP TABLE "register_versions"`)
  }
}
