/**
 * The one family of errors the service raises on purpose. The error handler turns each into the
 * one JSON error shape (see src/schemas/common.ts); anything else becomes a 500 that says nothing.
 */
export interface FieldError {
  /** Path of the offending field in the request, e.g. `purposes[0].legalBasisIds[1]` or `query.limit`. */
  field: string
  message: string
}

export interface Reference {
  type: string
  id: string
  name: string
}

export class AppError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly details?: FieldError[],
    readonly references?: Reference[],
  ) {
    super(message)
  }
}

/** "The request is not valid: a, b": each offending field named once. */
export const invalidFields = (details: FieldError[]): string => `The request is not valid: ${[...new Set(details.map((d) => d.field))].join(', ')}`

export class ValidationFailed extends AppError {
  constructor(details: FieldError[], message = invalidFields(details)) {
    super(400, 'validation_failed', message, details)
  }
}

export class NotFound extends AppError {
  constructor(what: string, id: string) {
    super(404, 'not_found', `No ${what} with id ${id}`)
  }
}

export class Unauthorized extends AppError {
  constructor(message = 'A valid bearer token is required') {
    super(401, 'unauthorized', message)
  }
}

export class Forbidden extends AppError {
  constructor(message: string) {
    super(403, 'forbidden', message)
  }
}

export class StillReferenced extends AppError {
  constructor(what: string, references: Reference[]) {
    super(409, 'still_referenced', `This ${what} is still referenced by ${references.length} record(s); remove those references first`, undefined, references)
  }
}

export class Conflict extends AppError {
  constructor(code: string, message: string) {
    super(409, code, message)
  }
}
