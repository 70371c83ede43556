import { MigrationInterface, QueryRunner } from 'typeorm'
import { historyForEveryRecord } from '../history-for-every-record'

/**
 * Records without history (from before the Accountability migration) get a first entry, so that
 * `asOf`, /register/changes and GET /{id}/history hold every record (migrations/history-for-every-record.ts).
 */
export class HistoryForEveryRecord1796300000001 implements MigrationInterface {
  name = 'HistoryForEveryRecord1796300000001'

  public async up(queryRunner: QueryRunner): Promise<void> {
    await historyForEveryRecord(queryRunner, () => '?')
  }

  /** History is append-only: the entries stay (they are true of the records they describe). */
  public async down(): Promise<void> {}
}
