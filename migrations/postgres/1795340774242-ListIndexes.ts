import { MigrationInterface, QueryRunner } from "typeorm";

export class ListIndexes1795340774242 implements MigrationInterface {
    name = 'ListIndexes1795340774242'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE INDEX "IDX_07845855e4a6728f08c0aacac4" ON "processing_activities"  ("workspace_id", "name", "id") `);
        await queryRunner.query(`CREATE INDEX "IDX_c19468993cc946e94c45f27f62" ON "processing_activities"  ("workspace_id", "created_at", "id") `);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`DROP INDEX "public"."IDX_c19468993cc946e94c45f27f62"`);
        await queryRunner.query(`DROP INDEX "public"."IDX_07845855e4a6728f08c0aacac4"`);
    }

}
