import { JsonSchema } from './json-schema'

/** Every list of the API pages the same way: `limit` and `offset` in, `{ items, total, limit, offset }` out. */
export interface PageQuery {
  limit: number
  offset: number
}

/** The query-string parameters of a page. */
export const pageParams = {
  limit: { type: 'integer', minimum: 1, maximum: 500, default: 50, description: 'Page size' },
  offset: { type: 'integer', minimum: 0, maximum: 1000000000, default: 0, description: 'Records to skip' },
} as const

/** The shared schema of a page of `item`s. */
export function pageSchema($id: string, item: JsonSchema, description?: string): JsonSchema {
  return {
    $id,
    type: 'object',
    ...(description ? { description } : {}),
    properties: {
      items: { type: 'array', items: item },
      total: { type: 'integer', minimum: 0, description: 'Matching records in all pages' },
      limit: { type: 'integer' },
      offset: { type: 'integer' },
    },
    required: ['items', 'total', 'limit', 'offset'],
    additionalProperties: false,
  }
}
