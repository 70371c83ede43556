import { validateSync, ValidationError } from 'class-validator'
import { FieldError, ValidationFailed } from '../errors'
import { acceptedAsIs } from './accepted-as-is'
import { toInstance } from './shape'

/** `purposes.0.legalBasisIds` → `purposes[0].legalBasisIds` */
function fieldPath(parent: string, property: string): string {
  if (/^\d+$/.test(property)) return `${parent}[${property}]`
  return parent ? `${parent}.${property}` : property
}

function flatten(errors: ValidationError[], parent = ''): FieldError[] {
  const out: FieldError[] = []
  for (const e of errors) {
    const field = fieldPath(parent, e.property)
    // Optional fields take null and absence, so a check failing on either is a required field:
    // "required", not every check it fails. A value of the wrong type is reported by its type
    // check alone; two checks of one rule (a country's pattern and its ISO list) say it once.
    const constraints = e.constraints ?? {}
    const missing = e.constraints && !constraints.whitelistValidation && (e.value === undefined || e.value === null) ? `${e.property} is required` : undefined
    const decisive = missing ?? constraints.isString ?? constraints.isArray ?? constraints.isBoolean
    for (const message of decisive ? [decisive] : new Set(Object.values(constraints))) {
      // class-validator words unknown fields as "property x should not exist"
      out.push({ field, message: message.startsWith('property ') ? `${field} is not a known field` : message.replace(e.property, field) })
    }
    if (e.children?.length) out.push(...flatten(e.children, field))
  }
  return out
}

/** Deeper than any request class nests (an activity's purposes hold lists): refused before transforming. */
const MAX_DEPTH = 16

/** NUL (PostgreSQL cannot store it in text) or a lone UTF-16 surrogate (no character at all). */
const NOT_TEXT = /\u0000|\p{Cs}/u

/**
 * What no request class can hold, found without recursion so that hostile input cannot exhaust the
 * stack: nesting deeper than MAX_DEPTH, and strings that are not storable text. Names the first
 * offending field.
 */
function unfitInput(body: object, fieldPrefix: string): FieldError | null {
  const stack: { value: unknown; path: string; depth: number }[] = [{ value: body, path: fieldPrefix, depth: 0 }]
  while (stack.length) {
    const { value, path, depth } = stack.pop()!
    if (typeof value === 'string') {
      if (NOT_TEXT.test(value)) return { field: path || 'body', message: `${path || 'body'} must be text without NUL characters or unpaired surrogates` }
      continue
    }
    if (value === null || typeof value !== 'object') continue
    if (depth >= MAX_DEPTH) return { field: path || 'body', message: `${path || 'body'} is nested deeper than any field allows` }
    for (const [key, child] of Object.entries(value)) {
      stack.push({ value: child, path: fieldPath(path, key), depth: depth + 1 })
    }
  }
  return null
}

/**
 * Validates a request body against its request class: unknown fields rejected, every offending
 * field named. Returns a plain object holding only the declared fields.
 */
export function validateBody<T extends object>(cls: new () => T, body: unknown, fieldPrefix = ''): T {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new ValidationFailed([{ field: fieldPrefix || 'body', message: 'the body must be a JSON object' }])
  }
  // a valid body, the same instance, without class-validator's bookkeeping (accepted-as-is.ts)
  return acceptedAsIs(cls, body) ?? validateFully(cls, body, fieldPrefix)
}

/** validateBody the full way: every check of the request class, every offending field named. */
export function validateFully<T extends object>(cls: new () => T, body: object, fieldPrefix = ''): T {
  const unfit = unfitInput(body, fieldPrefix)
  if (unfit) throw new ValidationFailed([unfit])
  const instance = toInstance(cls, body as Record<string, unknown>)
  const errors = validateSync(instance, {
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    // values are read by flatten (is a field missing?) and never leave it
    validationError: { target: false, value: true },
  })
  if (errors.length) throw new ValidationFailed(flatten(errors, fieldPrefix))
  return instance
}
