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
import { FieldShape, RecordType, referencesIn, shapeOf } from '../../dto/shape'
import { JsonSchema, nullable } from '../../schemas/json-schema'
import { DPIA_SCREENING_SUMMARY_SCHEMA, dpiaScreeningOf, screenActivity } from './dpia-screening'

/**
 * The register's resources described once: tables, the lists they own, the references they make,
 * and how a stored row becomes the JSON a client reads (every reference resolved). Reads, writes,
 * routes and the OpenAPI document are all driven from these descriptions.
 */

/**
 * A stored row or a view of any resource, as the generic machinery (reads, writes, history,
 * import) handles it, whatever its kind. Code that reads one kind of view uses its type from
 * src/generated/view-types (generated from the view schemas).
 */
export type Row = Record<string, any>

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
  /** How its fields are stored where not plainly (src/dto/shape.ts has the rest). */
  storage: Storage
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
  /** Stored columns computed from the view (written wherever the view is stored): what a filter reads. */
  viewColumns?(view: Row): Row
  /** Rules over the resolved view a write is about to store (they see the records it refers to); `existing`: the stored row it replaces. */
  viewRules?(view: Row, existing: Row | null): FieldError[]
  /** The JSON a client reads. */
  view(row: Row, children: Map<EntityTarget<any>, Row[]>, resolve: Resolver): Row
  /** The write body equivalent to a view (what PATCH starts from). */
  toWrite(view: Row): Row
}

// ---------------------------------------------------------------------------------------------
// the stored form of a shape

const META = ['id', 'createdAt', 'updatedAt', 'version'] as const

function meta(row: Row): Row {
  return { id: row.id, createdAt: row.createdAt, updatedAt: row.updatedAt, version: row.version }
}

const pick = (o: Row, keys: readonly string[]): Row => Object.fromEntries(keys.map((k) => [k, o[k] ?? null]))

const ids = (v: unknown): string[] => (Array.isArray(v) ? (v as string[]) : [])
const list = <T>(v: T[] | null | undefined): T[] => v ?? []
const capitalised = (s: string): string => s[0].toUpperCase() + s.slice(1)

/** A list of ids stored one row each, in the column named. */
export interface ListTable {
  entity: EntityTarget<any>
  column: string
}

/** A value shown otherwise than it is stored: a transfer mechanism's code → the mechanism, named. */
export interface Shown {
  view(stored: any): unknown
  toWrite(shown: any): unknown
  /** The view's schema for it, by the names of the shared schemas. */
  schema: JsonSchema
  /** Shared schemas it refers to. */
  components?: JsonSchema[]
}

/** A list of nested objects stored one row each (by position); their own id lists by parentPosition. */
export interface RowsTable {
  entity: EntityTarget<any>
  /** What one of them is, for the view's schema. */
  description: string
  lists?: Record<string, ListTable>
  shown?: Record<string, Shown>
}

/** A field the view shows that no write carries (who reviewed last; a built-in entry's mark). */
export interface ViewExtra {
  name: string
  /** The field it follows in the view; none: last. */
  after?: string
  view(row: Row): unknown
  schema: JsonSchema
}

/**
 * A field the view shows that is computed from the rest of the view (a screening): never written,
 * recomputed wherever the view is built; optionally kept in a column of its own for filters.
 */
export interface DerivedField {
  name: string
  view(view: Row): unknown
  schema: JsonSchema
  components?: JsonSchema[]
  /** The column it is kept in, and its value there. */
  column?: { name: string; value(derived: any): unknown }
}

/**
 * How a request class's fields are stored, where they are not stored plainly (a value in its
 * column, a Contact embedded): everything else about a resource's fields comes from its
 * declaration in src/dto/register.ts (src/dto/shape.ts).
 */
export interface Storage {
  /** Lists of ids: the table of each. */
  lists?: Record<string, ListTable>
  /** Lists of nested objects: the table of each. */
  rows?: Record<string, RowsTable>
  /** Nested objects stored flat under a column prefix (dataProcessingAgreement.signedAt → dpaSignedAt). */
  flat?: Record<string, string>
  /** The value stored when a write leaves a field out: the view never shows it null. */
  defaults?: Record<string, unknown>
  extras?: ViewExtra[]
  /** Fields computed from the view, after every other field. */
  derived?: DerivedField[]
}

/** A field's name in the view: a reference shows as the record it names. */
export const viewName = (f: FieldShape): string => f.as ?? f.name

const nestedNames = (f: FieldShape): string[] => shapeOf(f.nested!()).map((n) => n.name)

/** Columns of the main table for a validated write body. */
function storedColumns(cls: Function, storage: Storage, body: Row): Row {
  const out: Row = {}
  for (const f of shapeOf(cls)) {
    if (storage.lists?.[f.name] || storage.rows?.[f.name]) continue
    const value = body[f.name]
    if (f.kind === 'strings') out[f.name] = list(value)
    else if (f.kind === 'nested') {
      const prefix = storage.flat?.[f.name]
      if (prefix) for (const n of nestedNames(f)) out[prefix + capitalised(n)] = value?.[n] ?? null
      else out[f.name] = pick(value ?? {}, nestedNames(f))
    } else if (f.kind === 'refs') throw new Error(`${cls.name}.${f.name}: a list of ids needs a table (Storage.lists)`)
    else out[f.name] = value ?? storage.defaults?.[f.name] ?? null
  }
  return out
}

/** A nested object stored as columns: null when nothing of it is recorded. */
function nestedView(names: string[], column: (n: string) => unknown): Row | null {
  const values = names.map(column)
  if (values.every((v) => v === null || v === undefined)) return null
  return Object.fromEntries(names.map((n, i) => [n, values[i] ?? null]))
}

const resolvedList = (rows: Row[] | undefined, table: ListTable, type: RecordType, resolve: Resolver): (Row | null)[] =>
  list(rows).map((c) => resolve.ref(type, c[table.column]))

function storedView(cls: Function, storage: Storage, r: Row, children: Map<EntityTarget<any>, Row[]>, resolve: Resolver): Row {
  const out = meta(r)
  const extrasAfter = (name: string): void => {
    for (const x of storage.extras ?? []) if (x.after === name) out[x.name] = x.view(r)
  }
  for (const f of shapeOf(cls)) {
    const name = viewName(f)
    const table = storage.lists?.[f.name]
    const rows = storage.rows?.[f.name]
    if (table) out[name] = resolvedList(children.get(table.entity), table, f.to!, resolve)
    else if (rows) out[name] = list(children.get(rows.entity)).map((row) => itemView(f.nested!(), rows, row, children, resolve))
    else if (f.kind === 'ref') out[name] = resolve.ref(f.to!, r[f.name])
    else if (f.kind === 'flag') out[name] = r[f.name] === null || r[f.name] === undefined ? null : Boolean(r[f.name])
    else if (f.kind === 'strings') out[name] = list(r[f.name])
    else if (f.kind === 'nested') {
      const prefix = storage.flat?.[f.name]
      out[name] = prefix ? nestedView(nestedNames(f), (n) => r[prefix + capitalised(n)]) : nestedView(nestedNames(f), (n) => r[f.name]?.[n])
    } else out[name] = r[f.name] ?? null
    extrasAfter(f.name)
  }
  for (const x of storage.extras ?? []) if (!x.after) out[x.name] = x.view(r)
  for (const d of storage.derived ?? []) out[d.name] = d.view(out)
  return out
}

/** One nested object of a list (a purpose of an activity), from its row and its own lists' rows. */
function itemView(cls: Function, table: RowsTable, row: Row, children: Map<EntityTarget<any>, Row[]>, resolve: Resolver): Row {
  const out: Row = {}
  for (const f of shapeOf(cls)) {
    const name = viewName(f)
    const own = table.lists?.[f.name]
    if (own) out[name] = resolvedList(list(children.get(own.entity)).filter((c) => c.parentPosition === row.position), own, f.to!, resolve)
    else if (f.kind === 'ref') out[name] = resolve.ref(f.to!, row[f.name])
    else if (table.shown?.[f.name]) out[name] = table.shown[f.name].view(row[f.name])
    else out[name] = row[f.name] ?? null
  }
  return out
}

/** The write body equivalent to a view (what PATCH starts from). */
function writeOfView(cls: Function, storage: Storage | RowsTable, v: Row): Row {
  const out: Row = {}
  for (const f of shapeOf(cls)) {
    const shown = v[viewName(f)]
    const rows = (storage as Storage).rows?.[f.name]
    if (f.kind === 'refs') out[f.name] = list(shown as Row[]).map((x) => x.id)
    else if (f.kind === 'ref') out[f.name] = shown?.id ?? null
    else if (rows) out[f.name] = list(shown as Row[]).map((item) => writeOfView(f.nested!(), rows, item))
    else if ((storage as RowsTable).shown?.[f.name]) out[f.name] = (storage as RowsTable).shown![f.name].toWrite(shown)
    else out[f.name] = shown
  }
  return out
}

/** The tables of rows a record owns, for a validated write body. */
function ownedTables(cls: Function, storage: Storage): ChildTable[] {
  const out: ChildTable[] = []
  for (const f of shapeOf(cls)) {
    const table = storage.lists?.[f.name]
    const rows = storage.rows?.[f.name]
    if (table) {
      out.push({
        entity: table.entity,
        refs: [{ column: table.column, type: f.to! }],
        rows: (body) => ids(body[f.name]).map((id, position) => ({ position, [table.column]: id })),
      })
    } else if (rows) {
      const fields = shapeOf(f.nested!())
      const stored = fields.filter((g) => !rows.lists?.[g.name]).map((g) => g.name)
      out.push({
        entity: rows.entity,
        refs: fields.filter((g) => g.kind === 'ref').map((g) => ({ column: g.name, type: g.to! })),
        rows: (body) => list(body[f.name] as Row[]).map((item, position) => ({ position, ...pick(item, stored) })),
      })
      for (const g of fields) {
        const own = rows.lists?.[g.name]
        if (!own) continue
        out.push({
          entity: own.entity,
          refs: [{ column: own.column, type: g.to! }],
          nested: true,
          rows: (body) => list(body[f.name] as Row[]).flatMap((item, parentPosition) =>
            ids(item[g.name]).map((id, position) => ({ parentPosition, position, [own.column]: id }))),
        })
      }
    }
  }
  return out
}

/** What a resource's declaration and its storage give: everything but its routes and rules. */
function shaped(writeClass: new () => object, storage: Storage = {}): Pick<ResourceDef, 'writeClass' | 'storage' | 'refs' | 'children' | 'columns' | 'refUses' | 'view' | 'toWrite' | 'viewColumns'> {
  const kept = (storage.derived ?? []).filter((d) => d.column)
  return {
    ...(kept.length ? { viewColumns: (view: Row) => Object.fromEntries(kept.map((d) => [d.column!.name, d.column!.value(view[d.name])])) } : {}),
    writeClass,
    storage,
    refs: shapeOf(writeClass).filter((f) => f.kind === 'ref').map((f) => ({ column: f.name, type: f.to! })),
    children: ownedTables(writeClass, storage),
    columns: (body) => storedColumns(writeClass, storage, body),
    refUses: (body) => referencesIn(writeClass, body),
    view: (row, children, resolve) => storedView(writeClass, storage, row, children, resolve),
    toWrite: (view) => writeOfView(writeClass, storage, view),
  }
}

/**
 * Where each field name of a write body sits in a view, over every request class of the
 * register (`processorIds` → `processors`): the import names a document's offending field by it.
 */
export function viewNames(): Map<string, FieldShape> {
  const out = new Map<string, FieldShape>()
  const visit = (cls: Function): void => {
    for (const f of shapeOf(cls)) {
      if (f.as && !out.has(f.name)) out.set(f.name, f)
      if (f.kind === 'nested') visit(f.nested!())
    }
  }
  for (const r of RESOURCES) visit(r.writeClass)
  return out
}

const uuidFilter = { type: 'string', format: 'uuid' }

// ---------------------------------------------------------------------------------------------
// summaries: what a resolved reference shows

export const SUMMARY_COLUMNS: Record<RecordType, string[]> = {
  controller: ['id', 'name', 'organisationNumber', 'country'],
  processor: ['id', 'name', 'organisationNumber', 'country'],
  purpose: ['id', 'name'],
  'legal-basis': ['id', 'code', 'kind', 'name', 'nameSv', 'articleReference'],
  // vulnerable and highlyPersonal: the DPIA screening of the activities that show them reads them
  'data-subject-category': ['id', 'name', 'vulnerable'],
  'data-category': ['id', 'name', 'classification', 'specialCategory', 'highlyPersonal'],
  recipient: ['id', 'name', 'country'],
  'retention-rule': ['id', 'name', 'period', 'trigger', 'legalReference', 'description'],
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
}

function catalogueResource(
  type: RecordType, plural: string, title: string, titlePlural: string, tag: string, entity: EntityTarget<any>,
  writeClass: new () => object, extra: Partial<ResourceDef> = {},
): ResourceDef {
  const writeSchema = writeClass.name
  return {
    ...named,
    ...shaped(writeClass, extra.storage),
    type, plural, title, titlePlural, tag, entity, writeSchema,
    viewSchema: writeSchema.replace(/Write$/, ''),
    writeRole: 'editor',
    filters: [],
    ...extra,
  }
}

const CONTACT_SEARCH = (field: string): string[] => [`${field}.name`, `${field}.email`, `${field}.address`]

export const controllers: ResourceDef = {
  ...named,
  ...shaped(ControllerWrite),
  type: 'controller', plural: 'controllers', title: 'controller', titlePlural: 'controllers', tag: 'Controllers',
  entity: Controller, writeSchema: 'ControllerWrite', viewSchema: 'Controller', writeRole: 'editor',
  searchColumns: ['name', 'organisationNumber', 'address', 'email', ...CONTACT_SEARCH('representative'), ...CONTACT_SEARCH('dataProtectionOfficer'), 'notes'],
  filters: [{ param: 'country', column: 'country', schema: { type: 'string', pattern: '^[A-Z]{2}$' } }],
}

export const processors: ResourceDef = {
  ...named,
  ...shaped(ProcessorWrite, {
    lists: { subProcessorIds: { entity: ProcessorSubProcessor, column: 'subProcessorId' } },
    flat: { dataProcessingAgreement: 'dpa' },
  }),
  type: 'processor', plural: 'processors', title: 'processor', titlePlural: 'processors', tag: 'Processors',
  entity: Processor, writeSchema: 'ProcessorWrite', viewSchema: 'Processor', writeRole: 'editor',
  searchColumns: ['name', 'organisationNumber', 'address', 'email', 'service', ...CONTACT_SEARCH('contact'), ...CONTACT_SEARCH('representative'), ...CONTACT_SEARCH('dataProtectionOfficer'), 'notes'],
  filters: [
    { param: 'country', column: 'country', schema: { type: 'string', pattern: '^[A-Z]{2}$' } },
    { param: 'subProcessorId', child: { entity: ProcessorSubProcessor, column: 'subProcessorId' }, schema: uuidFilter },
  ],
  rules: (b, self) => ids(b.subProcessorIds).flatMap((id, i) =>
    (id === self ? [{ field: `subProcessorIds[${i}]`, message: 'a processor cannot be its own sub-processor' }] : [])),
}

export const purposes = catalogueResource('purpose', 'purposes', 'purpose', 'purposes', 'Purposes', Purpose, PurposeWrite)

/** What identifies a built-in legal basis: fixed, so that every register means the same by A6-1-b. */
const BUILT_IN_FIXED = ['code', 'kind', 'articleReference', 'name', 'nameSv', 'url']

export const legalBases = catalogueResource(
  'legal-basis', 'legal-bases', 'legal basis', 'legal bases', 'Legal bases', LegalBasis, LegalBasisWrite,
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
    storage: {
      extras: [{ name: 'builtIn', view: (r) => Boolean(r.builtIn), schema: { type: 'boolean', description: 'Shipped with the product: cannot be deleted, renamed or recoded' } }],
    },
    storedExtras: (v) => ({ builtIn: v.builtIn }),
    guardReplace: (existing, b) => (existing.builtIn
      ? BUILT_IN_FIXED.filter((f) => (b[f] ?? null) !== (existing[f] ?? null))
        .map((field) => ({ field, message: `${field} of a built-in catalogue entry cannot be changed; only its description can` }))
      : []),
    guardDelete: (existing) => (existing.builtIn ? 'built-in catalogue entries cannot be deleted' : null),
  },
)

export const dataSubjectCategories = catalogueResource(
  'data-subject-category', 'data-subject-categories', 'data subject category', 'data subject categories', 'Data subject categories',
  DataSubjectCategory, DataSubjectCategoryWrite,
)

export const dataCategories = catalogueResource(
  'data-category', 'data-categories', 'personal data category', 'personal data categories', 'Personal data categories',
  DataCategory, DataCategoryWrite,
  {
    filters: [
      { param: 'classification', column: 'classification', schema: { type: 'string', enum: ['ordinary', 'special', 'criminal', 'national-id'] } },
    ],
    sortFields: ['name', 'classification', 'createdAt', 'updatedAt'],
  },
)

export const recipients = catalogueResource(
  'recipient', 'recipients', 'recipient category', 'recipient categories', 'Recipients', Recipient, RecipientWrite,
  { filters: [{ param: 'country', column: 'country', schema: { type: 'string', pattern: '^[A-Z]{2}$' } }] },
)

export const retentionRules = catalogueResource(
  'retention-rule', 'retention-rules', 'retention rule', 'retention rules', 'Retention rules', RetentionRule, RetentionRuleWrite,
  { searchColumns: ['name', 'trigger', 'legalReference', 'description'] },
)

export const securityMeasures = catalogueResource(
  'security-measure', 'security-measures', 'security measure', 'security measures', 'Security measures', SecurityMeasure,
  SecurityMeasureWrite,
  {
    filters: [
      { param: 'type', column: 'type', schema: { type: 'string', enum: ['technical', 'organisational'] } },
      { param: 'category', column: 'category', schema: { type: 'string', maxLength: 40 } },
    ],
    sortFields: ['name', 'type', 'category', 'createdAt', 'updatedAt'],
  },
)

// --- processing activities -------------------------------------------------------------------

/** A transfer's mechanism is stored by its code and shown with its names in both languages. */
const mechanism: Shown = {
  view: (code: string | null) => (code
    ? { code, name: TRANSFER_MECHANISMS[code]?.name ?? code, nameSv: TRANSFER_MECHANISMS[code]?.nameSv ?? code }
    : null),
  toWrite: (shown: Row | null) => shown?.code ?? null,
  schema: nullable({ $ref: 'TransferMechanism#' }),
  components: [{
    $id: 'TransferMechanism', type: 'object', description: 'A Chapter V transfer mechanism',
    properties: { code: { type: 'string', examples: ['A46-2-c'] }, name: { type: 'string' }, nameSv: { type: 'string' } },
    required: ['code', 'name', 'nameSv'], additionalProperties: false,
  }],
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
    // Chapter V: a transfer goes to a third country or to an international organisation (Art. 4(26))
    const country = t.country !== undefined && t.country !== null
    const organisation = typeof t.internationalOrganisation === 'string' && t.internationalOrganisation.trim() !== ''
    if (country && organisation) errors.push({ field: `transfers[${i}].internationalOrganisation`, message: 'a transfer goes to a country or to an international organisation, not both: give one of country and internationalOrganisation' })
    if (!country && !organisation) errors.push({ field: `transfers[${i}].country`, message: 'a transfer names its destination: a country such as US, or an internationalOrganisation such as "World Health Organization (WHO)"' })
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

const blankText = (v: unknown): boolean => typeof v !== 'string' || !v.trim()

/**
 * Deciding that no DPIA is required against a screening of "required" needs a justification
 * (Art. 35(1), 5(2)): checked when the decision is taken or changed, not on every later write
 * (a category that becomes vulnerable later shows as a finding instead).
 */
function dpiaDecisionRules(view: Row, existing: Row | null): FieldError[] {
  const dpia = view.dpia as Row | null
  if (dpia?.required !== false || !blankText(dpia.justification) || view.dpiaScreening?.outcome !== 'required') return []
  if (existing && existing.dpiaRequired === false && blankText(existing.dpiaJustification)) return []
  const screening = screenActivity(view, false)
  const met = [...screening.article35_3, ...screening.criteria].filter((c) => c.met === true).map((c) => c.id)
  return [{
    field: 'dpia.justification',
    message: `the screening finds a DPIA required (${met.join(', ')}); deciding required: false needs a justification, e.g. "Internal newsletter; assessed with the DPO on 2026-11-02"`,
  }]
}

export const processingActivities: ResourceDef = {
  ...shaped(ProcessingActivityWrite, {
    lists: {
      jointControllerIds: { entity: ActivityJointController, column: 'controllerId' },
      onBehalfOfControllerIds: { entity: ActivityOnBehalfOfController, column: 'controllerId' },
      dataSubjectCategoryIds: { entity: ActivityDataSubjectCategory, column: 'dataSubjectCategoryId' },
      dataCategoryIds: { entity: ActivityDataCategory, column: 'dataCategoryId' },
      recipientIds: { entity: ActivityRecipient, column: 'recipientId' },
      processorIds: { entity: ActivityProcessor, column: 'processorId' },
      securityMeasureIds: { entity: ActivitySecurityMeasure, column: 'securityMeasureId' },
    },
    rows: {
      purposes: {
        entity: ActivityPurpose, description: 'A purpose of the activity with its legal bases',
        lists: { legalBasisIds: { entity: ActivityPurposeLegalBasis, column: 'legalBasisId' } },
      },
      transfers: { entity: ActivityTransfer, description: 'A transfer to a third country or international organisation', shown: { mechanism } },
      retention: {
        entity: ActivityRetention, description: 'A retention rule, for the whole activity or for the listed data categories',
        lists: { dataCategoryIds: { entity: ActivityRetentionDataCategory, column: 'dataCategoryId' } },
      },
    },
    flat: { dpia: 'dpia', riskFactors: 'risk' },
    defaults: { status: 'draft', automatedDecisionMaking: false },
    derived: [{
      name: 'dpiaScreening', view: (v) => dpiaScreeningOf(v), schema: { $ref: 'DpiaScreeningSummary#' }, components: [DPIA_SCREENING_SUMMARY_SCHEMA],
      column: { name: 'dpiaScreening', value: (s) => s.outcome },
    }],
    extras: [{
      name: 'lastReviewedBy', after: 'lastReviewedAt', view: (r) => r.lastReviewedBy ?? null,
      schema: { type: ['string', 'null'], description: 'Who marked the activity reviewed last' },
    }],
  }),
  type: 'processing-activity', plural: 'processing-activities', title: 'processing activity', titlePlural: 'processing activities',
  tag: 'Processing activities', entity: ProcessingActivity,
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
    { param: 'dpiaScreening', column: 'dpiaScreening', schema: { type: 'string', enum: ['required', 'not-required', 'undetermined'] } },
  ],
  rules: activityRules,
  viewRules: dpiaDecisionRules,
  storedExtras: (v) => ({ lastReviewedBy: v.lastReviewedBy ?? null }),
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
const columnsOfBodies = new Map<ResourceDef, (body: Row) => Row>()
for (const def of RESOURCES) {
  const columnsOfBody = def.columns
  columnsOfBodies.set(def, columnsOfBody)
  def.columns = (body) => withLookupColumns(def.searchColumns, columnsOfBody(body))
}

/**
 * A write body's columns without what searches and sorts compare, which no view shows: what a view
 * composed again from history's state needs (folding and keying every name was a tenth of composing
 * an activity's view as of a moment).
 */
export const viewedColumns = (def: ResourceDef, body: Row): Row => columnsOfBodies.get(def)!(body)

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
