import { MigrationInterface, QueryRunner } from 'typeorm'
import { rebuildViewsInMigration } from '../rebuild-views'

/**
 * Art. 13(2)(e) on a purpose of an activity (provision_requirement, provision_consequences), and a
 * transfer to an international organisation (Art. 4(26)) instead of a country: the transfer's
 * country becomes nullable beside international_organisation. The stored views are rebuilt to show
 * the new fields.
 */
export class ProvisionAndInternationalOrganisation1796600000025 implements MigrationInterface {
  name = 'ProvisionAndInternationalOrganisation1796600000025'

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "activity_purposes" ADD "provision_requirement" character varying(40)`)
    await queryRunner.query(`ALTER TABLE "activity_purposes" ADD "provision_consequences" text`)
    await queryRunner.query(`ALTER TABLE "activity_transfers" ADD "international_organisation" character varying(200)`)
    await queryRunner.query(`ALTER TABLE "activity_transfers" ALTER COLUMN "country" DROP NOT NULL`)
    await rebuildViewsInMigration(queryRunner)
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    // a transfer to an international organisation has no country to go back to
    await queryRunner.query(`DELETE FROM "activity_transfers" WHERE "country" IS NULL`)
    await queryRunner.query(`ALTER TABLE "activity_transfers" ALTER COLUMN "country" SET NOT NULL`)
    await queryRunner.query(`ALTER TABLE "activity_transfers" DROP COLUMN "international_organisation"`)
    await queryRunner.query(`ALTER TABLE "activity_purposes" DROP COLUMN "provision_consequences"`)
    await queryRunner.query(`ALTER TABLE "activity_purposes" DROP COLUMN "provision_requirement"`)
  }
}
