import { MigrationInterface, QueryRunner } from "typeorm";

export class Accountability1795337252363 implements MigrationInterface {
    name = 'Accountability1795337252363'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE TABLE "history" ("seq" SERIAL NOT NULL, "workspace_id" character varying(64) NOT NULL, "record_type" character varying(40) NOT NULL, "record_id" character varying(36) NOT NULL, "version" integer NOT NULL, "operation" character varying(10) NOT NULL, "actor" character varying(200) NOT NULL, "at" character varying(30) NOT NULL, "state" text NOT NULL, CONSTRAINT "PK_f738396327c513bc7a76df6220b" PRIMARY KEY ("seq"))`);
        await queryRunner.query(`CREATE INDEX "IDX_913a9330576b47bad6d61d19ed" ON "history"  ("workspace_id", "at") `);
        await queryRunner.query(`CREATE INDEX "IDX_897bfe086cbb9db6ea484f6994" ON "history"  ("workspace_id", "record_type", "record_id") `);
        // append-only: no UPDATE or DELETE of history, whoever asks
        await queryRunner.query(`CREATE FUNCTION history_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'history is append-only'; END $$`);
        await queryRunner.query(`CREATE TRIGGER history_append_only BEFORE UPDATE OR DELETE ON "history" FOR EACH ROW EXECUTE FUNCTION history_append_only()`);
        await queryRunner.query(`ALTER TABLE "processing_activities" ADD "last_reviewed_by" character varying(200)`);
        await queryRunner.query(`ALTER TABLE "processing_activities" ADD "national_id_justification" text`);
        await queryRunner.query(`ALTER TABLE "activity_purposes" ADD "consent_withdrawal" text`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "activity_purposes" DROP COLUMN "consent_withdrawal"`);
        await queryRunner.query(`ALTER TABLE "processing_activities" DROP COLUMN "national_id_justification"`);
        await queryRunner.query(`ALTER TABLE "processing_activities" DROP COLUMN "last_reviewed_by"`);
        await queryRunner.query(`DROP INDEX "public"."IDX_897bfe086cbb9db6ea484f6994"`);
        await queryRunner.query(`DROP INDEX "public"."IDX_913a9330576b47bad6d61d19ed"`);
        await queryRunner.query(`DROP TRIGGER history_append_only ON "history"`);
        await queryRunner.query(`DROP FUNCTION history_append_only()`);
        await queryRunner.query(`DROP TABLE "history"`);
    }

}
