import {
  ACTIVITY_ROLES, ACTIVITY_STATUSES, DATA_CLASSIFICATIONS, DPIA_STATUSES, LEGAL_BASIS_KINDS, SECURITY_MEASURE_CATEGORIES,
  SECURITY_MEASURE_TYPES, SPECIAL_CATEGORIES, TRANSFER_MECHANISM_CODES, PROVISION_REQUIREMENTS,
} from '../register/records/catalogue'
import { ArrayMaxSize, ArrayMinSize, ArrayUnique, IsArray, IsString, Matches, MaxLength, MinLength } from 'class-validator'
import { JSONSchema } from 'class-validator-jsonschema'
import {
  Count, Country, DateOnly, Duration, Email, Flag, Id, Ids, LegalBasisRefs, Name, Nested, OneOf, Phone, Strings, Text, Url, Website, When,
} from './decorators'

/**
 * Request bodies of every register resource: the one declaration of what a write may contain.
 * The same classes validate requests (class-validator) and document them (JSON Schema → OpenAPI).
 * Optional fields may be null, which clears them.
 */

export class Contact {
  @Text(200, 'Name of the person or office', { example: 'Anna Andersson' }) name?: string | null
  @Email('E-mail address') email?: string | null
  @Phone('Telephone number') phone?: string | null
  @Text(500, 'Postal address') address?: string | null
}

export class ControllerWrite {
  @Name('Name of the organisation (personuppgiftsansvarig)', 'HALTEA AB') name!: string
  @Text(50, 'Organisation number (organisationsnummer)', { example: '556000-0000' }) organisationNumber?: string | null
  @Text(500, 'Postal address') address?: string | null
  @Email('Contact e-mail address') email?: string | null
  @Phone('Contact telephone number') phone?: string | null
  @Country('Country of establishment') country?: string | null
  @Website('Website') website?: string | null
  @Nested(() => Contact, 'Representative in the Union (Art. 27), for controllers established outside it') representative?: Contact | null
  @Nested(() => Contact, 'Data protection officer (dataskyddsombud), Art. 37') dataProtectionOfficer?: Contact | null
  @Text(10000, 'Free-text notes, e.g. inconsistencies found in the privacy notice') notes?: string | null
}

export class DataProcessingAgreement {
  @DateOnly('Date the data processing agreement was signed') signedAt?: string | null
  @Text(200, 'Reference of the agreement', { example: 'DPA-2024-07' }) reference?: string | null
  @Url('Link to the agreement') url?: string | null
}

export class ProcessorWrite {
  @Name('Name of the processor (personuppgiftsbiträde)', 'Klarna Bank AB') name!: string
  @Text(50, 'Organisation number', { example: '556737-0431' }) organisationNumber?: string | null
  @Country('Country of establishment') country?: string | null
  @Text(500, 'Postal address') address?: string | null
  @Email('Contact e-mail address') email?: string | null
  @Phone('Contact telephone number') phone?: string | null
  @Website('Website') website?: string | null
  @Nested(() => Contact, 'Contact person or function at the processor') contact?: Contact | null
  @Nested(() => Contact, 'Representative in the Union (Art. 27)') representative?: Contact | null
  @Nested(() => Contact, 'Data protection officer') dataProtectionOfficer?: Contact | null
  @Text(1000, 'The service provided', { example: 'Payment and invoicing' }) service?: string | null
  @Nested(() => DataProcessingAgreement, 'The data processing agreement (Art. 28(3)); null when there is none') dataProcessingAgreement?: DataProcessingAgreement | null
  @Ids('Sub-processors engaged by this processor (ids of other processors)', { to: 'processor', as: 'subProcessors' }) subProcessorIds?: string[] | null
  @Text(10000, 'Free-text notes') notes?: string | null
}

export class PurposeWrite {
  @Name('Name of the purpose (ändamål)', 'Fulfil the purchase agreement') name!: string
  @Text(10000, 'Description') description?: string | null
}

export class LegalBasisWrite {
  @Matches(/^[A-Z][A-Za-z0-9]*(-[A-Za-z0-9]+)*$/, { message: '$property must be a code such as SE-LAW-3-1 (letters, digits, hyphens)' })
  @Text(64, 'Stable code', { required: true, example: 'SE-LSO-5-1' })
  code!: string

  @OneOf(LEGAL_BASIS_KINDS, 'Kind: an Art. 6 basis, an Art. 9 condition, Art. 10 or national law', true) kind!: string
  @Text(200, 'Article or statute reference', { required: true, example: 'Lag (2003:460) 5 kap. 1 §' }) articleReference!: string
  @Text(300, 'Name in English', { required: true }) name!: string
  @Text(300, 'Name in Swedish') nameSv?: string | null
  @Text(10000, 'Description') description?: string | null
  @Url('Link to the text') url?: string | null
}

export class DataSubjectCategoryWrite {
  @Name('Name of the category of data subjects (kategori av registrerade)', 'Customers') name!: string
  @Text(10000, 'Description') description?: string | null
  @Flag('Vulnerable data subjects: children, employees, patients, the elderly, asylum seekers, anyone in an unequal relationship with the controller (WP248 criterion 7). null: not yet answered') vulnerable?: boolean | null
}

export class DataCategoryWrite {
  @Name('Name of the category of personal data (kategori av personuppgifter)', 'Personal identity number') name!: string
  @Text(10000, 'Description') description?: string | null
  @OneOf(DATA_CLASSIFICATIONS, 'ordinary; special (Art. 9); criminal (Art. 10); national-id (personnummer)', true) classification!: string
  @When((o) => o.classification === 'special' || (o.specialCategory !== undefined && o.specialCategory !== null))
  @OneOf(SPECIAL_CATEGORIES, 'Which Art. 9(1) category; required when classification is special, otherwise absent', true)
  specialCategory?: string | null

  @Flag('Highly personal data beside Art. 9 and 10: location, financial data, communications content, personal documents (WP248 criterion 4). null: not yet answered') highlyPersonal?: boolean | null
}

export class RecipientWrite {
  @Name('Name of the category of recipients (mottagare)', 'Event organisers') name!: string
  @Text(10000, 'Description') description?: string | null
  @Country('Country, where the recipient sits in one') country?: string | null
}

export class RetentionRuleWrite {
  @Name('Name of the rule', 'Customer data') name!: string
  @Duration('ISO 8601 duration; null means no fixed time limit') period?: string | null
  @Text(500, 'The event the period runs from', { example: 'after the last visit' }) trigger?: string | null
  @Text(500, 'The law or reason behind the period', { example: 'Bokföringslagen (1999:1078) 7 kap. 2 §' }) legalReference?: string | null
  @Text(10000, 'Description, e.g. the policy\'s own words') description?: string | null
}

export class SecurityMeasureWrite {
  @Name('Name of the measure', 'Role-based access control') name!: string
  @Text(10000, 'Description') description?: string | null
  @OneOf(SECURITY_MEASURE_TYPES, 'technical or organisational', true) type!: string
  @OneOf(SECURITY_MEASURE_CATEGORIES, 'Category', true) category!: string
}

export class ActivityPurposeWrite {
  @Id('Id of the purpose', { to: 'purpose', as: 'purpose' }) purposeId!: string
  @LegalBasisRefs('Legal bases for this purpose (Art. 6, and Art. 9/10 conditions or national law)') legalBasisIds?: string[] | null
  @Text(10000, 'The legitimate interest pursued, when Art. 6(1)(f) applies') legitimateInterest?: string | null
  @Text(500, 'Reference to the legitimate interests assessment (LIA)') liaReference?: string | null
  @Text(2000, 'How the data subject withdraws consent (Art. 7(3)), when the purpose rests on consent') consentWithdrawal?: string | null
  @OneOf(PROVISION_REQUIREMENTS, 'Art. 13(2)(e): providing the data is a statutory requirement, a contractual requirement, required to enter into a contract, or voluntary') provisionRequirement?: string | null
  @Text(2000, 'Art. 13(2)(e): the consequences of not providing the data', { example: 'Utan personnummer kan vi inte erbjuda delbetalning.' }) provisionConsequences?: string | null
}

export class TransferWrite {
  @Country('Third country, ISO 3166-1 alpha-2; give either country or internationalOrganisation') country?: string | null
  @Text(200, 'International organisation (Art. 4(26)) the data go to, instead of a country', { example: 'World Health Organization (WHO)' }) internationalOrganisation?: string | null
  @Id('The recipient receiving the data there', { to: 'recipient', as: 'recipient' }, false) recipientId?: string | null
  @Id('The processor receiving the data there', { to: 'processor', as: 'processor' }, false) processorId?: string | null
  @OneOf(TRANSFER_MECHANISM_CODES, 'Transfer mechanism (Chapter V): A45-3 adequacy, A46-2-c standard contractual clauses, A49-1-a explicit consent, …') mechanism?: string | null
  @Text(10000, 'Safeguards') safeguards?: string | null
  @Text(10000, 'Documentation of the safeguards (required for Art. 49(1) second subparagraph)') documentation?: string | null
}

export class RetentionWrite {
  @Id('Id of the retention rule', { to: 'retention-rule', as: 'retentionRule' }) retentionRuleId!: string
  @Ids('The data categories of this activity that the rule applies to; absent or empty: the activity as a whole', { to: 'data-category', as: 'dataCategories', within: 'dataCategoryIds' }) dataCategoryIds?: string[] | null
}

export class Dpia {
  @Flag('Is a data protection impact assessment required (Art. 35)? null: not decided. The screening (GET …/dpia-screening) informs the decision; people take it') required?: boolean | null
  @OneOf(DPIA_STATUSES, 'Progress of the DPIA') status?: string | null
  @Text(500, 'Reference or link to the DPIA') reference?: string | null
  @Text(10000, 'Why the decision is what it is; required when deciding required: false against a screening of "required"', { example: 'Internal newsletter to 40 staff; no monitoring; assessed 2026-11-02' }) justification?: string | null
  @Text(10000, 'The data protection officer\'s advice (Art. 35(2))') dpoAdvice?: string | null
  @Text(200, 'Who decided', { example: 'Anna Andersson, DPO' }) decidedBy?: string | null
  @DateOnly('When it was decided') decidedAt?: string | null
}

/**
 * The facts of an activity a DPIA screening reads (WP248 rev.01 criteria; Art. 35(3)), each
 * true, false, or null (not yet answered: the screening then cannot say "not required").
 */
export class RiskFactors {
  @Flag('Evaluation or scoring, profiling and predicting included (WP248 criterion 1)') evaluationOrScoring?: boolean | null
  @Flag('Automated decision-making with legal or similarly significant effect (WP248 criterion 2; Art. 35(3)(a))') automatedDecisionWithLegalEffect?: boolean | null
  @Flag('Systematic monitoring of data subjects (WP248 criterion 3)') systematicMonitoring?: boolean | null
  @Flag('The monitoring covers a publicly accessible area (Art. 35(3)(c))') publiclyAccessibleArea?: boolean | null
  @Flag('Processing on a large scale: number of people, volume, duration, geographical extent (WP248 criterion 5)') largeScale?: boolean | null
  @Flag('Matching or combining datasets beyond what data subjects would expect (WP248 criterion 6)') matchingDatasets?: boolean | null
  @Flag('Innovative use or new technological solutions: biometrics, IoT, AI (WP248 criterion 8)') innovativeTechnology?: boolean | null
  @Flag('The processing prevents data subjects from exercising a right or using a service or contract (WP248 criterion 9)') preventsRightOrService?: boolean | null
}

export class ProcessingActivityWrite {
  @Name('Name of the processing activity (behandling)', 'Sale of gift experiences') name!: string
  @Text(10000, 'Description') description?: string | null
  @OneOf(ACTIVITY_ROLES, 'controller: an Art. 30(1) record; processor: an Art. 30(2) record for client controllers', true) role!: string
  @OneOf(ACTIVITY_STATUSES, 'draft, active or retired; default draft') status?: string | null
  @Id('The controller keeping this record (for a processor record: the organisation itself)', { to: 'controller', as: 'controller' }) controllerId!: string
  @Ids('Joint controllers (Art. 26)', { to: 'controller', as: 'jointControllers' }) jointControllerIds?: string[] | null
  @Ids('For a processor record: the controllers on whose behalf the processing is carried out', { to: 'controller', as: 'onBehalfOfControllers' }) onBehalfOfControllerIds?: string[] | null
  @Nested(() => ActivityPurposeWrite, 'Purposes, each with its legal bases', { each: true }) purposes?: ActivityPurposeWrite[] | null
  @Ids('Categories of data subjects', { to: 'data-subject-category', as: 'dataSubjectCategories' }) dataSubjectCategoryIds?: string[] | null
  @Ids('Categories of personal data', { to: 'data-category', as: 'dataCategories' }) dataCategoryIds?: string[] | null
  @Text(10000, 'Why personal identity numbers are needed (dataskyddslagen 3 kap. 10 §), when the activity holds them') nationalIdJustification?: string | null
  @Ids('Categories of recipients', { to: 'recipient', as: 'recipients' }) recipientIds?: string[] | null
  @Ids('Processors engaged', { to: 'processor', as: 'processors' }) processorIds?: string[] | null
  @Nested(() => TransferWrite, 'Transfers to third countries or international organisations', { each: true }) transfers?: TransferWrite[] | null
  @Nested(() => RetentionWrite, 'Time limits for erasure: overall, or per data category', { each: true }) retention?: RetentionWrite[] | null
  @Ids('Technical and organisational security measures', { to: 'security-measure', as: 'securityMeasures' }) securityMeasureIds?: string[] | null
  @Strings(500, 'Where the data come from') dataSources?: string[] | null
  @Strings(200, 'Systems the processing runs in') systems?: string[] | null
  @Nested(() => RiskFactors, 'The facts a DPIA screening reads; null or a null fact: not yet answered') riskFactors?: RiskFactors | null
  @Count('About how many data subjects the activity concerns', 1200) dataSubjectsApprox?: number | null
  @Flag('An individual physician\'s, health professional\'s or lawyer\'s processing of their own patients\' or clients\' data (recital 91: not large scale)') individualProfessional?: boolean | null
  @Nested(() => Dpia, 'Data protection impact assessment: the people\'s decision') dpia?: Dpia | null
  @Flag('Automated decision-making, including profiling (Art. 22)') automatedDecisionMaking?: boolean | null
  @Text(10000, 'How automated decisions are made; required when automatedDecisionMaking is true') automatedDecisionMakingDescription?: string | null
  @Text(200, 'Responsible business function or contact', { example: 'Customer service' }) owner?: string | null
  @DateOnly('Date of the last review') lastReviewedAt?: string | null
  @DateOnly('Date the next review is due') nextReviewAt?: string | null
}

export class ReviewWrite {
  @DateOnly('When the next review is due; default: one year from today') nextReviewAt?: string | null
}

/** Proposing a version of the register: freezes it as it is now. */
export class VersionProposal {
  @Text(2000, 'Why this version, for whoever approves it', { example: 'Årlig genomgång 2026; nya kliniken i Östersund tillagd' }) note?: string | null
}

/** Approving a proposed version (an admin other than its proposer). */
export class VersionApproval {
  @Text(2000, 'The approver\'s note, e.g. the board decision it rests on', { example: 'Fastställd av styrelsen 2026-12-01, § 12' }) note?: string | null
}

/** Rejecting a proposed version. */
export class VersionRejection {
  @Text(2000, 'Why the version is not approved', { required: true, example: 'Lagringstiden för journaler saknas' }) reason!: string
}

/** Proposing a redaction: the exact values to erase from history and register versions, and why (never kept after). */
export class RedactionProposal {
  @IsArray() @ArrayMinSize(1) @ArrayMaxSize(50) @ArrayUnique({ message: '$property must not repeat a value' })
  @IsString({ each: true }) @MinLength(3, { each: true, message: 'each of $property must be at least 3 characters (a shorter value would erase parts of other words)' })
  @MaxLength(500, { each: true })
  @JSONSchema({ description: 'The exact values to erase wherever they occur (case and spelling as written): names, e-mail addresses, phone numbers, subjects', examples: [['anna.bergstrom@example.se', 'Anna Bergström']] })
  values!: string[]

  @Text(2000, 'Why, for the approver and the history (never the values themselves)', { required: true, example: 'Art. 17 request 2026-14' }) reason!: string
}

/** Rejecting a proposed redaction. */
export class RedactionRejection {
  @Text(2000, 'Why the redaction is not applied', { required: true, example: 'Not the person who asked; see ticket 2026-15' }) reason!: string
}
