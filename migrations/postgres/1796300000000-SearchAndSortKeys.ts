import { MigrationInterface, QueryRunner } from 'typeorm'
import { addLookupColumns, dropLookupColumns } from '../lookup-columns'

/**
 * Search that folds case for all of Unicode and ignores the normalisation form, and names sorted
 * in the register's collation: columns computed in the service (src/register/wording/collation.ts),
 * since neither database folds or collates alike without ICU. Filled here for existing rows.
 */
export class SearchAndSortKeys1796300000000 implements MigrationInterface {
  name = 'SearchAndSortKeys1796300000000'

  public async up(queryRunner: QueryRunner): Promise<void> {
    await addLookupColumns(queryRunner, (n) => `$${n}`)
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await dropLookupColumns(queryRunner)
  }
}
