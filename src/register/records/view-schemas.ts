import { pageSchema } from '../../schemas/paging'
import { JsonSchema, nonNull, nullable, requestSchemas } from '../../schemas/json-schema'
import { accountabilitySchemas } from '../../schemas/accountability'
import { RESOURCES, RowsTable, Storage, SUMMARY_COLUMNS, viewName } from './model'
import { RecordType, shapeOf } from '../../dto/shape'
import { DPIA_SCREENING_SCHEMAS } from './dpia-screening'

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

/** A resolved reference's schema: the view's name and Ref (ControllerRef). */
const summaryName = (type: RecordType): string => `${RESOURCES.find((r) => r.type === type)!.viewSchema}Ref`

/** A nested object's view schema: its request class's name without Write (ActivityPurposeWrite → ActivityPurpose). */
const itemName = (cls: Function): string => cls.name.replace(/Write$/, '')

function object($id: string, properties: Record<string, JsonSchema>, description?: string): JsonSchema {
  return { $id, type: 'object', ...(description ? { description } : {}), properties, required: Object.keys(properties), additionalProperties: false }
}

export const patchSchemaName = (writeSchema: string): string => writeSchema.replace(/Write$/, 'Patch')

/**
 * The shared schemas of the records (errors, requests, views, pages, the DPIA screening, accountability), in
 * the order they are registered with Fastify; the API adds the findings' after them (`publishedSchemas`,
 * plugins/swagger.ts), since findings are read above the records.
 */
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
    out.push(object(summaryName(type), properties, `A resolved reference to a ${RESOURCES.find((r) => r.type === type)!.title}`))
  }

  const withMeta = ($id: string, fields: Record<string, JsonSchema>): JsonSchema =>
    object($id, { id: META.id, ...fields, createdAt: META.createdAt, updatedAt: META.updatedAt, version: META.version })
  const summary = (type: RecordType): JsonSchema => ref(summaryName(type))
  const refs = (schema: JsonSchema): JsonSchema => ({ type: 'array', items: schema })

  /** The view's fields, from the write's declaration (src/dto/shape.ts) and how it is stored. */
  const fields = (cls: Function, storage: Storage | RowsTable): Record<string, JsonSchema> => {
    const write = req[cls.name]
    const out: Record<string, JsonSchema> = {}
    for (const f of shapeOf(cls)) {
      const rows = (storage as Storage).rows?.[f.name]
      const shown = (storage as RowsTable).shown?.[f.name]
      const name = viewName(f)
      if (f.kind === 'refs') out[name] = refs(summary(f.to!))
      else if (f.kind === 'ref') out[name] = f.required ? summary(f.to!) : nullable(summary(f.to!))
      else if (rows) out[name] = refs(ref(itemName(f.nested!())))
      else if (shown) out[name] = shown.schema
      else if ((storage as Storage).defaults?.[f.name] !== undefined || f.kind === 'strings') out[name] = nonNull(write.properties[f.name])
      else out[name] = write.properties[f.name]
      for (const x of (storage as Storage).extras ?? []) if (x.after === f.name) out[x.name] = x.schema
    }
    for (const x of (storage as Storage).extras ?? []) if (!x.after) out[x.name] = x.schema
    for (const d of (storage as Storage).derived ?? []) out[d.name] = d.schema
    return out
  }

  for (const r of RESOURCES) {
    const nested = shapeOf(r.writeClass).filter((f) => r.storage.rows?.[f.name])
    for (const f of nested) {
      for (const shown of Object.values(r.storage.rows![f.name].shown ?? {})) out.push(...(shown.components ?? []))
    }
    for (const d of r.storage.derived ?? []) out.push(...(d.components ?? []))
    for (const f of nested) out.push(object(itemName(f.nested!()), fields(f.nested!(), r.storage.rows![f.name]), r.storage.rows![f.name].description))
    out.push(withMeta(r.viewSchema, fields(r.writeClass, r.storage)))
  }

  for (const r of RESOURCES) {
    const { required: _required, ...write } = req[r.writeSchema]
    out.push({ ...write, $id: patchSchemaName(r.writeSchema), description: 'Only the fields to change' })
    out.push(pageSchema(`${r.viewSchema}List`, ref(r.viewSchema), `A page of ${r.titlePlural}`))
  }
  out.push(...DPIA_SCREENING_SCHEMAS)
  out.push(...accountabilitySchemas())
  return out
}
