import { validationMetadatasToSchemas } from 'class-validator-jsonschema'
import { getMetadataStorage, isEmail, IS_EMAIL, IS_ISO31661_ALPHA_2, IS_ISO8601, IS_URL } from 'class-validator'
import { nestedClassOf } from '../dto/shape'

export type JsonSchema = Record<string, any>

/**
 * Where class-validator-jsonschema finds the class of a nested field: the field's own declaration
 * (`Nested(() => ContactWrite)`, src/dto/shape.ts), through the option it documents for that
 * (`classTransformerMetadataStorage`), so that no class-transformer is needed.
 */
const NESTED_TYPES = {
  findTypeMetadata: (target: Function, property: string) => {
    const nested = nestedClassOf(target, property)
    return nested ? { target, propertyName: property, typeFunction: () => nested, reflectedType: undefined, options: {} } : undefined
  },
  getExposedMetadatas: (): never[] => [],
  findExcludeMetadata: (): undefined => undefined,
}

/** A converter of class-validator-jsonschema: a check's metadata to its JSON Schema. */
export type Converter = JsonSchema | ((meta: { constraints?: any[]; propertyName: string; target: Function | string }) => JsonSchema | undefined)

/**
 * The request classes' schemas with `converters` for their checks: each class under its name, an
 * optional field (IsOptional, or checked only under a condition) nullable, references `Contact#`.
 */
export function classSchemas(converters: Record<string, Converter>): Record<string, JsonSchema> {
  // the dto module must be loaded so that its decorators have run
  require('../dto/register')
  const generated = validationMetadatasToSchemas({
    refPointerPrefix: '',
    classTransformerMetadataStorage: NESTED_TYPES,
    classValidatorMetadataStorage: getMetadataStorage(),
    additionalConverters: converters,
  } as any) as Record<string, JsonSchema>
  const out: Record<string, JsonSchema> = {}
  for (const [name, schema] of Object.entries(generated)) {
    const required: string[] = schema.required ?? []
    const properties: Record<string, JsonSchema> = {}
    for (const [prop, s] of Object.entries<JsonSchema>(schema.properties ?? {})) {
      properties[prop] = required.includes(prop) ? fixRefs(s) : nullable(fixRefs(s))
    }
    out[name] = { $id: name, type: 'object', properties, required, additionalProperties: false }
    if (!required.length) delete out[name].required
  }
  return out
}

/**
 * JSON Schemas of the request classes in src/dto, generated from their class-validator metadata,
 * so that validation and documentation come from one declaration. Each schema is registered with
 * Fastify under its class name; references between them read `Contact#`.
 */
export function requestSchemas(): Record<string, JsonSchema> {
  return classSchemas({
    [IS_ISO31661_ALPHA_2]: { type: 'string', pattern: '^[A-Z]{2}$' },
    [IS_ISO8601]: { type: 'string', format: 'date' },
    // class-validator's IsEmail takes addresses outside ASCII (hudateljén@…): RFC 6531, which
    // JSON Schema calls idn-email; `email` would be ASCII only
    [IS_EMAIL]: { type: 'string', format: 'idn-email' },
    // JSON Schema's `url` needs a scheme; a website may be a bare host name (IsUrl without
    // require_protocol, "Minupplevelse.se"), which the write validation checks, so it gets no format
    [IS_URL]: (meta) => (meta.constraints?.[0]?.require_protocol ? { type: 'string', format: 'url' } : { type: 'string' }),
  })
}

/**
 * JSON Schema's `idn-email` as the service checks it (class-validator's IsEmail): ajv-formats
 * knows only the ASCII `email`, so every Ajv that reads our schemas adds this one.
 */
export function addIdnEmailFormat(ajv: { addFormat(name: string, format: { type: 'string'; validate: (value: string) => boolean }): unknown }): void {
  // validator's isEmail throws (encodeURI) on a lone surrogate: such a string is no address
  ajv.addFormat('idn-email', { type: 'string', validate: (value: string) => { try { return isEmail(value) } catch { return false } } })
}

function fixRefs(s: JsonSchema): JsonSchema {
  const copy: JsonSchema = { ...s }
  if (typeof copy.$ref === 'string') copy.$ref = copy.$ref.replace(/#?$/, '#')
  if (copy.items) copy.items = fixRefs(copy.items)
  return copy
}

/** An optional field may be null: null clears it on writes, and reads show null for absent values. */
export function nullable(s: JsonSchema): JsonSchema {
  if (s.$ref) {
    const { $ref, ...rest } = s
    return { ...rest, anyOf: [{ $ref }, { type: 'null' }] }
  }
  if (s.anyOf) return s.anyOf.some((x: JsonSchema) => x.type === 'null') ? s : { ...s, anyOf: [...s.anyOf, { type: 'null' }] }
  if (Array.isArray(s.enum) && !s.enum.includes(null)) s = { ...s, enum: [...s.enum, null] }
  if (typeof s.type === 'string') return { ...s, type: [s.type, 'null'] }
  if (Array.isArray(s.type) && !s.type.includes('null')) return { ...s, type: [...s.type, 'null'] }
  return s
}

/** A field the view always shows (a default fills it): its write schema without null. */
export function nonNull(s: JsonSchema): JsonSchema {
  if (s.anyOf) {
    const rest = s.anyOf.filter((x: JsonSchema) => x.type !== 'null')
    const { anyOf: _anyOf, ...others } = s
    return rest.length === 1 ? { ...others, ...rest[0] } : { ...others, anyOf: rest }
  }
  let out = s
  if (Array.isArray(out.enum)) out = { ...out, enum: out.enum.filter((v: unknown) => v !== null) }
  if (Array.isArray(out.type)) {
    const types = out.type.filter((t: string) => t !== 'null')
    out = { ...out, type: types.length === 1 ? types[0] : types }
  }
  return out
}
