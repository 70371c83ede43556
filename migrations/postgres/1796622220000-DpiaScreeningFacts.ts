import { MigrationInterface, QueryRunner } from 'typeorm'
import { addDpiaScreeningFacts, dropDpiaScreeningFacts } from '../dpia-screening-facts'

/** The facts a DPIA screening reads, the decision's who, when and why, and the screening's outcome (see ../dpia-screening-facts.ts). */
export class DpiaScreeningFacts1796622220000 implements MigrationInterface {
  name = 'DpiaScreeningFacts1796622220000'

  public async up(queryRunner: QueryRunner): Promise<void> {
    await addDpiaScreeningFacts(queryRunner)
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await dropDpiaScreeningFacts(queryRunner)
  }
}
