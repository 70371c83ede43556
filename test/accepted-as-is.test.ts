import 'reflect-metadata'
import { expect } from 'chai'
import fc from 'fast-check'
import { isDeepStrictEqual } from 'node:util'
import { acceptedAsIs } from '../src/dto/accepted-as-is'
import { validateFully } from '../src/dto/validate'
import { RESOURCES } from '../src/register/records/model'
import { shapeOf } from '../src/dto/shape'
import { CREATE_EXAMPLES } from '../routes/examples'
import { DATA_CLASSIFICATIONS, SPECIAL_CATEGORIES } from '../src/register/records/catalogue'

type Row = Record<string, any>

/**
 * validateBody's quick path (src/dto/accepted-as-is.ts) may only accept a body that the full way
 * (plainToInstance and class-validator) accepts, as the same instance; it may leave any body to
 * the full way. Checked on the request examples of every resource and on bodies made from them by
 * random edits: fields replaced by values valid or not for them, removed, unknown ones added.
 */

const UUID = '8f7a9c8e-1b2d-4c3e-9f4a-5b6c7d8e9f01'
const VALUES: unknown[] = [
  null, undefined, true, false, 0, 1.5, -1, 2147483648, '', ' ', 'x', 'Exempel AB', 'x'.repeat(201), 'x'.repeat(1001), 'SE', 'se', 'XX', 'US',
  UUID, UUID.toUpperCase(), 'not-a-uuid', 'https://exempel.se', 'ftp://exempel.se', 'exempel.se', 'a@b.se', 'hudateljén@exempel.se', 'not an address',
  '+46 63 12 34 56', '2026-02-28', '2026-02-30', '2026-2-28', 'P36M', 'P', 'A6-1-b', 'controller', 'processor', 'draft', 'technical',
  'a\u0000b', '\ud800', [], [UUID], [UUID, UUID], ['x'], [null], [[UUID]], ['A6-1-b'], {}, { name: 'x' }, { name: 'x', email: 'a@b.se' },
  { purposeId: UUID }, { purposeId: UUID, legalBasisIds: ['A6-1-b'] }, [{ purposeId: UUID }], [{ retentionRuleId: UUID, dataCategoryIds: [UUID] }],
  [{ country: 'US', mechanism: 'A46-2-c' }], { required: true, status: 'done' }, new Date(0), new Set([UUID]),
  ...DATA_CLASSIFICATIONS, ...SPECIAL_CATEGORIES,
]
const NEW_KEYS = ['unknown', 'constructor', 'hasOwnProperty', '__proto__', 'toString']

interface Edit {
  target: number
  key: number
  value: number
  remove: boolean
  fresh: boolean
}

/** The objects and arrays of a body, itself first. */
function containers(value: unknown, out: Row[] = []): Row[] {
  if (value && typeof value === 'object' && (Array.isArray(value) || Object.getPrototypeOf(value) === Object.prototype)) {
    out.push(value as Row)
    for (const child of Object.values(value)) containers(child, out)
  }
  return out
}

function edited(example: Row, edits: Edit[]): Row {
  const body = structuredClone(example)
  for (const e of edits) {
    const all = containers(body)
    const target = all[e.target % all.length]
    const keys = Object.keys(target)
    const key = e.fresh || !keys.length ? NEW_KEYS[e.key % NEW_KEYS.length] : keys[e.key % keys.length]
    if (e.remove) delete target[key]
    // defineProperty: a key `__proto__` as JSON.parse makes it, an own property
    else Object.defineProperty(target, key, { value: structuredCloneable(VALUES[e.value % VALUES.length]), enumerable: true, writable: true, configurable: true })
  }
  return body
}

const structuredCloneable = (v: unknown): unknown => (v instanceof Set ? new Set(v) : v instanceof Date ? new Date(v) : v && typeof v === 'object' ? structuredClone(v) : v)

const examples = RESOURCES.flatMap((def) => Object.values(CREATE_EXAMPLES[def.type] ?? {}).map((e) => ({ def, body: e.value as Row })))

function fully(cls: new () => object, body: Row): object | null {
  try {
    return validateFully(cls, body)
  } catch {
    return null
  }
}

describe('validation: the quick path accepts only what the full way accepts', () => {
  it('takes every request example, as the same instance', () => {
    expect(examples.length).to.be.greaterThan(8)
    for (const { def, body } of examples) {
      const quick = acceptedAsIs(def.writeClass, body)
      expect(quick, def.type).to.not.equal(null)
      expect(isDeepStrictEqual(quick, fully(def.writeClass, body)), def.type).to.equal(true)
    }
  })

  it('agrees with the full way when any declared field, nested ones too, takes any of the values', () => {
    let accepted = 0
    for (const { def, body: example } of examples) {
      const paths: { cls: Function; at: (body: Row) => Row }[] = [{ cls: def.writeClass, at: (b) => b }]
      for (const f of shapeOf(def.writeClass)) {
        if (f.kind !== 'nested' || !example[f.name]) continue
        paths.push({ cls: f.nested!(), at: (b) => (f.each ? b[f.name][0] : b[f.name]) })
      }
      for (const { cls, at } of paths) {
        if (!at(example)) continue
        for (const field of shapeOf(cls)) {
          for (const value of VALUES) {
            const body = structuredClone(example)
            at(body)[field.name] = structuredCloneable(value)
            const quick = acceptedAsIs(def.writeClass, body)
            if (quick === null) continue
            accepted++
            const full = fully(def.writeClass, body)
            expect(full, `${def.type} ${field.name} ${JSON.stringify(value)}`).to.not.equal(null)
            expect(isDeepStrictEqual(quick, full), `${def.type} ${field.name} ${JSON.stringify(value)}`).to.equal(true)
          }
        }
      }
    }
    expect(accepted).to.be.greaterThan(300)
  })

  it('agrees with the full way on edited bodies', () => {
    let accepted = 0
    let left = 0
    fc.assert(fc.property(
      fc.nat(examples.length - 1),
      fc.array(fc.record({ target: fc.nat(), key: fc.nat(), value: fc.nat(), remove: fc.boolean(), fresh: fc.boolean() }), { minLength: 1, maxLength: 3 }),
      (which, edits) => {
        const { def, body: example } = examples[which]
        const body = edited(example, edits)
        const quick = acceptedAsIs(def.writeClass, body)
        const full = fully(def.writeClass, body)
        if (quick === null) {
          left++
          return
        }
        accepted++
        expect(full, `${def.type} ${JSON.stringify(body)}`).to.not.equal(null)
        expect(isDeepStrictEqual(quick, full), `${def.type} ${JSON.stringify(body)}`).to.equal(true)
      },
    ), { numRuns: 3000 })
    // both ways were taken often enough for the property to say something
    expect(accepted).to.be.greaterThan(300)
    expect(left).to.be.greaterThan(300)
  })
})
