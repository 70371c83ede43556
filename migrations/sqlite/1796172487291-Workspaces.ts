import { MigrationInterface, QueryRunner } from "typeorm";

/** The tables of register records, each row in one workspace (owned rows follow their owner). */
const REGISTER_TABLES = ['controllers', 'processors', 'purposes', 'legal_bases', 'data_subject_categories', 'data_categories',
    'recipients', 'retention_rules', 'security_measures', 'processing_activities'];

export class Workspaces1796172487291 implements MigrationInterface {
    name = 'Workspaces1796172487291'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE TABLE "workspaces" ("id" varchar(64) PRIMARY KEY NOT NULL, "name" varchar(200) NOT NULL, "created_at" varchar(30) NOT NULL)`);
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
