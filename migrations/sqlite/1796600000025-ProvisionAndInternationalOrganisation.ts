import { MigrationInterface, QueryRunner } from 'typeorm'
import { rebuildViewsInMigration } from '../rebuild-views'

/**
 * Art. 13(2)(e) on a purpose of an activity (provision_requirement, provision_consequences: added
 * columns), and a transfer to an international organisation (Art. 4(26)) instead of a country:
 * activity_transfers.country becomes nullable and international_organisation is added. SQLite
 * cannot drop a NOT NULL, so activity_transfers is rebuilt (copy, drop, rename); no table refers to
 * it, so the drop takes nothing with it. The stored views are rebuilt to show the new fields.
 */
export class ProvisionAndInternationalOrganisation1796600000025 implements MigrationInterface {
  name = 'ProvisionAndInternationalOrganisation1796600000025'

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "activity_purposes" ADD COLUMN "provision_requirement" varchar(40)`)
    await queryRunner.query(`ALTER TABLE "activity_purposes" ADD COLUMN "provision_consequences" text`)
    await queryRunner.query(`DROP INDEX "IDX_09936d63ccbfd2cd2a3d34529e"`)
    await queryRunner.query(`DROP INDEX "IDX_4e43c459ab7414db50d8aa133a"`)
    await queryRunner.query(`CREATE TABLE "temporary_activity_transfers" ("workspace_id" varchar(64) NOT NULL, "owner_id" varchar(36) NOT NULL, "position" integer NOT NULL, "country" varchar(2), "recipient_id" varchar(36), "processor_id" varchar(36), "mechanism" varchar(40), "safeguards" text, "documentation" text, "international_organisation" varchar(200), CONSTRAINT "FK_4e43c459ab7414db50d8aa133a5" FOREIGN KEY ("workspace_id", "processor_id") REFERENCES "processors" ("workspace_id", "id") ON DELETE RESTRICT ON UPDATE NO ACTION, CONSTRAINT "FK_09936d63ccbfd2cd2a3d34529e5" FOREIGN KEY ("workspace_id", "recipient_id") REFERENCES "recipients" ("workspace_id", "id") ON DELETE RESTRICT ON UPDATE NO ACTION, CONSTRAINT "FK_535f8f03a0c79045ea07dcd9f11" FOREIGN KEY ("workspace_id", "owner_id") REFERENCES "processing_activities" ("workspace_id", "id") ON DELETE CASCADE ON UPDATE NO ACTION, PRIMARY KEY ("workspace_id", "owner_id", "position"))`)
    await queryRunner.query(`INSERT INTO "temporary_activity_transfers"("workspace_id", "owner_id", "position", "country", "recipient_id", "processor_id", "mechanism", "safeguards", "documentation") SELECT "workspace_id", "owner_id", "position", "country", "recipient_id", "processor_id", "mechanism", "safeguards", "documentation" FROM "activity_transfers"`)
    await queryRunner.query(`DROP TABLE "activity_transfers"`)
    await queryRunner.query(`ALTER TABLE "temporary_activity_transfers" RENAME TO "activity_transfers"`)
    await queryRunner.query(`CREATE INDEX "IDX_09936d63ccbfd2cd2a3d34529e" ON "activity_transfers" ("workspace_id", "recipient_id") `)
    await queryRunner.query(`CREATE INDEX "IDX_4e43c459ab7414db50d8aa133a" ON "activity_transfers" ("workspace_id", "processor_id") `)
    await rebuildViewsInMigration(queryRunner)
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    // a transfer to an international organisation has no country to go back to
    await queryRunner.query(`DELETE FROM "activity_transfers" WHERE "country" IS NULL`)
    await queryRunner.query(`DROP INDEX "IDX_4e43c459ab7414db50d8aa133a"`)
    await queryRunner.query(`DROP INDEX "IDX_09936d63ccbfd2cd2a3d34529e"`)
    await queryRunner.query(`ALTER TABLE "activity_transfers" RENAME TO "temporary_activity_transfers"`)
    await queryRunner.query(`CREATE TABLE "activity_transfers" ("workspace_id" varchar(64) NOT NULL, "owner_id" varchar(36) NOT NULL, "position" integer NOT NULL, "country" varchar(2) NOT NULL, "recipient_id" varchar(36), "processor_id" varchar(36), "mechanism" varchar(40), "safeguards" text, "documentation" text, CONSTRAINT "FK_4e43c459ab7414db50d8aa133a5" FOREIGN KEY ("workspace_id", "processor_id") REFERENCES "processors" ("workspace_id", "id") ON DELETE RESTRICT ON UPDATE NO ACTION, CONSTRAINT "FK_09936d63ccbfd2cd2a3d34529e5" FOREIGN KEY ("workspace_id", "recipient_id") REFERENCES "recipients" ("workspace_id", "id") ON DELETE RESTRICT ON UPDATE NO ACTION, CONSTRAINT "FK_535f8f03a0c79045ea07dcd9f11" FOREIGN KEY ("workspace_id", "owner_id") REFERENCES "processing_activities" ("workspace_id", "id") ON DELETE CASCADE ON UPDATE NO ACTION, PRIMARY KEY ("workspace_id", "owner_id", "position"))`)
    await queryRunner.query(`INSERT INTO "activity_transfers"("workspace_id", "owner_id", "position", "country", "recipient_id", "processor_id", "mechanism", "safeguards", "documentation") SELECT "workspace_id", "owner_id", "position", "country", "recipient_id", "processor_id", "mechanism", "safeguards", "documentation" FROM "temporary_activity_transfers"`)
    await queryRunner.query(`DROP TABLE "temporary_activity_transfers"`)
    await queryRunner.query(`CREATE INDEX "IDX_4e43c459ab7414db50d8aa133a" ON "activity_transfers" ("workspace_id", "processor_id") `)
    await queryRunner.query(`CREATE INDEX "IDX_09936d63ccbfd2cd2a3d34529e" ON "activity_transfers" ("workspace_id", "recipient_id") `)
    await queryRunner.query(`ALTER TABLE "activity_purposes" DROP COLUMN "provision_consequences"`)
    await queryRunner.query(`ALTER TABLE "activity_purposes" DROP COLUMN "provision_requirement"`)
  }
}
