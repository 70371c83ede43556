import { MigrationInterface, QueryRunner } from 'typeorm'

/** Index, table, column: the list sorts without an index until now (entities: SortIndexes). */
const INDEXES: [string, string, string][] = [
      ['IDX_controllers_sort_name', 'controllers', 'name'],
      ['IDX_controllers_sort_created_at', 'controllers', 'created_at'],
      ['IDX_controllers_sort_updated_at', 'controllers', 'updated_at'],
      ['IDX_processors_sort_name', 'processors', 'name'],
      ['IDX_processors_sort_created_at', 'processors', 'created_at'],
      ['IDX_processors_sort_updated_at', 'processors', 'updated_at'],
      ['IDX_purposes_sort_name', 'purposes', 'name'],
      ['IDX_purposes_sort_created_at', 'purposes', 'created_at'],
      ['IDX_purposes_sort_updated_at', 'purposes', 'updated_at'],
      ['IDX_legal_bases_sort_name', 'legal_bases', 'name'],
      ['IDX_legal_bases_sort_kind', 'legal_bases', 'kind'],
      ['IDX_legal_bases_sort_created_at', 'legal_bases', 'created_at'],
      ['IDX_legal_bases_sort_updated_at', 'legal_bases', 'updated_at'],
      ['IDX_data_subject_categories_sort_name', 'data_subject_categories', 'name'],
      ['IDX_data_subject_categories_sort_created_at', 'data_subject_categories', 'created_at'],
      ['IDX_data_subject_categories_sort_updated_at', 'data_subject_categories', 'updated_at'],
      ['IDX_data_categories_sort_name', 'data_categories', 'name'],
      ['IDX_data_categories_sort_classification', 'data_categories', 'classification'],
      ['IDX_data_categories_sort_created_at', 'data_categories', 'created_at'],
      ['IDX_data_categories_sort_updated_at', 'data_categories', 'updated_at'],
      ['IDX_recipients_sort_name', 'recipients', 'name'],
      ['IDX_recipients_sort_created_at', 'recipients', 'created_at'],
      ['IDX_recipients_sort_updated_at', 'recipients', 'updated_at'],
      ['IDX_retention_rules_sort_name', 'retention_rules', 'name'],
      ['IDX_retention_rules_sort_created_at', 'retention_rules', 'created_at'],
      ['IDX_retention_rules_sort_updated_at', 'retention_rules', 'updated_at'],
      ['IDX_security_measures_sort_name', 'security_measures', 'name'],
      ['IDX_security_measures_sort_type', 'security_measures', 'type'],
      ['IDX_security_measures_sort_category', 'security_measures', 'category'],
      ['IDX_security_measures_sort_created_at', 'security_measures', 'created_at'],
      ['IDX_security_measures_sort_updated_at', 'security_measures', 'updated_at'],
      ['IDX_processing_activities_sort_status', 'processing_activities', 'status'],
      ['IDX_processing_activities_sort_role', 'processing_activities', 'role'],
      ['IDX_processing_activities_sort_next_review_at', 'processing_activities', 'next_review_at'],
      ['IDX_processing_activities_sort_last_reviewed_at', 'processing_activities', 'last_reviewed_at'],
      ['IDX_processing_activities_sort_updated_at', 'processing_activities', 'updated_at'],
]

/** Every list sort reads its page from an index (workspace, column, id). */
export class SortIndexes1795350000001 implements MigrationInterface {
  name = 'SortIndexes1795350000001'

  public async up(queryRunner: QueryRunner): Promise<void> {
    for (const [index, table, column] of INDEXES) {
      await queryRunner.query(`CREATE INDEX "${index}" ON "${table}" ("workspace_id", "${column}", "id")`)
    }
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    for (const [index] of INDEXES) await queryRunner.query(`DROP INDEX "${index}"`)
  }
}
