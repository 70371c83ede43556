import { QueryRunner } from 'typeorm'
import { rebuildViewsInMigration } from './rebuild-views'

/**
 * The facts a DPIA screening reads (a data subject category's `vulnerable`, a data category's
 * `highlyPersonal`, an activity's risk factors, `dataSubjectsApprox`, `individualProfessional`),
 * the DPIA decision's justification, DPO advice, who and when, and the screening's outcome kept
 * beside the activity's view for `?dpiaScreening=`. ADD COLUMN, never a rebuilt table (see
 * Accountability); every new fact is null (not yet answered). The views are rebuilt so that they
 * show the facts and the screening at once.
 */
const COLUMNS: [table: string, column: string, type: string][] = [
  ['data_subject_categories', 'vulnerable', 'boolean'],
  ['data_categories', 'highly_personal', 'boolean'],
  ['processing_activities', 'dpia_justification', 'text'],
  ['processing_activities', 'dpia_dpo_advice', 'text'],
  ['processing_activities', 'dpia_decided_by', 'varchar(200)'],
  ['processing_activities', 'dpia_decided_at', 'varchar(10)'],
  ['processing_activities', 'risk_evaluation_or_scoring', 'boolean'],
  ['processing_activities', 'risk_automated_decision_with_legal_effect', 'boolean'],
  ['processing_activities', 'risk_systematic_monitoring', 'boolean'],
  ['processing_activities', 'risk_publicly_accessible_area', 'boolean'],
  ['processing_activities', 'risk_large_scale', 'boolean'],
  ['processing_activities', 'risk_matching_datasets', 'boolean'],
  ['processing_activities', 'risk_innovative_technology', 'boolean'],
  ['processing_activities', 'risk_prevents_right_or_service', 'boolean'],
  ['processing_activities', 'data_subjects_approx', 'integer'],
  ['processing_activities', 'individual_professional', 'boolean'],
  ['processing_activities', 'dpia_screening', 'varchar(20)'],
]

const INDEX = 'IDX_processing_activities_dpia_screening'

export async function addDpiaScreeningFacts(queryRunner: QueryRunner, rebuildViews = true): Promise<void> {
  for (const [table, column, type] of COLUMNS) await queryRunner.query(`ALTER TABLE "${table}" ADD COLUMN "${column}" ${type}`)
  await queryRunner.query(`CREATE INDEX "${INDEX}" ON "processing_activities" ("workspace_id", "dpia_screening", "id")`)
  if (rebuildViews) await rebuildViewsInMigration(queryRunner)
}

export async function dropDpiaScreeningFacts(queryRunner: QueryRunner): Promise<void> {
  await queryRunner.query(`DROP INDEX "${INDEX}"`)
  for (const [table, column] of [...COLUMNS].reverse()) await queryRunner.query(`ALTER TABLE "${table}" DROP COLUMN "${column}"`)
}
