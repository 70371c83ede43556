import { Column, Entity, Index, PrimaryColumn } from 'typeorm'
import { OwnedRow, References, RegisterRecord, SortIndexes } from './base'
import { Controller } from './controller'
import { Processor } from './processor'
import { DataCategory, DataSubjectCategory, LegalBasis, Purpose, Recipient, RetentionRule, SecurityMeasure } from './catalogue'

/**
 * A processing activity (behandling): one entry of the register. `role` says whether it is the
 * organisation's own processing as controller (Art. 30(1)) or processing done as a processor for
 * client controllers (Art. 30(2)).
 */
@Entity('processing_activities')
@SortIndexes('processing_activities', 'sortKey', 'status', 'role', 'nextReviewAt', 'lastReviewedAt', 'updatedAt')
@Index(['workspaceId', 'controllerId'])
// list pages sort by these (default createdAt); without an index every page sorts the whole register
@Index(['workspaceId', 'createdAt', 'id'])
@Index(['workspaceId', 'name', 'id'])
@Index('IDX_processing_activities_dpia_screening', ['workspaceId', 'dpiaScreening', 'id'])
export class ProcessingActivity extends RegisterRecord {
  @Column({ type: 'varchar', length: 200 })
  name!: string

  @Column({ type: 'text', nullable: true })
  description!: string | null

  @Column({ type: 'varchar', length: 20 })
  role!: string

  /** The controller keeping this record; for a processor-role record, the organisation itself. */
  @Column({ type: 'varchar', length: 36 })
  controllerId!: string

  @References(() => Controller, 'controller_id')
  controller?: Controller

  /** JSON array of strings: where the data comes from (Art. 14(2)(f)). */
  @Column({ type: 'simple-json' })
  dataSources!: string[]

  /** JSON array of strings: the systems the processing runs in. */
  @Column({ type: 'simple-json' })
  systems!: string[]

  @Column({ type: 'boolean', nullable: true })
  dpiaRequired!: boolean | null

  @Column({ type: 'varchar', length: 20, nullable: true })
  dpiaStatus!: string | null

  @Column({ type: 'varchar', length: 500, nullable: true })
  dpiaReference!: string | null

  /** Why the DPIA decision is what it is; required to decide "not required" against a screening of "required". */
  @Column({ type: 'text', nullable: true })
  dpiaJustification!: string | null

  /** The data protection officer's advice on the DPIA (Art. 35(2)). */
  @Column({ type: 'text', nullable: true })
  dpiaDpoAdvice!: string | null

  @Column({ type: 'varchar', length: 200, nullable: true })
  dpiaDecidedBy!: string | null

  @Column({ type: 'varchar', length: 10, nullable: true })
  dpiaDecidedAt!: string | null

  /** The facts a DPIA screening reads (WP248 rev.01 criteria, Art. 35(3)); null: not yet answered. */
  @Column({ type: 'boolean', nullable: true })
  riskEvaluationOrScoring!: boolean | null

  @Column({ type: 'boolean', nullable: true })
  riskAutomatedDecisionWithLegalEffect!: boolean | null

  @Column({ type: 'boolean', nullable: true })
  riskSystematicMonitoring!: boolean | null

  @Column({ type: 'boolean', nullable: true })
  riskPubliclyAccessibleArea!: boolean | null

  @Column({ type: 'boolean', nullable: true })
  riskLargeScale!: boolean | null

  @Column({ type: 'boolean', nullable: true })
  riskMatchingDatasets!: boolean | null

  @Column({ type: 'boolean', nullable: true })
  riskInnovativeTechnology!: boolean | null

  @Column({ type: 'boolean', nullable: true })
  riskPreventsRightOrService!: boolean | null

  /** About how many data subjects the activity concerns. */
  @Column({ type: 'integer', nullable: true })
  dataSubjectsApprox!: number | null

  /** An individual physician's, health professional's or lawyer's own patients or clients (recital 91: not large scale). */
  @Column({ type: 'boolean', nullable: true })
  individualProfessional!: boolean | null

  /**
   * The DPIA screening's outcome (required | not-required | undetermined), computed with the stored
   * view (src/register/records/dpia-screening.ts) and written with it: what `?dpiaScreening=` filters by.
   */
  @Column({ type: 'varchar', length: 20, nullable: true, select: false })
  dpiaScreening!: string | null

  @Column({ type: 'boolean' })
  automatedDecisionMaking!: boolean

  @Column({ type: 'text', nullable: true })
  automatedDecisionMakingDescription!: string | null

  @Column({ type: 'varchar', length: 20 })
  status!: string

  @Column({ type: 'varchar', length: 200, nullable: true })
  owner!: string | null

  @Column({ type: 'varchar', length: 10, nullable: true })
  lastReviewedAt!: string | null

  /** Who marked the activity reviewed last (the token's subject). */
  @Column({ type: 'varchar', length: 200, nullable: true })
  lastReviewedBy!: string | null

  /** Why personal identity numbers are needed (dataskyddslagen 3 kap. 10 §), when the activity holds them. */
  @Column({ type: 'text', nullable: true })
  nationalIdJustification!: string | null

  @Column({ type: 'varchar', length: 10, nullable: true })
  nextReviewAt!: string | null
}

/** A row of one of an activity's lists; deleted with the activity. */
abstract class ActivityRow extends OwnedRow {
  @References(() => ProcessingActivity, 'owner_id', 'CASCADE')
  activity?: ProcessingActivity
}

@Entity('activity_joint_controllers')
@Index(['workspaceId', 'controllerId'])
export class ActivityJointController extends ActivityRow {
  @Column({ type: 'varchar', length: 36 })
  controllerId!: string

  @References(() => Controller, 'controller_id')
  controller?: Controller
}

/** Art. 30(2): the client controllers a processor-role activity is carried out for. */
@Entity('activity_on_behalf_of_controllers')
@Index(['workspaceId', 'controllerId'])
export class ActivityOnBehalfOfController extends ActivityRow {
  @Column({ type: 'varchar', length: 36 })
  controllerId!: string

  @References(() => Controller, 'controller_id')
  controller?: Controller
}

/** A purpose within an activity; legal bases belong to it (see ActivityPurposeLegalBasis). */
@Entity('activity_purposes')
@Index(['workspaceId', 'purposeId'])
export class ActivityPurpose extends ActivityRow {
  @Column({ type: 'varchar', length: 36 })
  purposeId!: string

  @References(() => Purpose, 'purpose_id')
  purpose?: Purpose

  @Column({ type: 'text', nullable: true })
  legitimateInterest!: string | null

  @Column({ type: 'varchar', length: 500, nullable: true })
  liaReference!: string | null

  /** How the data subject withdraws consent (Art. 7(3)), when the purpose rests on consent. */
  @Column({ type: 'text', nullable: true })
  consentWithdrawal!: string | null

  /** Art. 13(2)(e): statutory, contractual, required to enter a contract, or voluntary. */
  @Column({ type: 'varchar', length: 40, nullable: true })
  provisionRequirement!: string | null

  /** Art. 13(2)(e): what follows when the data subject does not provide the data. */
  @Column({ type: 'text', nullable: true })
  provisionConsequences!: string | null
}

@Entity('activity_purpose_legal_bases')
@Index(['workspaceId', 'legalBasisId'])
export class ActivityPurposeLegalBasis extends ActivityRow {
  /** Position of the purpose within the activity. */
  @PrimaryColumn({ type: 'integer' })
  parentPosition!: number

  @Column({ type: 'varchar', length: 36 })
  legalBasisId!: string

  @References(() => LegalBasis, 'legal_basis_id')
  legalBasis?: LegalBasis
}

@Entity('activity_data_subject_categories')
@Index(['workspaceId', 'dataSubjectCategoryId'])
export class ActivityDataSubjectCategory extends ActivityRow {
  @Column({ type: 'varchar', length: 36 })
  dataSubjectCategoryId!: string

  @References(() => DataSubjectCategory, 'data_subject_category_id')
  dataSubjectCategory?: DataSubjectCategory
}

@Entity('activity_data_categories')
@Index(['workspaceId', 'dataCategoryId'])
export class ActivityDataCategory extends ActivityRow {
  @Column({ type: 'varchar', length: 36 })
  dataCategoryId!: string

  @References(() => DataCategory, 'data_category_id')
  dataCategory?: DataCategory
}

@Entity('activity_recipients')
@Index(['workspaceId', 'recipientId'])
export class ActivityRecipient extends ActivityRow {
  @Column({ type: 'varchar', length: 36 })
  recipientId!: string

  @References(() => Recipient, 'recipient_id')
  recipient?: Recipient
}

@Entity('activity_processors')
@Index(['workspaceId', 'processorId'])
export class ActivityProcessor extends ActivityRow {
  @Column({ type: 'varchar', length: 36 })
  processorId!: string

  @References(() => Processor, 'processor_id')
  processor?: Processor
}

/** A transfer to a third country or international organisation (Chapter V, Art. 30(1)(e)). */
@Entity('activity_transfers')
@Index(['workspaceId', 'recipientId'])
@Index(['workspaceId', 'processorId'])
export class ActivityTransfer extends ActivityRow {
  /** ISO 3166-1 alpha-2; null when the transfer goes to an international organisation instead. */
  @Column({ type: 'varchar', length: 2, nullable: true })
  country!: string | null

  /** An international organisation (Art. 4(26)) as the destination, instead of a country. */
  @Column({ type: 'varchar', length: 200, nullable: true })
  internationalOrganisation!: string | null

  @Column({ type: 'varchar', length: 36, nullable: true })
  recipientId!: string | null

  @References(() => Recipient, 'recipient_id')
  recipient?: Recipient

  @Column({ type: 'varchar', length: 36, nullable: true })
  processorId!: string | null

  @References(() => Processor, 'processor_id')
  processor?: Processor

  /** A stable code: A45-3, A46-2-c, A49-1-a, A49-1-second-subparagraph, … */
  /** Null while nobody has recorded the mechanism: a gap the register must be able to show. */
  @Column({ type: 'varchar', length: 40, nullable: true })
  mechanism!: string | null

  @Column({ type: 'text', nullable: true })
  safeguards!: string | null

  @Column({ type: 'text', nullable: true })
  documentation!: string | null
}

/** A retention rule applied to the activity as a whole, or to some of its data categories. */
@Entity('activity_retention')
@Index(['workspaceId', 'retentionRuleId'])
export class ActivityRetention extends ActivityRow {
  @Column({ type: 'varchar', length: 36 })
  retentionRuleId!: string

  @References(() => RetentionRule, 'retention_rule_id')
  retentionRule?: RetentionRule
}

@Entity('activity_retention_data_categories')
@Index(['workspaceId', 'dataCategoryId'])
export class ActivityRetentionDataCategory extends ActivityRow {
  @PrimaryColumn({ type: 'integer' })
  parentPosition!: number

  @Column({ type: 'varchar', length: 36 })
  dataCategoryId!: string

  @References(() => DataCategory, 'data_category_id')
  dataCategory?: DataCategory
}

@Entity('activity_security_measures')
@Index(['workspaceId', 'securityMeasureId'])
export class ActivitySecurityMeasure extends ActivityRow {
  @Column({ type: 'varchar', length: 36 })
  securityMeasureId!: string

  @References(() => SecurityMeasure, 'security_measure_id')
  securityMeasure?: SecurityMeasure
}
