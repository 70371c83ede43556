import AjvCompiler from '@fastify/ajv-compiler'
import fastJsonStringify from 'fast-json-stringify'
import type Ajv from 'ajv'
import { STRICT_FORMATS } from '../schemas/formats'

/**
 * Fastify's schema compilers, with the compiled functions kept per process.
 *
 * Compiling a response serialiser is the larger part of building the app (seconds of CPU for the
 * register's routes). A compiled function depends only on the route's schema, the shared schemas
 * and the options, so an instance built with the same schemas (the tests build dozens; a restart
 * of the app in-process builds another) takes the function already made instead of compiling it
 * again. The keys are made of JSON texts, numbered; fastify asks for a compiler once per plugin
 * context, each time with a new object holding the same shared schemas, so each schema object is
 * turned into text once (`textOf`), not the whole set again at every ask (90 ms of processor per app).
 */

type Compiled = (...args: any[]) => unknown
interface RouteSchema {
  schema: unknown
  httpPart?: string
}

const compiledSets = new Map<string, Map<string, Compiled>>()

/** Each distinct JSON text of a schema, numbered: keys hold the number, not texts of many kilobytes. */
const textNumbers = new Map<string, number>()
const numbers = new WeakMap<object, number>()
/** The number of a value's JSON text, made once per object (schemas are not changed once fastify has them). */
function textOf(value: unknown): number {
  const known = typeof value === 'object' && value !== null ? numbers.get(value) : undefined
  if (known !== undefined) return known
  const text = JSON.stringify(value) ?? ''
  let n = textNumbers.get(text)
  if (n === undefined) textNumbers.set(text, (n = textNumbers.size))
  if (typeof value === 'object' && value !== null) numbers.set(value, n)
  return n
}

/** The shared schemas' key: their names and texts, in the order given (that of fastify's store). */
function sharedKey(shared: unknown): string {
  if (typeof shared !== 'object' || shared === null) return String(textOf(shared))
  return Object.entries(shared).map(([name, schema]) => `${JSON.stringify(name)}:${textOf(schema)}`).join(',')
}

function cached(kind: string, shared: unknown, options: unknown, compile: (route: RouteSchema) => Compiled) {
  const setKey = `${kind}\u0000${sharedKey(shared)}\u0000${JSON.stringify(options) ?? ''}`
  let compiled = compiledSets.get(setKey)
  if (!compiled) compiledSets.set(setKey, (compiled = new Map()))
  const set = compiled
  return (route: RouteSchema): Compiled => {
    const key = `${route.httpPart ?? ''}\u0000${textOf(route.schema)}`
    let fn = set.get(key)
    if (!fn) set.set(key, (fn = compile(route)))
    return fn
  }
}

/** Response serialisers, as @fastify/fast-json-stringify-compiler builds them, compiled once per schema. */
export function buildSerializer(externalSchemas: Record<string, { $id?: string }> | undefined, serializerOpts: object) {
  return cached('serializer', externalSchemas, serializerOpts, ({ schema }) => {
    let shared = externalSchemas
    const id = (schema as { $id?: string }).$id
    // a route's own schema must not also be among the shared ones it is compiled with
    if (shared && id && shared[id]) {
      shared = { ...shared }
      delete shared[id]
    }
    return fastJsonStringify(schema as object, { ...serializerOpts, schema: shared } as any) as unknown as Compiled
  })
}

/**
 * Validators of path, query string and headers, compiled once per schema. Request bodies are
 * validated by class-validator in the register services (one declaration per shape, see
 * src/dto), so Ajv accepts any body here. `date-time` is ours (src/schemas/formats.ts): ajv-formats
 * lets through moments `Date` cannot hold (a leap second, years beyond 9999 in UTC), which the
 * services then read as Invalid Date.
 */
export function buildValidator(externalSchemas: unknown, ajvOptions: unknown) {
  const options = ajvOptions as { onCreate?: (ajv: Ajv) => void }
  // Ajv is made only when a schema is not compiled yet: making one adds and checks every shared
  // schema against the meta-schema (350 ms of processor), which a second app in a process (the
  // tests build hundreds) would do only to find every validator already compiled
  let built: ((route: RouteSchema) => Compiled) | undefined
  const build = (route: RouteSchema): Compiled => {
    built ??= (AjvCompiler() as any)(externalSchemas, {
      ...options,
      onCreate: (ajv: Ajv) => {
        for (const [name, validate] of Object.entries(STRICT_FORMATS)) ajv.addFormat(name, { type: 'string', validate })
        options?.onCreate?.(ajv)
      },
    })
    return built!(route)
  }
  const acceptBody: Compiled = () => true
  return cached('validator', externalSchemas, ajvOptions, (route) => (route.httpPart === 'body' ? acceptBody : build(route)))
}
