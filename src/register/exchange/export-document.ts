import { JsonSchema } from '../../schemas/json-schema'
import type { Lang } from '../wording/wording'
import { allSchemas } from '../records/view-schemas'
import { ACTIVITY_STATUSES } from '../records/catalogue'
import {
  controllers, dataCategories, dataSubjectCategories, legalBases, processingActivities, processors, purposes, recipients,
  ResourceDef, retentionRules, securityMeasures,
} from '../records/model'

/**
 * The JSON export document ("gdpr-art30-register", version 1): a self-describing copy of a register
 * that the import takes back. Its records are the API's own views, so the document and the API
 * share one declaration of every shape; its JSON Schema is built here from the shared schemas and
 * published as openapi/register-export.schema.json.
 */
export const EXPORT_FORMAT = 'gdpr-art30-register'
export const EXPORT_FORMAT_VERSION = 1

export type RegisterRecordKind = 'controller' | 'processor'

/** The document's lists of records, in the order an import must write them (references first). */
export interface Section {
  key: string
  def: ResourceDef
}

export const SECTIONS: Section[] = [
  { key: 'controllers', def: controllers },
  { key: 'processors', def: processors },
  { key: 'purposes', def: purposes },
  { key: 'legalBases', def: legalBases },
  { key: 'dataSubjectCategories', def: dataSubjectCategories },
  { key: 'dataCategories', def: dataCategories },
  { key: 'recipients', def: recipients },
  { key: 'retentionRules', def: retentionRules },
  { key: 'securityMeasures', def: securityMeasures },
  { key: 'processingActivities', def: processingActivities },
]

export const SECTION_OF_TYPE = Object.fromEntries(SECTIONS.map((s) => [s.def.type, s])) as Record<string, Section>

const ref = (id: string): JsonSchema => ({ $ref: `${id}#` })

/** A signed checkpoint of the history's head (src/register/accountability/checkpoints.ts). */
const CHECKPOINT = {
  type: 'object',
  properties: {
    seq: { type: 'integer', minimum: 1, maximum: 2147483647, description: 'The head is the chain\'s entry number seq' },
    head: { type: 'string', pattern: '^[0-9a-f]{64}$' },
    at: { type: 'string', maxLength: 30 },
    kid: { type: 'string', maxLength: 100 },
    jws: { type: 'string', maxLength: 2000, description: 'Compact JWS (EdDSA) over { ws, seq, head, iat }' },
  },
  required: ['seq', 'head', 'at', 'kid', 'jws'],
  additionalProperties: false,
} as const

/**
 * The document's schema with references to the shared schemas in Fastify's form (`Controller#`),
 * as routes use it; `publishedExportSchema` bundles it into one standalone file.
 */
export function exportDocumentSchema(): JsonSchema {
  const lists = Object.fromEntries(SECTIONS.map((s) => [s.key, {
    type: 'array',
    description: s.key === 'processingActivities'
      ? 'The exported processing activities, every reference resolved'
      : `The ${s.def.titlePlural} the exported activities refer to (when unfiltered: all of them${s.key === 'legalBases' ? ', plus every custom entry' : ''})`,
    items: ref(s.def.viewSchema),
  }]))
  return {
    type: 'object',
    title: 'Register of processing activities (GDPR Art. 30), export document',
    description: 'A register exported by GET /api/v1/register/export?format=json; POST /api/v1/register/import takes it back.',
    properties: {
      format: { type: 'string', enum: [EXPORT_FORMAT] },
      formatVersion: { type: 'integer', enum: [EXPORT_FORMAT_VERSION] },
      generatedAt: { type: 'string', format: 'date-time' },
      workspace: { type: 'string', description: 'The workspace exported' },
      record: { type: 'string', enum: ['controller', 'processor', 'all'], description: 'controller: the Art. 30(1) record; processor: the Art. 30(2) record; all: both, as a register version and a backup hold them' },
      registerVersion: {
        type: 'object',
        description: 'Only in the document of a register version: which version it is, frozen when it was proposed',
        properties: {
          number: { type: 'integer', minimum: 1 },
          proposedBy: { type: 'string' },
          proposedAt: { type: 'string', format: 'date-time' },
          note: { type: ['string', 'null'] },
          historyHead: { type: ['string', 'null'], description: 'The history chain\'s head at freezing' },
          historyCheckpoint: { ...CHECKPOINT, description: 'A signed checkpoint of historyHead (GET /api/v1/history/keys verifies it)' },
        },
        required: ['number', 'proposedBy', 'proposedAt', 'note', 'historyHead'],
        additionalProperties: false,
      },
      filters: {
        type: 'object',
        description: 'The filters the export was made with; null where not used',
        properties: {
          controllerId: { type: ['string', 'null'], format: 'uuid' },
          status: { type: ['string', 'null'], enum: [...ACTIVITY_STATUSES, null] },
          asOf: { type: ['string', 'null'], format: 'date-time', description: 'The moment the register is shown as it stood then (rebuilt from history); null: as it is now' },
        },
        required: ['controllerId', 'status', 'asOf'],
        additionalProperties: false,
      },
      ...lists,
      history: {
        type: 'array',
        description: 'Only in a backup (GET /api/v1/register/backup): the workspace\'s whole history, oldest first, as stored, each entry with its hash. ' +
          'An import into a workspace without a register restores it verbatim, so its chain and the heads versions recorded still verify.',
        items: {
          type: 'object',
          properties: {
            seq: { type: 'integer', minimum: 1, maximum: 9007199254740991, description: 'Its place in the workspace it comes from (a restored entry gets a new one)' },
            recordType: { type: 'string', maxLength: 40 },
            recordId: { type: 'string', maxLength: 36 },
            version: { type: 'integer', minimum: 0, maximum: 2147483647 },
            operation: { type: 'string', maxLength: 10 },
            actor: { type: 'string', maxLength: 200 },
            at: { type: 'string', maxLength: 30 },
            state: { type: 'string', description: 'The state as the JSON text the hash covers' },
            hash: { type: 'string', pattern: '^[0-9a-f]{64}$' },
            hashVersion: { type: 'integer', enum: [1, 2], description: 'The scheme of `hash` (docs/verifying-history.md); absent means 1; 2 covers salted commitments of the values' },
            saltKey: { type: 'string', pattern: '^[0-9a-f]{64}$', description: 'Scheme 2: the key the salts of the entry\'s values are derived from (until a redaction deletes it)' },
            salts: { type: 'object', additionalProperties: { type: 'string', pattern: '^[0-9a-f]{64}$' }, description: 'Scheme 2, after a redaction: the salts of the values kept, by path' },
            redacted: { type: 'object', additionalProperties: { type: 'string', pattern: '^[0-9a-f]{64}$' }, description: 'Erased by a redaction: scheme 2, the commitments of the values erased, by path; scheme 1, {}' },
          },
          required: ['seq', 'recordType', 'recordId', 'version', 'operation', 'actor', 'at', 'state', 'hash'],
          additionalProperties: false,
        },
      },
      registerVersions: {
        type: 'array',
        description: 'Only in a backup: every register version, oldest first, with its frozen document (SHA-256 = contentHash)',
        items: {
          type: 'object',
          properties: {
            number: { type: 'integer', minimum: 1, maximum: 2147483647 },
            status: { type: 'string', enum: ['proposed', 'approved', 'rejected', 'superseded'] },
            note: { type: ['string', 'null'] },
            proposedBy: { type: 'string', maxLength: 200 },
            proposedAt: { type: 'string', maxLength: 30 },
            approvedBy: { type: ['string', 'null'], maxLength: 200 },
            approvedAt: { type: ['string', 'null'], maxLength: 30 },
            approvalNote: { type: ['string', 'null'] },
            rejectedBy: { type: ['string', 'null'], maxLength: 200 },
            rejectedAt: { type: ['string', 'null'], maxLength: 30 },
            rejectionReason: { type: ['string', 'null'] },
            supersededAt: { type: ['string', 'null'], maxLength: 30 },
            supersededBy: { type: ['integer', 'null'], minimum: 1, maximum: 2147483647 },
            contentHash: { type: 'string', pattern: '^[0-9a-f]{64}$' },
            historyHead: { type: ['string', 'null'], pattern: '^[0-9a-f]{64}$' },
            counts: { type: 'object', additionalProperties: { type: 'integer', minimum: 0, maximum: 2147483647 } },
            findings: { type: 'object', additionalProperties: true },
            document: { type: 'string', description: 'The frozen export document, byte for byte' },
            checkpoint: { anyOf: [CHECKPOINT, { type: 'null' }], description: 'The signed checkpoint made at its latest step' },
            redactions: {
              type: 'array', description: 'Redactions applied to the document since it was frozen (contentHash stays the frozen one; documentHash is the SHA-256 of the document after each)',
              items: { type: 'object', properties: { id: { type: 'string' }, at: { type: 'string' }, documentHash: { type: 'string', pattern: '^[0-9a-f]{64}$' } }, required: ['id', 'at', 'documentHash'], additionalProperties: false },
            },
          },
          required: ['number', 'status', 'note', 'proposedBy', 'proposedAt', 'approvedBy', 'approvedAt', 'approvalNote', 'rejectedBy', 'rejectedAt',
            'rejectionReason', 'supersededAt', 'supersededBy', 'contentHash', 'historyHead', 'counts', 'findings', 'document'],
          additionalProperties: false,
        },
      },
      checkpoints: {
        type: 'array',
        description: 'Only in a backup: every signed checkpoint of the history, oldest first (`base`: entries before the chain it counts, for checkpoints restored from another backup)',
        items: { ...CHECKPOINT, properties: { ...CHECKPOINT.properties, base: { type: 'integer', minimum: 0, maximum: 2147483647 } } },
      },
    },
    required: ['format', 'formatVersion', 'generatedAt', 'workspace', 'record', 'filters', ...SECTIONS.map((s) => s.key)],
    additionalProperties: false,
  }
}

/** `Name#` → `#/$defs/Name`, collecting the names used. */
function rewriteRefs(node: unknown, used: Set<string>): unknown {
  if (Array.isArray(node)) return node.map((n) => rewriteRefs(n, used))
  if (!node || typeof node !== 'object') return node
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(node)) {
    if (k === '$ref' && typeof v === 'string' && /^[A-Za-z][\w-]*#$/.test(v)) {
      const name = v.slice(0, -1)
      used.add(name)
      out[k] = `#/$defs/${name}`
    } else if (k !== '$id') {
      out[k] = rewriteRefs(v, used)
    }
  }
  return out
}

/** The standalone JSON Schema (2020-12) of the export document, with every shared shape under $defs. */
export function publishedExportSchema(): JsonSchema {
  const shared = new Map(allSchemas().map((s) => [String(s.$id), s]))
  const used = new Set<string>()
  const root = rewriteRefs(exportDocumentSchema(), used) as JsonSchema
  const defs: Record<string, unknown> = {}
  const done = new Set<string>()
  while (done.size < used.size) {
    for (const name of [...used]) {
      if (done.has(name)) continue
      done.add(name)
      const schema = shared.get(name)
      if (!schema) throw new Error(`the export document refers to an unknown shared schema ${name}`)
      defs[name] = rewriteRefs(schema, used)
    }
  }
  const sortedDefs = Object.fromEntries(Object.keys(defs).sort().map((k) => [k, defs[k]]))
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: `urn:${EXPORT_FORMAT}:${EXPORT_FORMAT_VERSION}`,
    ...root,
    $defs: sortedDefs,
  }
}

/** The file as committed: stable byte for byte. */
export function publishedExportSchemaText(): string {
  return JSON.stringify(publishedExportSchema(), null, 2) + '\n'
}

/** What is asked of an export: format, which record, filters, language. */
export interface ExportQuery {
  format: 'json' | 'csv' | 'xlsx'
  record: RegisterRecordKind
  controllerId?: string
  status?: string
  lang: Lang
  /** CSV field delimiter; when not given, the language's (see csvDelimiter). */
  delimiter?: 'comma' | 'semicolon'
  /** Show the register as it stood at this moment (ISO 8601, UTC). */
  asOf?: string
}

/**
 * What a file of a frozen version says of its proof (accountability/version-proof.ts makes it): the
 * CSV ends with it after an empty record, the workbook has a sheet of it.
 */
export interface ProofBlock {
  /** The workbook sheet's name. */
  sheet: string
  /** Names the block as what it is (not a processing activity). */
  heading: string
  /** The value column's header in the workbook. */
  value: string
  rows: [string, string][]
}
