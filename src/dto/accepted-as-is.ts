import Ajv, { ValidateFunction } from 'ajv'
import {
  IS_EMAIL, IS_INT, IS_ISO31661_ALPHA_2, IS_ISO8601, IS_URL, IS_UUID, isEmail, isInt, isISO31661Alpha2, isISO8601, isURL, isUUID, MATCHES, matches,
  ValidationTypes,
} from 'class-validator'
import { classSchemas, Converter, JsonSchema } from '../schemas/json-schema'
import { conditionalFields, nestedClassOf, toInstance } from './shape'

/**
 * The quick path of validateBody (validate.ts) for a body that is valid, which is nearly every body
 * of an import: one compiled Ajv check of the request class's JSON Schema, generated from the same
 * class-validator declarations as the published one, but as strict as class-validator or stricter.
 * Each check JSON Schema words differently (a pattern, an e-mail address, a URL, a UUID, a date, a
 * country, a whole number) calls class-validator's own function with the declaration's options; a
 * field checked only under a condition (`When`) must be given when the condition holds; a constraint
 * of our own refuses every value. Only public APIs: class-validator's exported checks,
 * class-validator-jsonschema's converters, Ajv's keywords. It only ever accepts: a body it does not
 * take goes the full way, which words the errors. So a body it accepts is one the full way accepts,
 * as the same instance (test/accepted-as-is.test.ts checks both on generated bodies and on every
 * declared field given every sample value). A decorator new to src/dto that JSON Schema words
 * differently needs its converter here.
 */

type Row = Record<string, unknown>

/** NUL or a lone surrogate (as unfitInput in validate.ts): the full way names the field. */
const NOT_TEXT = /\u0000|\p{Cs}/u
/** Deeper than any request class nests, and well under validate.ts's MAX_DEPTH. */
const MAX_DEPTH = 8

/** JSON's values, strings storable as text, nesting no deeper than a request class does (unfitInput's checks, in short). */
function fit(value: unknown, depth: number): boolean {
  if (typeof value === 'string') return !NOT_TEXT.test(value)
  if (value === null || typeof value !== 'object') return true
  // JSON's objects and lists only: a Date or a Set passes for an object in JSON Schema, not in class-validator
  if (depth > MAX_DEPTH || !(Array.isArray(value) || isPlainObject(value))) return false
  for (const key in value) if (!fit((value as Row)[key], depth + 1)) return false
  return true
}

/** Checks JSON Schema cannot word as class-validator does, each a keyword of its own (so that two on one field both apply). */
const checks: { type: 'string' | 'number'; check: (value: any) => boolean }[] = []
function exactly(check: (value: any, constraints: any[]) => boolean, type: 'string' | 'number' = 'string'): Converter {
  return (meta) => {
    const constraints = meta.constraints ?? []
    const n = checks.push({
      type,
      check: (value) => {
        try {
          return check(value, constraints)
        } catch {
          return false // validator's functions throw on what is no address at all
        }
      },
    }) - 1
    return { type, [`x-check-${n}`]: true }
  }
}

const REFUSE: JsonSchema = { not: {} }

const STRICT_CONVERTERS: Record<string, Converter> = {
  [MATCHES]: exactly((v, [pattern, modifiers]) => matches(v, pattern, modifiers)),
  [IS_EMAIL]: exactly((v, [options]) => isEmail(v, options)),
  [IS_URL]: exactly((v, [options]) => isURL(v, options)),
  [IS_UUID]: exactly((v, [version]) => isUUID(v, version)),
  [IS_ISO8601]: exactly((v, [options]) => isISO8601(v, options)),
  [IS_ISO31661_ALPHA_2]: exactly((v) => isISO31661Alpha2(v)),
  // `integer` would be merged away by Min's and Max's `number`
  [IS_INT]: exactly((v) => isInt(v), 'number'),
  // a nested field whose class is not declared: the full way decides
  [ValidationTypes.NESTED_VALIDATION]: (meta) => {
    const nested = typeof meta.target === 'function' ? nestedClassOf(meta.target, meta.propertyName) : undefined
    return nested ? { $ref: nested.name } : REFUSE
  },
  // a constraint of our own (no converter knows what it checks) comes here
  [ValidationTypes.CUSTOM_VALIDATION]: REFUSE,
}

let validators: Map<string, ValidateFunction> | undefined

function validatorOf(cls: Function): ValidateFunction | undefined {
  if (!validators) {
    const schemas = classSchemas(STRICT_CONVERTERS)
    // a field checked only when a condition holds (`When`) is optional in JSON Schema, and checked
    // whenever given: when the condition holds, it must also be given
    const whens: ((object: Row) => boolean)[] = []
    for (const [name, fields] of conditionalFields()) {
      for (const [field, condition] of fields) {
        const n = whens.push((object) => !condition(object) || (object[field] !== undefined && object[field] !== null)) - 1
        schemas[name][`x-when-${n}`] = true
      }
    }
    // lengths in code points (class-validator's are no longer), patterns as class-validator's RegExp
    const ajv = new Ajv({ strict: false, allErrors: false, unicodeRegExp: false })
    checks.forEach(({ type, check }, n) => ajv.addKeyword({ keyword: `x-check-${n}`, type, schemaType: 'boolean', validate: (_: boolean, value: unknown) => check(value) }))
    whens.forEach((when, n) => ajv.addKeyword({ keyword: `x-when-${n}`, type: 'object', schemaType: 'boolean', validate: (_: boolean, object: Row) => when(object) }))
    for (const schema of Object.values(schemas)) ajv.addSchema(schema)
    validators = new Map(Object.keys(schemas).map((name) => [name, ajv.getSchema(name)!]))
  }
  return validators.get(cls.name)
}

const isPlainObject = (v: object): boolean => Object.getPrototypeOf(v) === Object.prototype

/**
 * The instance validateBody would answer for `body` (an object), when the quick path can tell that
 * the body is valid; null when it cannot (the body may still be valid: the full way decides).
 */
export function acceptedAsIs<T extends object>(cls: new () => T, body: object): T | null {
  if (!isPlainObject(body) || !fit(body, 0)) return null
  const validate = validatorOf(cls)
  if (!validate || !validate(body)) return null
  return toInstance(cls, body as Row)
}
