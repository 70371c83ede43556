import { plainToInstance } from 'class-transformer'
import { validateSync, ValidationError } from 'class-validator'
import { FieldError, ValidationFailed } from '../errors'

/** `purposes.0.legalBasisIds` → `purposes[0].legalBasisIds` */
function fieldPath(parent: string, property: string): string {
  if (/^\d+$/.test(property)) return `${parent}[${property}]`
  return parent ? `${parent}.${property}` : property
}

function flatten(errors: ValidationError[], parent = ''): FieldError[] {
  const out: FieldError[] = []
  for (const e of errors) {
    const field = fieldPath(parent, e.property)
    for (const message of Object.values(e.constraints ?? {})) {
      // class-validator words unknown fields as "property x should not exist"
      out.push({ field, message: message.startsWith('property ') ? `${field} is not a known field` : message.replace(e.property, field) })
    }
    if (e.children?.length) out.push(...flatten(e.children, field))
  }
  return out
}

/**
 * Validates a request body against its request class: unknown fields rejected, every offending
 * field named. Returns a plain object holding only the declared fields.
 */
export function validateBody<T extends object>(cls: new () => T, body: unknown, fieldPrefix = ''): T {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new ValidationFailed([{ field: fieldPrefix || 'body', message: 'the body must be a JSON object' }])
  }
  const instance = plainToInstance(cls, body, { enableImplicitConversion: false, exposeDefaultValues: false })
  const errors = validateSync(instance, {
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    validationError: { target: false, value: false },
  })
  if (errors.length) throw new ValidationFailed(flatten(errors, fieldPrefix))
  return instance
}
