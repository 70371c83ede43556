import {
  ArrayMaxSize, ArrayUnique, IsArray, IsBoolean, IsEmail, IsIn, IsInt, IsISO31661Alpha2, IsISO8601, IsOptional, IsString,
  IsUrl, IsUUID, Matches, Max, MaxLength, Min, ValidateIf, ValidateNested,
} from 'class-validator'
import { JSONSchema } from 'class-validator-jsonschema'
import { recordConditional, recordShape, Refers } from './shape'

/**
 * Field decorators shared by the request classes, so that a kind of field (a name, a country, an
 * id list) is validated and documented the same way everywhere.
 */
type Decorator = PropertyDecorator

function compose(...decorators: Decorator[]): Decorator {
  return (target, key) => decorators.forEach((d) => d(target, key))
}

/** Optional fields accept null (clears the field on PUT and PATCH). */
const optional = (required: boolean): Decorator[] => (required ? [] : [IsOptional()])

/** A plain optional value (the kinds of field that record no more than that). */
const value = recordShape({ kind: 'value', required: false })

const doc = (description: string, example?: unknown): Decorator =>
  JSONSchema(example === undefined ? { description } : { description, examples: [example] }) as Decorator

export function Text(max: number, description: string, opts: { required?: boolean; example?: string } = {}): Decorator {
  const required = opts.required ?? false
  return compose(
    ...optional(required),
    IsString(),
    MaxLength(max),
    ...(required ? [Matches(/\S/, { message: '$property must not be blank' })] : []),
    doc(description, opts.example),
    recordShape({ kind: 'value', required }),
  )
}

export const Name = (description: string, example?: string): Decorator => Text(200, description, { required: true, example })

export const Email = (description: string): Decorator =>
  compose(IsOptional(), IsString(), MaxLength(254), IsEmail({}, { message: '$property must be an e-mail address' }), doc(description, 'dpo@example.se'), value)

export const Phone = (description: string): Decorator =>
  compose(IsOptional(), IsString(), MaxLength(50), Matches(/^\+?[0-9 ()\-./]{3,50}$/, { message: '$property must be a phone number (digits, spaces, + ( ) - . /)' }), doc(description, '+46 63 12 34 56'), value)

/** Upper case only, as the schema says: the ISO check alone also takes "se", which no view may hold. */
const COUNTRY_MESSAGE = '$property must be an ISO 3166-1 alpha-2 country code such as SE or US'
export const Country = (description: string, required = false): Decorator =>
  compose(...optional(required), IsString(), Matches(/^[A-Z]{2}$/, { message: COUNTRY_MESSAGE }), IsISO31661Alpha2({ message: COUNTRY_MESSAGE }), doc(description, 'SE'), recordShape({ kind: 'value', required }))

export const Url = (description: string): Decorator =>
  compose(IsOptional(), IsString(), MaxLength(1000), IsUrl({ require_protocol: true, protocols: ['http', 'https'] }, { message: '$property must be an http(s) URL' }), doc(description), value)

/**
 * A website: an http(s) URL, or a bare host name as privacy notices give it ("webbplatsen
 * Minupplevelse.se", "gäller för: 5dportalen.se"); adding a scheme would guess http or https.
 */
export const Website = (description: string): Decorator =>
  compose(
    IsOptional(),
    IsString(),
    MaxLength(1000),
    IsUrl({ require_protocol: false, protocols: ['http', 'https'] }, { message: '$property must be an http(s) URL or a host name such as example.se' }),
    doc(`${description}: an http(s) URL, or a host name as a privacy notice gives it`, 'https://example.se'),
    value,
  )

/** A calendar date, YYYY-MM-DD. */
export const DateOnly = (description: string): Decorator =>
  compose(
    IsOptional(),
    IsString(),
    Matches(/^\d{4}-\d{2}-\d{2}$/, { message: '$property must be a date as YYYY-MM-DD' }),
    IsISO8601({ strict: true, strictSeparator: true }, { message: '$property must be a valid calendar date' }),
    doc(description, '2026-11-22'),
    value,
  )

/** ISO 8601 duration: P36M, P7Y, P1Y6M, P30D, PT24H. */
export const ISO_DURATION = /^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+S)?)?$/
export const Duration = (description: string): Decorator =>
  compose(IsOptional(), IsString(), MaxLength(40), Matches(ISO_DURATION, { message: '$property must be an ISO 8601 duration such as P36M or P7Y' }), doc(description, 'P36M'), value)

export function OneOf(values: readonly string[], description: string, required = false): Decorator {
  return compose(...optional(required), IsString(), IsIn(values as string[], { message: `$property must be one of: ${values.join(', ')}` }), doc(description), recordShape({ kind: 'value', required }))
}

/** The id of another record: which kind, and the view's name for it resolved. */
export const Id = (description: string, refers: Refers, required = true): Decorator =>
  compose(...optional(required), IsUUID('all', { message: '$property must be a UUID' }), doc(description), recordShape({ kind: 'ref', required, ...refers }))

/** A legal basis by id, or by its stable code (`A6-1-b`, `SE-DSL-3-10`, or the workspace's own), in any case (`a6-1-b`). */
export const LEGAL_BASIS_REFERENCE = /^(?:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[A-Za-z][A-Za-z0-9]*(?:-[A-Za-z0-9]+)*)$/

/** Legal bases by id or code, without repeats; codes are resolved to ids when the record is stored. */
export const LegalBasisRefs = (description: string): Decorator =>
  compose(
    IsOptional(), IsArray(), ArrayMaxSize(100), ArrayUnique({ message: '$property must not repeat a legal basis' }),
    IsString({ each: true }), MaxLength(64, { each: true }),
    Matches(LEGAL_BASIS_REFERENCE, { each: true, message: '$property must hold legal-basis ids or codes such as A6-1-b' }),
    doc(`${description}: ids, or the catalogue's codes (A6-1-b, A9-2-h, SE-DSL-3-10, …), which are stored as the ids they name`, ['A6-1-b']),
    recordShape({ kind: 'refs', required: false, to: 'legal-basis', as: 'legalBases' }),
  )

/** A list of ids of other register records, without repeats. */
export const Ids = (description: string, refers: Refers): Decorator =>
  compose(IsOptional(), IsArray(), ArrayMaxSize(500), ArrayUnique({ message: '$property must not repeat an id' }), IsUUID('all', { each: true, message: '$property must hold UUIDs' }), doc(description), recordShape({ kind: 'refs', required: false, ...refers }))

export const Strings = (max: number, description: string): Decorator =>
  compose(IsOptional(), IsArray(), ArrayMaxSize(100), IsString({ each: true }), MaxLength(max, { each: true }), doc(description), recordShape({ kind: 'strings', required: false }))

/** A whole number of things, 0 up to what a 32-bit integer column holds. */
export const Count = (description: string, example?: number): Decorator =>
  compose(
    IsOptional(),
    IsInt({ message: '$property must be a whole number such as 1200' }),
    Min(0, { message: '$property must be 0 or more' }),
    Max(2147483647, { message: '$property must be at most 2147483647' }),
    doc(description, example),
    value,
  )

export const Flag = (description: string): Decorator => compose(IsOptional(), IsBoolean(), doc(description), recordShape({ kind: 'flag', required: false }))

export function Nested(type: () => Function, description: string, opts: { each?: boolean; required?: boolean } = {}): Decorator {
  const each = opts.each ?? false
  return compose(
    ...optional(opts.required ?? false),
    ...(each ? [IsArray(), ArrayMaxSize(500)] : []),
    ValidateNested({ each }),
    doc(description),
    recordShape({ kind: 'nested', required: opts.required ?? false, nested: type, each }),
  )
}

/** Validate only when a sibling condition holds (e.g. specialCategory when classification is special). */
export const When = (condition: (object: any) => boolean): Decorator => compose(ValidateIf(condition), recordConditional(condition))
