import { defaultMetadataStorage } from 'class-transformer/cjs/storage'
import { TransformationType } from 'class-transformer'
import { getMetadataStorage, ValidationArguments, ValidationTypes } from 'class-validator'
import type { ValidationMetadata } from 'class-validator/types/metadata/ValidationMetadata'
import type { ConstraintMetadata } from 'class-validator/types/metadata/ConstraintMetadata'

/**
 * The quick path of validateBody (validate.ts) for a body that is valid, which is nearly every body
 * of an import: it does what plainToInstance and validateSync do with validateBody's options, with
 * the same metadata and the same constraint functions (class-validator's own isEmail, isURL, …),
 * without the error objects, argument objects and metadata lookups that made them most of an
 * import's time and garbage. It only ever accepts: at the first check that fails, or anything it
 * does not do exactly as they do (a key `__proto__`, a value that is not JSON, a decorator kind it
 * does not know, an async constraint), it answers null and the body goes the full way, which then
 * words the errors. So a body it accepts is one the full way accepts, as the same instance
 * (test/accepted-as-is.test.ts checks both on generated bodies).
 */

type Row = Record<string, unknown>
type Class = new () => object

/** NUL or a lone surrogate (as unfitInput in validate.ts): the full way names the field. */
const NOT_TEXT = /\u0000|\p{Cs}/u
/** Deeper than any request class nests, and well under validate.ts's MAX_DEPTH. */
const MAX_DEPTH = 8

/** A value the quick path does not decide. */
const UNDECIDED = Symbol('undecided')

/** The arguments validateSync hands a constraint: one per check, its object and value set before each call. */
type Arguments = ValidationArguments

interface PropertyPlan {
  conditionals: ValidationMetadata[]
  /** IS_DEFINED ones first, then the others: the order validateSync checks them in. */
  customs: { metadata: ValidationMetadata; constraints: ConstraintMetadata[]; args: Arguments }[]
  nested: ValidationMetadata[]
}

interface ClassPlan {
  properties: Map<string, PropertyPlan>
}

const KNOWN_TYPES = new Set<string>([
  ValidationTypes.CUSTOM_VALIDATION, ValidationTypes.NESTED_VALIDATION, ValidationTypes.CONDITIONAL_VALIDATION,
  ValidationTypes.WHITELIST, ValidationTypes.IS_DEFINED,
])

/** Validation plans by class and target schema (a nested object is validated with its parent's name as schema). */
const plans = new Map<Function, Map<string | undefined, ClassPlan | null>>()

function planOf(cls: Function, targetSchema: string | undefined): ClassPlan | null {
  let bySchema = plans.get(cls)
  if (!bySchema) plans.set(cls, (bySchema = new Map()))
  if (bySchema.has(targetSchema)) return bySchema.get(targetSchema)!
  const storage = getMetadataStorage()
  // as validateSync asks for them: no groups, `always` off
  const metadatas = storage.getTargetValidationMetadatas(cls, targetSchema as string, false, false, undefined)
  let plan: ClassPlan | null = null
  if (metadatas.length && metadatas.every((m) => KNOWN_TYPES.has(m.type))) {
    const grouped = storage.groupByPropertyName(metadatas)
    const properties = new Map<string, PropertyPlan>()
    for (const name of Object.keys(grouped)) {
      const all = grouped[name]
      const defined = all.filter((m) => m.type === ValidationTypes.IS_DEFINED)
      const rest = all.filter((m) => m.type !== ValidationTypes.IS_DEFINED && m.type !== ValidationTypes.WHITELIST)
      const withConstraints = (m: ValidationMetadata): PropertyPlan['customs'][number] => ({
        metadata: m,
        constraints: storage.getTargetValidatorConstraints(m.constraintCls),
        args: { targetName: '', property: m.propertyName, object: {}, value: undefined, constraints: m.constraints },
      })
      properties.set(name, {
        conditionals: rest.filter((m) => m.type === ValidationTypes.CONDITIONAL_VALIDATION),
        customs: [...defined, ...rest.filter((m) => m.type === ValidationTypes.CUSTOM_VALIDATION)].map(withConstraints),
        nested: rest.filter((m) => m.type === ValidationTypes.NESTED_VALIDATION),
      })
    }
    plan = { properties }
  }
  bySchema.set(targetSchema, plan)
  return plan
}

/** Classes plainToInstance fills key by key with nothing of its own: no Expose, Exclude, Transform, methods or initial values. */
const plainClasses = new Map<Function, boolean>()

function isPlainClass(cls: Class): boolean {
  let plain = plainClasses.get(cls)
  if (plain === undefined) {
    plain = defaultMetadataStorage.getExposedMetadatas(cls).length === 0 && defaultMetadataStorage.getExcludedMetadatas(cls).length === 0
    for (let proto = cls.prototype; plain && proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
      plain = Object.getOwnPropertyNames(proto).every((p) => p === 'constructor')
    }
    plain &&= Object.keys(new cls()).length === 0
    const plan = plain ? planOf(cls, undefined) : null
    plain &&= plan !== null && [...plan.properties.keys()].every((p) => defaultMetadataStorage.findTransformMetadatas(cls, p, TransformationType.PLAIN_TO_CLASS).length === 0)
    plainClasses.set(cls, plain)
  }
  return plain
}

const isPlainObject = (v: object): boolean => Object.getPrototypeOf(v) === Object.prototype

/** plainToInstance(cls, plain) for JSON-like values, or UNDECIDED. */
function instanceOf(cls: Class, plain: Row, depth: number): object | typeof UNDECIDED {
  if (depth > MAX_DEPTH || !isPlainClass(cls)) return UNDECIDED
  const declared = planOf(cls, undefined)!.properties
  const out = new cls() as Row
  for (const key of Object.keys(plain)) {
    // an undeclared key fails the whitelist; `__proto__` and `constructor` plainToInstance skips
    if (!declared.has(key) || key === '__proto__' || key === 'constructor') return UNDECIDED
    const typeMetadata = defaultMetadataStorage.findTypeMetadata(cls, key)
    let type: unknown
    if (typeMetadata) {
      if (typeMetadata.options?.discriminator) return UNDECIDED
      type = typeMetadata.typeFunction ? typeMetadata.typeFunction({ newObject: out, object: plain, property: key }) : typeMetadata.reflectedType
      if (typeof type !== 'function' || !isPlainClass(type as Class)) return UNDECIDED
      // plainToInstance makes a Set of a list declared as one
      if (Array.isArray(plain[key]) && typeMetadata.reflectedType === Set) return UNDECIDED
    }
    const value = valueOf(plain[key], type as Class | undefined, depth)
    if (value === UNDECIDED) return UNDECIDED
    out[key] = value
  }
  return out
}

function valueOf(value: unknown, type: Class | undefined, depth: number): unknown {
  if (value === null || value === undefined || typeof value === 'boolean' || typeof value === 'number') return value
  if (typeof value === 'string') return NOT_TEXT.test(value) ? UNDECIDED : value
  if (Array.isArray(value)) {
    // a hole (plainToInstance's forEach leaves it out), or a key beside the items (unfitInput reads it)
    if (Object.keys(value).length !== value.length) return UNDECIDED
    const out: unknown[] = []
    for (let i = 0; i < value.length; i++) {
      if (!(i in value)) return UNDECIDED
      const item: unknown = value[i]
      if (Array.isArray(item)) return UNDECIDED
      const v = valueOf(item, type, depth + 1)
      if (v === UNDECIDED) return UNDECIDED
      out.push(v)
    }
    return out
  }
  if (typeof value === 'object' && type && isPlainObject(value)) return instanceOf(type, value as Row, depth + 1)
  return UNDECIDED
}

const isPromise = (v: unknown): boolean => v !== null && typeof v === 'object' && typeof (v as { then?: unknown }).then === 'function'

/** validateSync(object) with validateBody's options has nothing to say (true), or the quick path cannot tell (false). */
function valid(object: Row, targetSchema: string | undefined): boolean {
  const plan = planOf(object.constructor, targetSchema)
  if (!plan) return false
  for (const key of Object.keys(object)) if (!plan.properties.has(key)) return false
  for (const [name, property] of plan.properties) {
    const value = object[name]
    let canValidate = true
    for (const c of property.conditionals) canValidate = Boolean(c.constraints[0](object, value)) && canValidate
    if (!canValidate) continue
    for (const { metadata, constraints, args } of property.customs) {
      if (metadata.validateIf && !metadata.validateIf(object, value)) continue
      args.targetName = object.constructor.name
      args.object = object
      args.value = value
      for (const constraint of constraints) {
        if (constraint.async) continue // validateSync leaves async constraints out
        const values = metadata.each && Array.isArray(value) ? value : [value]
        for (const v of values) {
          const ok = constraint.instance.validate(v, args)
          if (isPromise(ok) || !ok) return false
        }
      }
    }
    if (value !== undefined && property.nested.length && !validNested(value, property.nested)) return false
  }
  return true
}

function validNested(value: unknown, nested: ValidationMetadata[]): boolean {
  for (const metadata of nested) {
    if (value instanceof Set || value instanceof Map) return false
    if (Array.isArray(value)) {
      for (const item of value) if (item !== undefined && !validNested(item, nested)) return false
    } else if (value instanceof Object) {
      if (!valid(value as Row, typeof metadata.target === 'string' ? metadata.target : metadata.target.name)) return false
    } else {
      return false
    }
  }
  return true
}

/**
 * The instance validateBody would answer for `body` (an object), when the quick path can tell that
 * the body is valid; null when it cannot (the body may still be valid: the full way decides).
 */
export function acceptedAsIs<T extends object>(cls: new () => T, body: object): T | null {
  if (!isPlainObject(body)) return null
  const instance = instanceOf(cls, body as Row, 0)
  if (instance === UNDECIDED || !valid(instance as Row, undefined)) return null
  return instance as T
}
