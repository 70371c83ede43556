import { EntityTarget } from 'typeorm'
import type { Role } from '../../auth/principal'
import {
  ActivityDataCategory, ActivityDataSubjectCategory, ActivityJointController, ActivityOnBehalfOfController, ActivityProcessor,
  ActivityPurpose, ActivityPurposeLegalBasis, ActivityRecipient, ActivityRetention, ActivityRetentionDataCategory,
  ActivitySecurityMeasure, ActivityTransfer, Controller, DataCategory, DataSubjectCategory, LegalBasis, ProcessingActivity,
  Processor, ProcessorSubProcessor, Purpose, Recipient, RetentionRule, SecurityMeasure,
} from '../../../entities'
import {
  ControllerWrite, DataCategoryWrite, DataSubjectCategoryWrite, LegalBasisWrite, ProcessingActivityWrite, ProcessorWrite,
  PurposeWrite, RecipientWrite, RetentionRuleWrite, SecurityMeasureWrite,
} from '../../dto/register'
import { FieldError } from '../../errors'
import { TRANSFER_MECHANISMS } from './catalogue'
import { withLookupColumns } from '../wording/collation'

/**
 * The register's resources described once: tables, the lists they own, the references they make,
 * and how a stored row becomes the JSON a client reads (every reference resolved). Reads, writes,
 * routes and the OpenAPI document are all driven from these descriptions.
 */

export type RecordType =
  | 'controller' | 'processor' | 'purpose' | 'legal-basis' | 'data-subject-category' | 'data-category' | 'recipient'
  | 'retention-rule' | 'security-measure' | 'processing-activity'

type Row = Record<string, any>

/** A column holding the id of another record of the workspace. */
export interface RefColumn {
  column: string
  type: RecordType
}

/** A table of rows owned by a record (ordered by position, and by parentPosition for nested lists). */
export interface ChildTable {
  entity: EntityTarget<any>
  refs: RefColumn[]
  nested?: boolean
  /** Rows to store for a validated write body (without workspaceId and ownerId). */
  rows(body: Row): Row[]
}

/** A use of a reference in a write body, with the field path to blame when it does not exist. */
export interface RefUse {
  type: RecordType
  id: string
  field: string
}

export interface Resolver {
  ref(type: RecordType, id: string | null): Row | null
}

export interface FilterDef {
  /** Query parameter name. */
  param: string
  schema: Record<string, unknown>
  /** A column of the main table, or a child table whose column must match. */
  column?: string
  child?: { entity: EntityTarget<any>; column: string }
}

export interface ResourceDef {
  type: RecordType
  /** Path segment under /api/v1 */
  plural: string
  /** In words, for messages and summaries */
  title: string
  titlePlural: string
  tag: string
  entity: EntityTarget<any>
  writeClass: new () => object
  writeSchema: string
  viewSchema: string
  /** Role needed to create, change and delete. */
  writeRole: Role
  searchColumns: string[]
  sortFields: string[]
  filters: FilterDef[]
  refs: RefColumn[]
  children: ChildTable[]
  /** Columns of the main table for a validated write body. */
  columns(body: Row): Row
  /** Field paths and ids of every reference the body makes. */
  refUses(body: Row): RefUse[]
  /** Cross-field rules class-validator cannot express; `id` is the record's own id. */
  rules?(body: Row, id: string): FieldError[]
  /** Columns that must be unique within a workspace (409 naming the field). */
  unique?: string[]
  /** Column values set on create only. */
  insertDefaults?: Row
  /** Stored columns that no write body carries, read back from a view (to rebuild a row from history). */
  storedExtras?(view: Row): Row
  /** Refuses a change to an existing record (e.g. renaming a built-in catalogue entry). */
  guardReplace?(existing: Row, body: Row): FieldError[]
  /** Refuses deleting an existing record, with the reason. */
  guardDelete?(existing: Row): string | null
  /** The JSON a client reads. */
  view(row: Row, children: Map<EntityTarget<any>, Row[]>, resolve: Resolver): Row
  /** The write body equivalent to a view (what PATCH starts from). */
  toWrite(view: Row): Row
}

// ---------------------------------------------------------------------------------------------
// helpers

const META = ['id', 'createdAt', 'updatedAt', 'version'] as const

function meta(row: Row): Row {
  return { id: row.id, createdAt: row.createdAt, updatedAt: row.updatedAt, version: row.version }
}

const pick = (o: Row, keys: readonly string[]): Row => Object.fromEntries(keys.map((k) => [k, o[k] ?? null]))

function omitMeta(view: Row): Row {
  const out = { ...view }
  for (const k of META) delete out[k]
  return out
}

const CONTACT = ['name', 'email', 'phone', 'address'] as const

/** Embedded contact columns → a Contact, or null when nothing is recorded. */
function contact(embedded: Row | null | undefined): Row | null {
  if (!embedded || CONTACT.every((k) => embedded[k] === null || embedded[k] === undefined)) return null
  return pick(embedded, CONTACT)
}

const contactColumns = (c: Row | null | undefined): Row => pick(c ?? {}, CONTACT)

const ids = (v: unknown): string[] => (Array.isArray(v) ? (v as string[]) : [])
const list = <T>(v: T[] | null | undefined): T[] => v ?? []

function idRefs(body: Row, field: string, type: RecordType): RefUse[] {
  return ids(body[field]).map((id, i) => ({ type, id, field: `${field}[${i}]` }))
}

/** A simple ordered list of ids stored one row each. */
function idList(entity: EntityTarget<any>, field: string, column: string, type: RecordType): ChildTable {
  return {
    entity,
    refs: [{ column, type }],
    rows: (body) => ids(body[field]).map((id, position) => ({ position, [column]: id })),
  }
}

const byPosition = (rows: Row[] | undefined): Row[] => list(rows)

const uuidFilter = { type: 'string', format: 'uuid' }

// ---------------------------------------------------------------------------------------------
// summaries: what a resolved reference shows

export const SUMMARY_COLUMNS: Record<RecordType, string[]> = {
  controller: ['id', 'name', 'organisationNumber', 'country'],
  processor: ['id', 'name', 'organisationNumber', 'country'],
  purpose: ['id', 'name'],
  'legal-basis': ['id', 'code', 'kind', 'name', 'nameSv', 'articleReference'],
  'data-subject-category': ['id', 'name'],
  'data-category': ['id', 'name', 'classification', 'specialCategory'],
  recipient: ['id', 'name', 'country'],
  'retention-rule': ['id', 'name', 'period', 'trigger', 'legalReference'],
  'security-measure': ['id', 'name', 'type', 'category'],
  'processing-activity': ['id', 'name', 'role', 'status'],
}

export const ENTITY_OF: Record<RecordType, EntityTarget<any>> = {
  controller: Controller,
  processor: Processor,
  purpose: Purpose,
  'legal-basis': LegalBasis,
  'data-subject-category': DataSubjectCategory,
  'data-category': DataCategory,
  recipient: Recipient,
  'retention-rule': RetentionRule,
  'security-measure': SecurityMeasure,
  'processing-activity': ProcessingActivity,
}

// ---------------------------------------------------------------------------------------------
// resources

const named = {
  searchColumns: ['name', 'description'],
  sortFields: ['name', 'createdAt', 'updatedAt'],
  refs: [] as RefColumn[],
  children: [] as ChildTable[],
  refUses: (): RefUse[] => [],
}

function catalogueResource(
  type: RecordType, plural: string, title: string, titlePlural: string, tag: string, entity: EntityTarget<any>,
  writeClass: new () => object, fields: readonly string[], extra: Partial<ResourceDef> = {},
): ResourceDef {
  const writeSchema = writeClass.name
  return {
    ...named,
    type, plural, title, titlePlural, tag, entity, writeClass, writeSchema,
    viewSchema: writeSchema.replace(/Write$/, ''),
    writeRole: 'editor',
    filters: [],
    columns: (body) => pick(body, fields),
    view: (row) => ({ ...meta(row), ...pick(row, fields) }),
    toWrite: (view) => pick(view, fields),
    ...extra,
  }
}

export const controllers: ResourceDef = {
  ...named,
  type: 'controller', plural: 'controllers', title: 'controller', titlePlural: 'controllers', tag: 'Controllers',
  entity: Controller, writeClass: ControllerWrite, writeSchema: 'ControllerWrite', viewSchema: 'Controller', writeRole: 'editor',
  searchColumns: ['name', 'organisationNumber', 'address', 'email', 'representative.name', 'representative.email', 'representative.address', 'dataProtectionOfficer.name', 'dataProtectionOfficer.email', 'dataProtectionOfficer.address', 'notes'],
  filters: [{ param: 'country', column: 'country', schema: { type: 'string', pattern: '^[A-Z]{2}$' } }],
  columns: (b) => ({
    ...pick(b, ['name', 'organisationNumber', 'address', 'email', 'phone', 'country', 'website', 'notes']),
    representative: contactColumns(b.representative),
    dataProtectionOfficer: contactColumns(b.dataProtectionOfficer),
  }),
  view: (r) => ({
    ...meta(r),
    ...pick(r, ['name', 'organisationNumber', 'address', 'email', 'phone', 'country', 'website']),
    representative: contact(r.representative),
    dataProtectionOfficer: contact(r.dataProtectionOfficer),
    notes: r.notes ?? null,
  }),
  toWrite: omitMeta,
}

export const processors: ResourceDef = {
  ...named,
  type: 'processor', plural: 'processors', title: 'processor', titlePlural: 'processors', tag: 'Processors',
  entity: Processor, writeClass: ProcessorWrite, writeSchema: 'ProcessorWrite', viewSchema: 'Processor', writeRole: 'editor',
  searchColumns: ['name', 'organisationNumber', 'address', 'email', 'service', 'contact.name', 'contact.email', 'contact.address', 'representative.name', 'representative.email', 'representative.address', 'dataProtectionOfficer.name', 'dataProtectionOfficer.email', 'dataProtectionOfficer.address', 'notes'],
  filters: [
    { param: 'country', column: 'country', schema: { type: 'string', pattern: '^[A-Z]{2}$' } },
    { param: 'subProcessorId', child: { entity: ProcessorSubProcessor, column: 'subProcessorId' }, schema: uuidFilter },
  ],
  refs: [],
  children: [idList(ProcessorSubProcessor, 'subProcessorIds', 'subProcessorId', 'processor')],
  refUses: (b) => idRefs(b, 'subProcessorIds', 'processor'),
  columns: (b) => ({
    ...pick(b, ['name', 'organisationNumber', 'country', 'address', 'email', 'phone', 'website', 'service', 'notes']),
    contact: contactColumns(b.contact),
    representative: contactColumns(b.representative),
    dataProtectionOfficer: contactColumns(b.dataProtectionOfficer),
    dpaSignedAt: b.dataProcessingAgreement?.signedAt ?? null,
    dpaReference: b.dataProcessingAgreement?.reference ?? null,
    dpaUrl: b.dataProcessingAgreement?.url ?? null,
  }),
  view: (r, children, resolve) => ({
    ...meta(r),
    ...pick(r, ['name', 'organisationNumber', 'country', 'address', 'email', 'phone', 'website']),
    contact: contact(r.contact),
    representative: contact(r.representative),
    dataProtectionOfficer: contact(r.dataProtectionOfficer),
    service: r.service ?? null,
    dataProcessingAgreement: r.dpaSignedAt || r.dpaReference || r.dpaUrl
      ? { signedAt: r.dpaSignedAt ?? null, reference: r.dpaReference ?? null, url: r.dpaUrl ?? null }
      : null,
    subProcessors: byPosition(children.get(ProcessorSubProcessor)).map((c) => resolve.ref('processor', c.subProcessorId)),
    notes: r.notes ?? null,
  }),
  toWrite: (v) => {
    const { subProcessors, ...rest } = omitMeta(v)
    return { ...rest, subProcessorIds: list(subProcessors as Row[]).map((s) => s.id) }
  },
  rules: (b, self) => ids(b.subProcessorIds).flatMap((id, i) =>
    (id === self ? [{ field: `subProcessorIds[${i}]`, message: 'a processor cannot be its own sub-processor' }] : [])),
}

export const purposes = catalogueResource('purpose', 'purposes', 'purpose', 'purposes', 'Purposes', Purpose, PurposeWrite, ['name', 'description'])

/** What identifies a built-in legal basis: fixed, so that every register means the same by A6-1-b. */
const BUILT_IN_FIXED = ['code', 'kind', 'articleReference', 'name', 'nameSv', 'url']

export const legalBases = catalogueResource(
  'legal-basis', 'legal-bases', 'legal basis', 'legal bases', 'Legal bases', LegalBasis, LegalBasisWrite,
  ['code', 'kind', 'articleReference', 'name', 'nameSv', 'description', 'url'],
  {
    writeRole: 'admin',
    searchColumns: ['code', 'name', 'nameSv', 'articleReference', 'description'],
    sortFields: ['code', 'name', 'kind', 'createdAt', 'updatedAt'],
    filters: [
      { param: 'code', column: 'code', schema: { type: 'string', maxLength: 64 } },
      { param: 'kind', column: 'kind', schema: { type: 'string', enum: ['article-6', 'article-9', 'article-10', 'national-law'] } },
      { param: 'builtIn', column: 'builtIn', schema: { type: 'boolean' } },
    ],
    unique: ['code'],
    insertDefaults: { builtIn: false },
    storedExtras: (v) => ({ builtIn: v.builtIn }),
    guardReplace: (existing, b) => (existing.builtIn
      ? BUILT_IN_FIXED.filter((f) => (b[f] ?? null) !== (existing[f] ?? null))
        .map((field) => ({ field, message: `${field} of a built-in catalogue entry cannot be changed; only its description can` }))
      : []),
    guardDelete: (existing) => (existing.builtIn ? 'built-in catalogue entries cannot be deleted' : null),
    view: (r) => ({ ...meta(r), ...pick(r, ['code', 'kind', 'articleReference', 'name', 'nameSv', 'description', 'url']), builtIn: Boolean(r.builtIn) }),
  },
)

export const dataSubjectCategories = catalogueResource(
  'data-subject-category', 'data-subject-categories', 'data subject category', 'data subject categories', 'Data subject categories',
  DataSubjectCategory, DataSubjectCategoryWrite, ['name', 'description'],
)

export const dataCategories = catalogueResource(
  'data-category', 'data-categories', 'personal data category', 'personal data categories', 'Personal data categories',
  DataCategory, DataCategoryWrite, ['name', 'description', 'classification', 'specialCategory'],
  {
    filters: [
      { param: 'classification', column: 'classification', schema: { type: 'string', enum: ['ordinary', 'special', 'criminal', 'national-id'] } },
    ],
    sortFields: ['name', 'classification', 'createdAt', 'updatedAt'],
  },
)

export const recipients = catalogueResource(
  'recipient', 'recipients', 'recipient category', 'recipient categories', 'Recipients', Recipient, RecipientWrite, ['name', 'description', 'country'],
  { filters: [{ param: 'country', column: 'country', schema: { type: 'string', pattern: '^[A-Z]{2}$' } }] },
)

export const retentionRules = catalogueResource(
  'retention-rule', 'retention-rules', 'retention rule', 'retention rules', 'Retention rules', RetentionRule, RetentionRuleWrite,
  ['name', 'period', 'trigger', 'legalReference', 'description'],
  { searchColumns: ['name', 'trigger', 'legalReference', 'description'] },
)

export const securityMeasures = catalogueResource(
  'security-measure', 'security-measures', 'security measure', 'security measures', 'Security measures', SecurityMeasure,
  SecurityMeasureWrite, ['name', 'description', 'type', 'category'],
  {
    filters: [
      { param: 'type', column: 'type', schema: { type: 'string', enum: ['technical', 'organisational'] } },
      { param: 'category', column: 'category', schema: { type: 'string', maxLength: 40 } },
    ],
    sortFields: ['name', 'type', 'category', 'createdAt', 'updatedAt'],
  },
)

// --- processing activities -------------------------------------------------------------------

const ACTIVITY_LISTS = [
  { field: 'jointControllerIds', view: 'jointControllers', entity: ActivityJointController, column: 'controllerId', type: 'controller' },
  { field: 'onBehalfOfControllerIds', view: 'onBehalfOfControllers', entity: ActivityOnBehalfOfController, column: 'controllerId', type: 'controller' },
  { field: 'dataSubjectCategoryIds', view: 'dataSubjectCategories', entity: ActivityDataSubjectCategory, column: 'dataSubjectCategoryId', type: 'data-subject-category' },
  { field: 'dataCategoryIds', view: 'dataCategories', entity: ActivityDataCategory, column: 'dataCategoryId', type: 'data-category' },
  { field: 'recipientIds', view: 'recipients', entity: ActivityRecipient, column: 'recipientId', type: 'recipient' },
  { field: 'processorIds', view: 'processors', entity: ActivityProcessor, column: 'processorId', type: 'processor' },
  { field: 'securityMeasureIds', view: 'securityMeasures', entity: ActivitySecurityMeasure, column: 'securityMeasureId', type: 'security-measure' },
] as const

const SCALAR_ACTIVITY_FIELDS = ['name', 'description', 'role', 'status', 'owner', 'lastReviewedAt', 'nextReviewAt', 'nationalIdJustification'] as const

const purposeRows: ChildTable = {
  entity: ActivityPurpose,
  refs: [{ column: 'purposeId', type: 'purpose' }],
  rows: (b) => list(b.purposes as Row[]).map((p, position) => ({
    position, purposeId: p.purposeId, legitimateInterest: p.legitimateInterest ?? null, liaReference: p.liaReference ?? null,
    consentWithdrawal: p.consentWithdrawal ?? null,
  })),
}
const purposeLegalBasisRows: ChildTable = {
  entity: ActivityPurposeLegalBasis,
  refs: [{ column: 'legalBasisId', type: 'legal-basis' }],
  nested: true,
  rows: (b) => list(b.purposes as Row[]).flatMap((p, parentPosition) =>
    ids(p.legalBasisIds).map((legalBasisId, position) => ({ parentPosition, position, legalBasisId }))),
}
const transferRows: ChildTable = {
  entity: ActivityTransfer,
  refs: [{ column: 'recipientId', type: 'recipient' }, { column: 'processorId', type: 'processor' }],
  rows: (b) => list(b.transfers as Row[]).map((t, position) => ({
    position, country: t.country, recipientId: t.recipientId ?? null, processorId: t.processorId ?? null,
    mechanism: t.mechanism ?? null, safeguards: t.safeguards ?? null, documentation: t.documentation ?? null,
  })),
}
const retentionRows: ChildTable = {
  entity: ActivityRetention,
  refs: [{ column: 'retentionRuleId', type: 'retention-rule' }],
  rows: (b) => list(b.retention as Row[]).map((r, position) => ({ position, retentionRuleId: r.retentionRuleId })),
}
const retentionCategoryRows: ChildTable = {
  entity: ActivityRetentionDataCategory,
  refs: [{ column: 'dataCategoryId', type: 'data-category' }],
  nested: true,
  rows: (b) => list(b.retention as Row[]).flatMap((r, parentPosition) =>
    ids(r.dataCategoryIds).map((dataCategoryId, position) => ({ parentPosition, position, dataCategoryId }))),
}

function mechanism(code: string | null): Row | null {
  if (!code) return null
  return { code, name: TRANSFER_MECHANISMS[code]?.name ?? code, nameSv: TRANSFER_MECHANISMS[code]?.nameSv ?? code }
}

function activityRules(b: Row): FieldError[] {
  const errors: FieldError[] = []
  const onBehalf = ids(b.onBehalfOfControllerIds)
  if (b.role === 'processor' && onBehalf.length === 0) {
    errors.push({ field: 'onBehalfOfControllerIds', message: 'a processor record (role processor) names at least one controller it acts for' })
  }
  if (b.role === 'controller' && onBehalf.length > 0) {
    errors.push({ field: 'onBehalfOfControllerIds', message: 'only a processor record (role processor) acts on behalf of controllers' })
  }
  ids(b.jointControllerIds).forEach((id, i) => {
    if (id === b.controllerId) errors.push({ field: `jointControllerIds[${i}]`, message: 'the controller itself is not a joint controller of its own activity' })
  })
  const seen = new Map<string, number>()
  list(b.purposes as Row[]).forEach((p, i) => {
    if (seen.has(p.purposeId)) errors.push({ field: `purposes[${i}].purposeId`, message: `the purpose is already listed at purposes[${seen.get(p.purposeId)}]` })
    else seen.set(p.purposeId, i)
  })
  list(b.transfers as Row[]).forEach((t, i) => {
    if (t.recipientId && t.processorId) errors.push({ field: `transfers[${i}]`, message: 'a transfer goes to a recipient or to a processor, not both' })
  })
  const categories = new Set(ids(b.dataCategoryIds))
  list(b.retention as Row[]).forEach((r, i) => ids(r.dataCategoryIds).forEach((id, j) => {
    if (!categories.has(id)) errors.push({ field: `retention[${i}].dataCategoryIds[${j}]`, message: 'must be one of this activity\'s dataCategoryIds' })
  }))
  if (b.automatedDecisionMaking === true && !(typeof b.automatedDecisionMakingDescription === 'string' && b.automatedDecisionMakingDescription.trim())) {
    errors.push({ field: 'automatedDecisionMakingDescription', message: 'describe the automated decision-making when automatedDecisionMaking is true' })
  }
  return errors
}

export const processingActivities: ResourceDef = {
  type: 'processing-activity', plural: 'processing-activities', title: 'processing activity', titlePlural: 'processing activities',
  tag: 'Processing activities', entity: ProcessingActivity, writeClass: ProcessingActivityWrite,
  writeSchema: 'ProcessingActivityWrite', viewSchema: 'ProcessingActivity', writeRole: 'editor',
  searchColumns: ['name', 'description', 'owner'],
  sortFields: ['name', 'status', 'role', 'nextReviewAt', 'lastReviewedAt', 'createdAt', 'updatedAt'],
  filters: [
    { param: 'controllerId', column: 'controllerId', schema: uuidFilter },
    { param: 'role', column: 'role', schema: { type: 'string', enum: ['controller', 'processor'] } },
    { param: 'status', column: 'status', schema: { type: 'string', enum: ['draft', 'active', 'retired'] } },
    { param: 'jointControllerId', child: { entity: ActivityJointController, column: 'controllerId' }, schema: uuidFilter },
    { param: 'onBehalfOfControllerId', child: { entity: ActivityOnBehalfOfController, column: 'controllerId' }, schema: uuidFilter },
    { param: 'purposeId', child: { entity: ActivityPurpose, column: 'purposeId' }, schema: uuidFilter },
    { param: 'legalBasisId', child: { entity: ActivityPurposeLegalBasis, column: 'legalBasisId' }, schema: uuidFilter },
    { param: 'dataSubjectCategoryId', child: { entity: ActivityDataSubjectCategory, column: 'dataSubjectCategoryId' }, schema: uuidFilter },
    { param: 'dataCategoryId', child: { entity: ActivityDataCategory, column: 'dataCategoryId' }, schema: uuidFilter },
    { param: 'recipientId', child: { entity: ActivityRecipient, column: 'recipientId' }, schema: uuidFilter },
    { param: 'processorId', child: { entity: ActivityProcessor, column: 'processorId' }, schema: uuidFilter },
    { param: 'retentionRuleId', child: { entity: ActivityRetention, column: 'retentionRuleId' }, schema: uuidFilter },
    { param: 'securityMeasureId', child: { entity: ActivitySecurityMeasure, column: 'securityMeasureId' }, schema: uuidFilter },
    { param: 'transferCountry', child: { entity: ActivityTransfer, column: 'country' }, schema: { type: 'string', pattern: '^[A-Z]{2}$' } },
  ],
  refs: [{ column: 'controllerId', type: 'controller' }],
  children: [
    ...ACTIVITY_LISTS.map((l) => idList(l.entity, l.field, l.column, l.type)),
    purposeRows, purposeLegalBasisRows, transferRows, retentionRows, retentionCategoryRows,
  ],
  refUses: (b) => [
    { type: 'controller', id: b.controllerId, field: 'controllerId' },
    ...ACTIVITY_LISTS.flatMap((l) => idRefs(b, l.field, l.type)),
    ...list(b.purposes as Row[]).flatMap((p, i) => [
      { type: 'purpose' as const, id: p.purposeId, field: `purposes[${i}].purposeId` },
      ...ids(p.legalBasisIds).map((id, j) => ({ type: 'legal-basis' as const, id, field: `purposes[${i}].legalBasisIds[${j}]` })),
    ]),
    ...list(b.transfers as Row[]).flatMap((t, i) => [
      ...(t.recipientId ? [{ type: 'recipient' as const, id: t.recipientId, field: `transfers[${i}].recipientId` }] : []),
      ...(t.processorId ? [{ type: 'processor' as const, id: t.processorId, field: `transfers[${i}].processorId` }] : []),
    ]),
    ...list(b.retention as Row[]).map((r, i) => ({ type: 'retention-rule' as const, id: r.retentionRuleId, field: `retention[${i}].retentionRuleId` })),
  ],
  rules: activityRules,
  storedExtras: (v) => ({ lastReviewedBy: v.lastReviewedBy ?? null }),
  columns: (b) => ({
    ...pick(b, SCALAR_ACTIVITY_FIELDS),
    status: b.status ?? 'draft',
    controllerId: b.controllerId,
    dataSources: list(b.dataSources),
    systems: list(b.systems),
    dpiaRequired: b.dpia?.required ?? null,
    dpiaStatus: b.dpia?.status ?? null,
    dpiaReference: b.dpia?.reference ?? null,
    automatedDecisionMaking: b.automatedDecisionMaking ?? false,
    automatedDecisionMakingDescription: b.automatedDecisionMakingDescription ?? null,
  }),
  view: (r, children, resolve) => {
    const legalBases = byPosition(children.get(ActivityPurposeLegalBasis))
    const retentionCategories = byPosition(children.get(ActivityRetentionDataCategory))
    const lists = Object.fromEntries(ACTIVITY_LISTS.map((l) => [
      l.view, byPosition(children.get(l.entity)).map((c) => resolve.ref(l.type, c[l.column])),
    ]))
    return {
      ...meta(r),
      name: r.name,
      description: r.description ?? null,
      role: r.role,
      status: r.status,
      controller: resolve.ref('controller', r.controllerId),
      jointControllers: lists.jointControllers,
      onBehalfOfControllers: lists.onBehalfOfControllers,
      purposes: byPosition(children.get(ActivityPurpose)).map((p) => ({
        purpose: resolve.ref('purpose', p.purposeId),
        legalBases: legalBases.filter((l) => l.parentPosition === p.position).map((l) => resolve.ref('legal-basis', l.legalBasisId)),
        legitimateInterest: p.legitimateInterest ?? null,
        liaReference: p.liaReference ?? null,
        consentWithdrawal: p.consentWithdrawal ?? null,
      })),
      dataSubjectCategories: lists.dataSubjectCategories,
      dataCategories: lists.dataCategories,
      nationalIdJustification: r.nationalIdJustification ?? null,
      recipients: lists.recipients,
      processors: lists.processors,
      transfers: byPosition(children.get(ActivityTransfer)).map((t) => ({
        country: t.country,
        recipient: resolve.ref('recipient', t.recipientId),
        processor: resolve.ref('processor', t.processorId),
        mechanism: mechanism(t.mechanism),
        safeguards: t.safeguards ?? null,
        documentation: t.documentation ?? null,
      })),
      retention: byPosition(children.get(ActivityRetention)).map((x) => ({
        retentionRule: resolve.ref('retention-rule', x.retentionRuleId),
        dataCategories: retentionCategories.filter((c) => c.parentPosition === x.position).map((c) => resolve.ref('data-category', c.dataCategoryId)),
      })),
      securityMeasures: lists.securityMeasures,
      dataSources: list(r.dataSources),
      systems: list(r.systems),
      dpia: r.dpiaRequired === null && r.dpiaStatus === null && r.dpiaReference === null
        ? null
        : { required: r.dpiaRequired ?? null, status: r.dpiaStatus ?? null, reference: r.dpiaReference ?? null },
      automatedDecisionMaking: Boolean(r.automatedDecisionMaking),
      automatedDecisionMakingDescription: r.automatedDecisionMakingDescription ?? null,
      owner: r.owner ?? null,
      lastReviewedAt: r.lastReviewedAt ?? null,
      lastReviewedBy: r.lastReviewedBy ?? null,
      nextReviewAt: r.nextReviewAt ?? null,
    }
  },
  toWrite: (v) => ({
    ...pick(v, ['name', 'description', 'role', 'status', 'owner', 'lastReviewedAt', 'nextReviewAt', 'dataSources', 'systems', 'dpia', 'automatedDecisionMaking', 'automatedDecisionMakingDescription', 'nationalIdJustification']),
    controllerId: v.controller?.id,
    ...Object.fromEntries(ACTIVITY_LISTS.map((l) => [l.field, list(v[l.view] as Row[]).map((x) => x.id)])),
    purposes: list(v.purposes as Row[]).map((p) => ({
      purposeId: p.purpose.id, legalBasisIds: list(p.legalBases as Row[]).map((l) => l.id),
      legitimateInterest: p.legitimateInterest, liaReference: p.liaReference, consentWithdrawal: p.consentWithdrawal,
    })),
    transfers: list(v.transfers as Row[]).map((t) => ({
      country: t.country, recipientId: t.recipient?.id ?? null, processorId: t.processor?.id ?? null,
      mechanism: t.mechanism?.code ?? null, safeguards: t.safeguards, documentation: t.documentation,
    })),
    retention: list(v.retention as Row[]).map((x) => ({
      retentionRuleId: x.retentionRule.id, dataCategoryIds: list(x.dataCategories as Row[]).map((c) => c.id),
    })),
  }),
}

export const RESOURCES: ResourceDef[] = [
  controllers, processors, purposes, legalBases, dataSubjectCategories, dataCategories, recipients, retentionRules,
  securityMeasures, processingActivities,
]

/**
 * Every write stores, with the row, what list searches and name sorts compare (searchText,
 * sortKey: src/register/wording/collation.ts), from the columns the write sets: so each write path
 * (store, storeMany, history's rebuilds) keeps them in step with the record, in its transaction.
 */
for (const def of RESOURCES) {
  const columnsOfBody = def.columns
  def.columns = (body) => withLookupColumns(def.searchColumns, columnsOfBody(body))
}

export const RESOURCE_OF = Object.fromEntries(RESOURCES.map((r) => [r.type, r])) as Record<RecordType, ResourceDef>

/**
 * Where each kind of record can be referenced from: the table, its column, and which record owns
 * the referencing row (the row itself, or the owner of a child row).
 */
export interface ReferencedFrom {
  entity: EntityTarget<any>
  column: string
  ownerType: RecordType
  /** 'id' when the referencing row is a record; 'ownerId' when it is a child row. */
  ownerColumn: 'id' | 'ownerId'
}

export function referencedFrom(type: RecordType): ReferencedFrom[] {
  const out: ReferencedFrom[] = []
  for (const r of RESOURCES) {
    for (const ref of r.refs) if (ref.type === type) out.push({ entity: r.entity, column: ref.column, ownerType: r.type, ownerColumn: 'id' })
    for (const c of r.children) {
      for (const ref of c.refs) if (ref.type === type) out.push({ entity: c.entity, column: ref.column, ownerType: r.type, ownerColumn: 'ownerId' })
    }
  }
  return out
}
