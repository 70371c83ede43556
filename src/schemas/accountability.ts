import { JsonSchema } from './json-schema'
import { pageSchema } from './paging'

/** Response shapes of the history, changes and reviews routes. */

const ref = (id: string): JsonSchema => ({ $ref: `${id}#` })
const nullableString = (description: string): JsonSchema => ({ type: ['string', 'null'], description })

export const RECORD_TYPES = [
  'controller', 'processor', 'purpose', 'legal-basis', 'data-subject-category', 'data-category', 'recipient', 'retention-rule',
  'security-measure', 'processing-activity',
]

/** What history entries are about: the register's records, and register versions (their approval, rejection and superseding). */
export const HISTORY_RECORD_TYPES = [...RECORD_TYPES, 'register-version', 'history-restore', 'redaction']
export const HISTORY_OPERATIONS = ['create', 'update', 'delete', 'propose', 'approve', 'reject', 'supersede', 'restore', 'restored', 'redact']

const HASH = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'
const HEAD = '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08'

const versionExample = {
  number: 3, status: 'approved', note: 'Årlig genomgång 2026', proposedBy: 'alice', proposedAt: '2026-11-30T09:12:03.441Z',
  approvedBy: 'bertil', approvedAt: '2026-12-01T14:02:51.007Z', approvalNote: 'Fastställd av styrelsen 2026-12-01, § 12',
  rejectedBy: null, rejectedAt: null, rejectionReason: null, supersededAt: null, supersededBy: null,
  contentHash: HASH, historyHead: HEAD, checkpoint: null, redactions: [],
  counts: { controllerActivities: 14, processorActivities: 2, processingActivities: 16, controllers: 3, processors: 5, purposes: 11, legalBases: 7, dataSubjectCategories: 6, dataCategories: 12, recipients: 4, retentionRules: 6, securityMeasures: 5 },
  findings: { total: 4, bySeverity: { high: 1, medium: 2, low: 1 }, byRule: { 'processor-without-dpa': 1, 'retention-missing': 2, 'review-overdue': 1 } },
}

const CHECKPOINT_EXAMPLE = {
  seq: 412, head: HEAD, at: '2026-12-01T14:02:51.112Z', kid: 'n4bQgYhMfWWaL-qgxVrQFaO_TxsrC4Is0V1sFbDwCgg',
  jws: 'eyJhbGciOiJFZERTQSIsImtpZCI6Im40YlFnWWhNZldXYUwtcWd4VnJRRmFPX1R4c3JDNElzMFYxc0ZiRHdDZ2ciLCJ0eXAiOiJoaXN0b3J5LWNoZWNrcG9pbnQrandzIn0.eyJ3cyI6ImRlbW8iLCJzZXEiOjQxMiwiaGVhZCI6IjlmODZkMDgxODg0YzdkNjU5YTJmZWFhMGM1NWFkMDE1YTNiZjRmMWIyYjBiODIyY2QxNWQ2YzE1YjBmMDBhMDgiLCJpYXQiOjE3OTY0MDA1NzF9.c2lnbmF0dXJl',
}

/** Shapes of the register versions and of the history chain's verification. */
function versionSchemas(): JsonSchema[] {
  const nullableAt = (description: string): JsonSchema => ({ type: ['string', 'null'], format: 'date-time', description })
  return [
    {
      $id: 'RegisterVersion',
      type: 'object',
      description: 'An established version of the register: frozen when proposed, then approved by another admin (four eyes) or rejected',
      properties: {
        number: { type: 'integer', minimum: 1, description: '1, 2, 3 … per workspace' },
        status: { type: 'string', enum: ['proposed', 'approved', 'rejected', 'superseded'], description: 'proposed → approved → superseded (by the next approval), or proposed → rejected' },
        note: nullableString('The proposer\'s note'),
        proposedBy: { type: 'string', description: 'Who proposed it (the token\'s subject)' },
        proposedAt: { type: 'string', format: 'date-time', description: 'When the register was frozen' },
        approvedBy: nullableString('The admin who approved it'),
        approvedAt: nullableAt('When it was approved'),
        approvalNote: nullableString('The approver\'s note'),
        rejectedBy: nullableString('The admin who rejected it'),
        rejectedAt: nullableAt('When it was rejected'),
        rejectionReason: nullableString('Why it was rejected'),
        supersededAt: nullableAt('When a later approval superseded it'),
        supersededBy: { type: ['integer', 'null'], description: 'The version whose approval superseded it' },
        contentHash: { type: 'string', pattern: '^[0-9a-f]{64}$', description: 'SHA-256 (hex) of the version\'s JSON export: `sha256sum` of the downloaded file gives the same' },
        historyHead: { type: ['string', 'null'], description: 'The history chain\'s head (hash of the latest entry) when the register was frozen' },
        counts: { type: 'object', additionalProperties: { type: 'integer' }, description: 'Records per kind; controllerActivities are the Art. 30(1) record, processorActivities the Art. 30(2) record' },
        checkpoint: {
          anyOf: [ref('HistoryCheckpoint'), { type: 'null' }],
          description: 'The signed checkpoint made at its latest step (proposal, approval, rejection, superseding): its head covers that step\'s history entry; null for versions decided before checkpoints existed',
        },
        redactions: {
          type: 'array',
          description: 'Redactions (POST /api/v1/redactions) applied to the frozen document since: its files are served redacted, `contentHash` stays the frozen one (a file handed out before is still shown to be this version), `documentHash` is the SHA-256 of the document after each',
          items: {
            type: 'object',
            properties: { id: { type: 'string', format: 'uuid' }, at: { type: 'string', format: 'date-time' }, documentHash: { type: 'string', pattern: '^[0-9a-f]{64}$' } },
            required: ['id', 'at', 'documentHash'],
            additionalProperties: false,
          },
        },
        findings: {
          type: 'object',
          description: 'The open findings (GET /api/v1/register/findings) when the register was frozen',
          properties: {
            total: { type: 'integer' },
            bySeverity: { type: 'object', additionalProperties: { type: 'integer' } },
            byRule: { type: 'object', additionalProperties: { type: 'integer' } },
          },
          required: ['total', 'bySeverity', 'byRule'],
          additionalProperties: false,
        },
      },
      required: ['number', 'status', 'note', 'proposedBy', 'proposedAt', 'approvedBy', 'approvedAt', 'approvalNote', 'rejectedBy', 'rejectedAt', 'rejectionReason', 'supersededAt', 'supersededBy', 'contentHash', 'historyHead', 'counts', 'findings', 'checkpoint', 'redactions'],
      additionalProperties: false,
      examples: [versionExample],
    },
    {
      $id: 'HistoryCheckpoint',
      type: 'object',
      description: 'A signed checkpoint of the history\'s head: `jws` is a compact JWS (EdDSA, Ed25519) over `{ ws, seq, head, iat }`, verified by GET /api/v1/history/keys',
      properties: {
        seq: { type: 'integer', description: 'Entries in the chain signed: its head is entry number seq' },
        head: { type: 'string', pattern: '^[0-9a-f]{64}$', description: 'The hash of entry number seq' },
        at: { type: 'string', format: 'date-time', description: 'When it was signed' },
        kid: { type: 'string', description: 'The signing key (RFC 7638 thumbprint), in GET /api/v1/history/keys' },
        jws: { type: 'string', description: 'The compact JWS' },
      },
      required: ['seq', 'head', 'at', 'kid', 'jws'],
      additionalProperties: false,
      examples: [CHECKPOINT_EXAMPLE],
    },
    pageSchema('HistoryCheckpointList', ref('HistoryCheckpoint')),
    {
      $id: 'HistoryKeySet',
      type: 'object',
      description: 'A JSON Web Key Set of Ed25519 public keys (RFC 8037)',
      properties: {
        keys: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              kty: { type: 'string', enum: ['OKP'] }, crv: { type: 'string', enum: ['Ed25519'] }, kid: { type: 'string' }, x: { type: 'string' },
              alg: { type: 'string', enum: ['EdDSA'] }, use: { type: 'string', enum: ['sig'] },
            },
            required: ['kty', 'crv', 'kid', 'x', 'alg', 'use'],
            additionalProperties: false,
          },
        },
      },
      required: ['keys'],
      additionalProperties: false,
    },
    pageSchema('RegisterVersionList', ref('RegisterVersion')),
    {
      $id: 'VersionChanges',
      type: 'object',
      description: 'Processing activities added, changed and removed from version `against` to version `version`, as /register/changes shows them',
      properties: {
        version: { type: 'integer' },
        against: { type: 'integer' },
        since: { type: 'string', format: 'date-time', description: 'When `against` was frozen' },
        until: { type: 'string', format: 'date-time', description: 'When `version` was frozen' },
        added: { type: 'array', items: ref('ActivityChange') },
        changed: { type: 'array', items: ref('ActivityChange') },
        removed: { type: 'array', items: ref('ActivityChange') },
      },
      required: ['version', 'against', 'since', 'until', 'added', 'changed', 'removed'],
      additionalProperties: false,
    },
    {
      $id: 'HistoryVerification',
      type: 'object',
      description: 'The history chain recomputed from the first entry',
      properties: {
        valid: { type: 'boolean', description: 'Every entry\'s hash follows from the previous hash and its own content' },
        entries: { type: 'integer', description: 'Entries checked: the workspace\'s whole history' },
        head: { type: ['string', 'null'], description: 'The latest entry\'s hash (what a version records as historyHead)' },
        firstBroken: {
          description: 'Where the chain breaks: the first entry changed, or the entry after one removed or inserted; null when valid',
          anyOf: [{
            type: 'object',
            properties: {
              seq: { type: 'integer' }, recordType: { type: 'string' }, recordId: { type: 'string' }, version: { type: 'integer' },
              at: { type: 'string', format: 'date-time' }, reason: { type: 'string' },
            },
            required: ['seq', 'recordType', 'recordId', 'version', 'at', 'reason'],
            additionalProperties: false,
          }, { type: 'null' }],
        },
        versionsWithoutHead: {
          type: 'array', items: { type: 'integer' },
          description: 'Register versions whose historyHead is no longer in the chain: the entries up to it were removed (which leaves no break behind)',
        },
        checkpoints: { type: 'integer', description: 'Signed checkpoints checked: each verifies with the service\'s keys and the entry it names still has the head it signed' },
        redacted: { type: 'integer', description: 'Entries whose personal data a redaction erased: proven through the commitments kept in their place (scheme 2), or, for entries written before commitments (scheme 1), taken at their hash as a later redaction entry names them' },
      },
      required: ['valid', 'entries', 'head', 'firstBroken', 'versionsWithoutHead', 'checkpoints', 'redacted'],
      additionalProperties: false,
      examples: [{ valid: false, entries: 1289, head: HEAD, firstBroken: { seq: 412, recordType: 'processing-activity', recordId: '0d9e3f4a-6a51-4c8e-9a8e-2f1f5b7c9d10', version: 3, at: '2026-09-14T08:30:12.118Z', reason: 'the hash does not match the previous entry\'s hash and this entry\'s content' }, versionsWithoutHead: [], checkpoints: 3, redacted: 0 }],
    },
  ]
}

/** A redaction (POST /api/v1/redactions). */
function redactionSchemas(): JsonSchema[] {
  const nullable = (description: string): JsonSchema => ({ type: ['string', 'null'], description })
  return [
    {
      $id: 'Redaction',
      type: 'object',
      description: 'Erasure of exact values from history and register versions: proposed by an admin, approved (and applied) by another or rejected',
      properties: {
        id: { type: 'string', format: 'uuid' },
        status: { type: 'string', enum: ['proposed', 'applied', 'rejected'] },
        values: { type: ['array', 'null'], items: { type: 'string' }, description: 'The values to erase, while proposed (for the approver); null once applied or rejected: they are not kept' },
        reason: { type: 'string', description: 'Why, e.g. the Art. 17 request it answers' },
        proposedBy: { type: 'string' },
        proposedAt: { type: 'string', format: 'date-time' },
        decidedBy: nullable('The admin who approved or rejected it'),
        decidedAt: { type: ['string', 'null'], format: 'date-time' },
        rejectionReason: nullable('Why it was rejected'),
        occurrences: {
          type: 'object',
          description: 'History entries and register versions holding the values: found when proposed, erased when applied',
          properties: { history: { type: 'integer' }, versions: { type: 'integer' } },
          required: ['history', 'versions'],
          additionalProperties: false,
        },
        fields: { type: ['array', 'null'], items: { type: 'string' }, description: 'Once applied: where the values were, as record type and field path (`controller:/dataProtectionOfficer/email`, `actor`)' },
      },
      required: ['id', 'status', 'values', 'reason', 'proposedBy', 'proposedAt', 'decidedBy', 'decidedAt', 'rejectionReason', 'occurrences', 'fields'],
      additionalProperties: false,
    },
    pageSchema('RedactionList', ref('Redaction')),
  ]
}

export function accountabilitySchemas(): JsonSchema[] {
  return [
    ...versionSchemas(),
    ...redactionSchemas(),
    {
      $id: 'HistoryEntry',
      type: 'object',
      description: 'One change: who, when, which record and version, and the record as it was after it (before it, for a delete). ' +
        'A register version\'s approval, rejection and superseding are entries too (recordType `register-version`, version: its number, ' +
        'recordId: the first 32 hex digits of its contentHash, state: the version as GET /register/versions/{number} reads it after the change)',
      properties: {
        seq: { type: 'integer', description: 'Order of the change in the workspace' },
        recordType: { type: 'string', enum: HISTORY_RECORD_TYPES },
        recordId: { type: 'string', format: 'uuid' },
        version: { type: 'integer', description: 'The record\'s version after the change; for a register version, its number' },
        operation: { type: 'string', enum: HISTORY_OPERATIONS, description: 'create, update, delete of a record; approve, reject, supersede of a register version; restore: the entries after it were restored from a backup (recordType history-restore, version: how many)' },
        actor: { type: 'string', description: 'The token\'s subject; `system` for changes the service makes itself' },
        at: { type: 'string', format: 'date-time' },
        state: { type: 'object', additionalProperties: true, description: 'The record as a client reads it' },
        hash: { type: ['string', 'null'], description: 'SHA-256 (hex) over the previous entry\'s hash and this entry\'s content: the workspace\'s history is one hash chain (GET /api/v1/history/verify)' },
      },
      required: ['seq', 'recordType', 'recordId', 'version', 'operation', 'actor', 'at', 'state', 'hash'],
      additionalProperties: false,
    },
    pageSchema('HistoryList', ref('HistoryEntry')),
    {
      $id: 'ActivityChange',
      type: 'object',
      properties: {
        id: { type: 'string', format: 'uuid' },
        name: { type: 'string' },
        at: { type: 'string', format: 'date-time', description: 'The latest change in the period' },
        actor: { type: 'string' },
        fields: {
          type: 'array',
          items: {
            type: 'object',
            properties: { field: { type: 'string', examples: ['dpia.status'] }, before: {}, after: {} },
            required: ['field', 'before', 'after'],
          },
        },
      },
      required: ['id', 'name', 'at', 'actor'],
      additionalProperties: false,
    },
    {
      $id: 'ActivityChanges',
      type: 'object',
      description: 'Processing activities added, changed and removed between two moments',
      properties: {
        since: { type: 'string', format: 'date-time' },
        until: { type: 'string', format: 'date-time' },
        added: { type: 'array', items: ref('ActivityChange') },
        changed: { type: 'array', items: ref('ActivityChange') },
        removed: { type: 'array', items: ref('ActivityChange') },
      },
      required: ['since', 'until', 'added', 'changed', 'removed'],
      additionalProperties: false,
    },
    {
      $id: 'ReviewDue',
      type: 'object',
      properties: {
        activity: ref('ProcessingActivityRef'),
        controller: { anyOf: [ref('ControllerRef'), { type: 'null' }] },
        lastReviewedAt: nullableString('Date of the last review'),
        lastReviewedBy: nullableString('Who reviewed it last'),
        nextReviewAt: nullableString('Date the next review was due'),
        reason: { type: 'string', enum: ['never-reviewed', 'overdue', 'no-next-review'] },
      },
      required: ['activity', 'controller', 'lastReviewedAt', 'lastReviewedBy', 'nextReviewAt', 'reason'],
      additionalProperties: false,
    },
    pageSchema('ReviewDueList', ref('ReviewDue')),
  ]
}
