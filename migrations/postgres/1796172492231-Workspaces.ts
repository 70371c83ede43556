import { MigrationInterface, QueryRunner } from "typeorm";

/** The tables of register records, each row in one workspace (owned rows follow their owner). */
const REGISTER_TABLES = ['controllers', 'processors', 'purposes', 'legal_bases', 'data_subject_categories', 'data_categories',
    'recipients', 'retention_rules', 'security_measures', 'processing_activities'];

export class Workspaces1796172492231 implements MigrationInterface {
    name = 'Workspaces1796172492231'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE TABLE "workspaces" ("id" character varying(64) NOT NULL, "name" character varying(200) NOT NULL, "created_at" character varying(30) NOT NULL, CONSTRAINT "PK_098656ae401f3e1a4586f47fd8e" PRIMARY KEY ("id"))`);
        // An upgraded database keeps working in production: every workspace that already holds rows is registered.
        await queryRunner.query(`INSERT INTO "workspaces" ("id", "name", "created_at")
            SELECT "workspace_id", "workspace_id", MIN("created_at") FROM (
                ${REGISTER_TABLES.map((t) => `SELECT "workspace_id", "created_at" FROM "${t}"`).join(' UNION ALL ')}
                UNION ALL SELECT "workspace_id", "at" FROM "history"
            ) AS "used" GROUP BY "workspace_id"`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`DROP TABLE "workspaces"`);
    }

}
