import { pageSchema } from './paging'
import { JsonSchema, nullable, requestSchemas } from './json-schema'
import { accountabilitySchemas } from './accountability'
import { RecordType, RESOURCES, SUMMARY_COLUMNS } from '../register/records/model'
import { findingSchemas } from '../register/review/findings'

/**
 * Response shapes. Scalar fields are taken from the request schemas (one declaration per field);
 * references become resolved summaries; every record adds id, createdAt, updatedAt and version.
 */

const ref = (id: string): JsonSchema => ({ $ref: `${id}#` })

export const ErrorSchema: JsonSchema = {
  $id: 'Error',
  type: 'object',
  description: 'The one shape of every error response (4xx and 5xx).',
  properties: {
    statusCode: { type: 'integer', examples: [400] },
    error: { type: 'string', description: 'HTTP reason phrase', examples: ['Bad Request'] },
    code: { type: 'string', description: 'Stable machine-readable code', examples: ['validation_failed'] },
    message: { type: 'string', examples: ['The request is not valid: name'] },
    requestId: { type: 'string', description: 'Quote it when reporting a problem; it is in the server log too' },
    details: {
      type: 'array',
      description: 'For 400 and 409: each offending field',
      items: {
        type: 'object',
        properties: { field: { type: 'string', examples: ['purposes[0].legalBasisIds[1]'] }, message: { type: 'string' } },
        required: ['field', 'message'],
      },
    },
    references: {
      type: 'array',
      description: 'For 409 still_referenced: the records that still refer to this one',
      items: {
        type: 'object',
        properties: { type: { type: 'string' }, id: { type: 'string' }, name: { type: 'string' } },
        required: ['type', 'id', 'name'],
      },
    },
  },
  required: ['statusCode', 'error', 'code', 'message', 'requestId'],
}

const META: Record<string, JsonSchema> = {
  id: { type: 'string', format: 'uuid' },
  createdAt: { type: 'string', format: 'date-time' },
  updatedAt: { type: 'string', format: 'date-time' },
  version: { type: 'integer', minimum: 1, description: 'Increases with every change; also the ETag' },
}

const SUMMARY_NAMES: Record<RecordType, string> = {
  controller: 'ControllerRef',
  processor: 'ProcessorRef',
  purpose: 'PurposeRef',
  'legal-basis': 'LegalBasisRef',
  'data-subject-category': 'DataSubjectCategoryRef',
  'data-category': 'DataCategoryRef',
  recipient: 'RecipientRef',
  'retention-rule': 'RetentionRuleRef',
  'security-measure': 'SecurityMeasureRef',
  'processing-activity': 'ProcessingActivityRef',
}

function props(write: JsonSchema, names: string[]): Record<string, JsonSchema> {
  return Object.fromEntries(names.map((n) => {
    if (n in META) return [n, META[n]]
    const p = write.properties[n]
    if (!p) throw new Error(`no property ${n} in ${write.$id}`)
    return [n, p]
  }))
}

function object($id: string, properties: Record<string, JsonSchema>, description?: string): JsonSchema {
  return { $id, type: 'object', ...(description ? { description } : {}), properties, required: Object.keys(properties), additionalProperties: false }
}

export const patchSchemaName = (writeSchema: string): string => writeSchema.replace(/Write$/, 'Patch')

/** All shared schemas, in the order they are registered with Fastify (and listed in OpenAPI). */
export function allSchemas(): JsonSchema[] {
  const req = requestSchemas()
  const out: JsonSchema[] = [ErrorSchema, ...Object.values(req)]
  const writeOf = (type: RecordType): JsonSchema => req[RESOURCES.find((r) => r.type === type)!.writeSchema]

  // summaries
  const extra: Record<string, JsonSchema> = {
    kind: req.LegalBasisWrite.properties.kind,
    role: req.ProcessingActivityWrite.properties.role,
    status: req.ProcessingActivityWrite.properties.status,
  }
  for (const [type, columns] of Object.entries(SUMMARY_COLUMNS) as [RecordType, string[]][]) {
    const write = writeOf(type)
    const properties = Object.fromEntries(columns.map((c) => [c, c === 'id' ? META.id : (write.properties[c] ?? extra[c])]))
    out.push(object(SUMMARY_NAMES[type], properties, `A resolved reference to a ${RESOURCES.find((r) => r.type === type)!.title}`))
  }

  const withMeta = (write: JsonSchema, $id: string, fields: Record<string, JsonSchema>): JsonSchema =>
    object($id, { id: META.id, ...fields, createdAt: META.createdAt, updatedAt: META.updatedAt, version: META.version })
  const scalars = (write: JsonSchema, omit: string[] = []): Record<string, JsonSchema> =>
    props(write, Object.keys(write.properties).filter((k) => !omit.includes(k)))

  out.push(withMeta(req.ControllerWrite, 'Controller', scalars(req.ControllerWrite)))
  out.push(withMeta(req.ProcessorWrite, 'Processor', {
    ...scalars(req.ProcessorWrite, ['subProcessorIds', 'notes']),
    subProcessors: { type: 'array', items: ref('ProcessorRef') },
    notes: req.ProcessorWrite.properties.notes,
  }))
  out.push(withMeta(req.PurposeWrite, 'Purpose', scalars(req.PurposeWrite)))
  out.push(withMeta(req.LegalBasisWrite, 'LegalBasis', {
    ...scalars(req.LegalBasisWrite),
    builtIn: { type: 'boolean', description: 'Shipped with the product: cannot be deleted, renamed or recoded' },
  }))
  out.push(withMeta(req.DataSubjectCategoryWrite, 'DataSubjectCategory', scalars(req.DataSubjectCategoryWrite)))
  out.push(withMeta(req.DataCategoryWrite, 'DataCategory', scalars(req.DataCategoryWrite)))
  out.push(withMeta(req.RecipientWrite, 'Recipient', scalars(req.RecipientWrite)))
  out.push(withMeta(req.RetentionRuleWrite, 'RetentionRule', scalars(req.RetentionRuleWrite)))
  out.push(withMeta(req.SecurityMeasureWrite, 'SecurityMeasure', scalars(req.SecurityMeasureWrite)))

  const a = req.ProcessingActivityWrite
  const refs = (name: string): JsonSchema => ({ type: 'array', items: ref(name) })
  out.push(object('TransferMechanism', {
    code: { type: 'string', examples: ['A46-2-c'] }, name: { type: 'string' }, nameSv: { type: 'string' },
  }, 'A Chapter V transfer mechanism'))
  out.push(object('ActivityPurpose', {
    purpose: ref('PurposeRef'),
    legalBases: refs('LegalBasisRef'),
    legitimateInterest: req.ActivityPurposeWrite.properties.legitimateInterest,
    liaReference: req.ActivityPurposeWrite.properties.liaReference,
    consentWithdrawal: req.ActivityPurposeWrite.properties.consentWithdrawal,
  }, 'A purpose of the activity with its legal bases'))
  out.push(object('Transfer', {
    country: req.TransferWrite.properties.country,
    recipient: nullable(ref('RecipientRef')),
    processor: nullable(ref('ProcessorRef')),
    mechanism: nullable(ref('TransferMechanism')),
    safeguards: req.TransferWrite.properties.safeguards,
    documentation: req.TransferWrite.properties.documentation,
  }, 'A transfer to a third country or international organisation'))
  out.push(object('Retention', {
    retentionRule: ref('RetentionRuleRef'),
    dataCategories: refs('DataCategoryRef'),
  }, 'A retention rule, for the whole activity or for the listed data categories'))
  out.push(withMeta(a, 'ProcessingActivity', {
    ...props(a, ['name', 'description', 'role']),
    status: { ...a.properties.status, type: 'string', enum: ['draft', 'active', 'retired'] },
    controller: ref('ControllerRef'),
    jointControllers: refs('ControllerRef'),
    onBehalfOfControllers: refs('ControllerRef'),
    purposes: refs('ActivityPurpose'),
    dataSubjectCategories: refs('DataSubjectCategoryRef'),
    dataCategories: refs('DataCategoryRef'),
    nationalIdJustification: a.properties.nationalIdJustification,
    recipients: refs('RecipientRef'),
    processors: refs('ProcessorRef'),
    transfers: refs('Transfer'),
    retention: refs('Retention'),
    securityMeasures: refs('SecurityMeasureRef'),
    dataSources: { type: 'array', items: { type: 'string' } },
    systems: { type: 'array', items: { type: 'string' } },
    dpia: a.properties.dpia,
    automatedDecisionMaking: { type: 'boolean' },
    ...props(a, ['automatedDecisionMakingDescription', 'owner', 'lastReviewedAt']),
    lastReviewedBy: { type: ['string', 'null'], description: 'Who marked the activity reviewed last' },
    ...props(a, ['nextReviewAt']),
  }))

  for (const r of RESOURCES) {
    const { required: _required, ...write } = req[r.writeSchema]
    out.push({ ...write, $id: patchSchemaName(r.writeSchema), description: 'Only the fields to change' })
    out.push(pageSchema(`${r.viewSchema}List`, ref(r.viewSchema), `A page of ${r.titlePlural}`))
  }
  out.push(...findingSchemas())
  out.push(...accountabilitySchemas())
  return out
}
