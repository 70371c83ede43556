/**
 * The shape of each request class, in declaration order: which fields hold plain values, which
 * nest other classes, and which name other records (of what type, and under what name the view
 * shows them resolved). The field decorators record it as they validate, so that the write body's
 * one declaration also drives the stored columns, the view and its schema, the reference checks
 * and the import's paths (src/register/records/model.ts, src/register/records/view-schemas.ts).
 */

/** The kinds of record of the register, as references name them. */
export type RecordType =
  | 'controller' | 'processor' | 'purpose' | 'legal-basis' | 'data-subject-category' | 'data-category' | 'recipient'
  | 'retention-rule' | 'security-measure' | 'processing-activity'

export type FieldKind =
  /** A string or number stored as it is. */
  | 'value'
  /** true or false. */
  | 'flag'
  /** A list of strings stored as one JSON column. */
  | 'strings'
  /** An object of another request class, or a list of them (`each`). */
  | 'nested'
  /** The id of another record. */
  | 'ref'
  /** A list of ids of other records. */
  | 'refs'

/** What a reference field names, and where the view shows it resolved. */
export interface Refers {
  to: RecordType
  /** The view's field: `controllerId` → `controller`, `processorIds` → `processors`. */
  as: string
  /**
   * The ids must be among the record's own list of that name (a retention rule's data
   * categories are the activity's): checked by the record's rules, not as references.
   */
  within?: string
}

export interface FieldShape extends Partial<Refers> {
  name: string
  kind: FieldKind
  required: boolean
  nested?: () => Function
  each?: boolean
}

const shapes = new Map<Function, FieldShape[]>()

/** A decorator that records the field's shape on its class. */
export function recordShape(shape: Omit<FieldShape, 'name'>): PropertyDecorator {
  return (target, key) => {
    const cls = target.constructor
    const fields = shapes.get(cls) ?? []
    fields.push({ ...shape, name: String(key) })
    shapes.set(cls, fields)
  }
}

/** The fields of a request class in the order they are declared. */
export function shapeOf(cls: Function): FieldShape[] {
  const fields = shapes.get(cls)
  if (!fields) throw new Error(`${cls.name} declares no fields`)
  return fields
}

/** A field path and id for every reference a write body makes, in the order of its fields. */
export function referencesIn(cls: Function, body: Record<string, unknown>, prefix = ''): { type: RecordType; id: string; field: string }[] {
  const out: { type: RecordType; id: string; field: string }[] = []
  for (const f of shapeOf(cls)) {
    const value = body[f.name]
    if (value === null || value === undefined) continue
    const field = prefix + f.name
    if (f.kind === 'ref' && f.to) out.push({ type: f.to, id: value as string, field })
    else if (f.kind === 'refs' && f.to && !f.within) (value as string[]).forEach((id, i) => out.push({ type: f.to!, id, field: `${field}[${i}]` }))
    else if (f.kind === 'nested') {
      const nested = f.nested!()
      if (f.each) (value as Record<string, unknown>[]).forEach((item, i) => out.push(...referencesIn(nested, item, `${field}[${i}].`)))
      else out.push(...referencesIn(nested, value as Record<string, unknown>, `${field}.`))
    }
  }
  return out
}

/** The class of a nested field (`Nested(() => ContactWrite)`), if the field nests one. */
export function nestedClassOf(cls: Function, property: string): Function | undefined {
  const field = shapes.get(cls)?.find((f) => f.name === property && f.kind === 'nested')
  return field?.nested!()
}

/** Fields validated only when a condition on their object holds (`When`), by class. */
const conditionals = new Map<Function, Map<string, (object: any) => boolean>>()

/** A decorator that records that the field is checked only when `condition` holds (see `When`). */
export function recordConditional(condition: (object: any) => boolean): PropertyDecorator {
  return (target, key) => {
    const fields = conditionals.get(target.constructor) ?? new Map()
    fields.set(String(key), condition)
    conditionals.set(target.constructor, fields)
  }
}

/** The fields checked only under a condition, with it, by the name of their request class. */
export const conditionalFields = (): Map<string, ReadonlyMap<string, (object: any) => boolean>> =>
  new Map([...conditionals].map(([cls, fields]) => [cls.name, fields]))

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype

/** A copy of a value of a body: its lists and plain objects copied, nested fields as their classes. */
function copied(value: unknown, type: Function | undefined): unknown {
  // by index: an array may carry keys of its own (`constructor`), which map would follow
  if (Array.isArray(value)) return Array.from({ length: value.length }, (_, i) => copied(value[i], type))
  if (isPlainObject(value)) return type ? toInstance(type as new () => object, value) : Object.fromEntries(Object.entries(value).map(([k, v]) => [k, copied(v, undefined)]))
  return value
}

/**
 * A write body as an instance of its request class, each nested object an instance of its own
 * (the declared `Nested` class), as class-validator validates it. Keys `__proto__` and `constructor`
 * are left out (they would reach the prototype); every other key is kept, for the whitelist to name.
 */
export function toInstance<T extends object>(cls: new () => T, plain: Record<string, unknown>): T {
  const out = new cls() as Record<string, unknown>
  for (const key of Object.keys(plain)) {
    if (key === '__proto__' || key === 'constructor') continue
    out[key] = copied(plain[key], nestedClassOf(cls, key))
  }
  return out as T
}
