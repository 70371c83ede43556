import { JsonSchema } from './json-schema'

/** Response shapes of the history, changes and reviews routes. */

const ref = (id: string): JsonSchema => ({ $ref: `${id}#` })
const nullableString = (description: string): JsonSchema => ({ type: ['string', 'null'], description })

export const RECORD_TYPES = [
  'controller', 'processor', 'purpose', 'legal-basis', 'data-subject-category', 'data-category', 'recipient', 'retention-rule',
  'security-measure', 'processing-activity',
]

export function accountabilitySchemas(): JsonSchema[] {
  return [
    {
      $id: 'HistoryEntry',
      type: 'object',
      description: 'One change: who, when, which record and version, and the record as it was after it (before it, for a delete)',
      properties: {
        seq: { type: 'integer', description: 'Order of the change in the workspace' },
        recordType: { type: 'string', enum: RECORD_TYPES },
        recordId: { type: 'string', format: 'uuid' },
        version: { type: 'integer' },
        operation: { type: 'string', enum: ['create', 'update', 'delete'] },
        actor: { type: 'string', description: 'The token\'s subject; `system` for changes the service makes itself' },
        at: { type: 'string', format: 'date-time' },
        state: { type: 'object', additionalProperties: true, description: 'The record as a client reads it' },
      },
      required: ['seq', 'recordType', 'recordId', 'version', 'operation', 'actor', 'at', 'state'],
      additionalProperties: false,
    },
    {
      $id: 'HistoryList',
      type: 'object',
      properties: { items: { type: 'array', items: ref('HistoryEntry') }, total: { type: 'integer' }, limit: { type: 'integer' }, offset: { type: 'integer' } },
      required: ['items', 'total', 'limit', 'offset'],
      additionalProperties: false,
    },
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
    {
      $id: 'ReviewDueList',
      type: 'object',
      properties: { items: { type: 'array', items: ref('ReviewDue') }, total: { type: 'integer' }, limit: { type: 'integer' }, offset: { type: 'integer' } },
      required: ['items', 'total', 'limit', 'offset'],
      additionalProperties: false,
    },
  ]
}
