import { createHash, createHmac, hash, randomBytes } from 'node:crypto'

/**
 * Hash scheme 2 of the history chain (docs/verifying-history.md): an entry's hash covers salted
 * commitments of its values, not the values. Every string leaf of the state, and the actor, is
 * committed as SHA-256(salt ‖ value); the salts are kept apart from the history (history_salts),
 * so that a value can be erased and its salt deleted while the hash still follows from what is
 * left: the redacted leaf's commitment, kept with the entry. A salt is HMAC-SHA256(key, path) of a
 * random key per entry, so an entry costs one stored key; a redaction writes the remaining salts
 * out and deletes the key, so that the erased value cannot be confirmed by guessing.
 */

/** What stands where an erased value was, in storage and in English outputs. */
export const REDACTED = '[redacted]'

/** The path of the actor among an entry's committed leaves (state leaves have JSON Pointers, which start with "/" or are ""). */
export const ACTOR_PATH = 'actor'

/** What an entry's scheme-2 hash needs besides its content: its salts and the commitments of erased leaves. */
export interface EntrySalts {
  /** The entry's salt key (hex, 32 bytes); null once a redaction has deleted it. */
  saltKey?: string | null
  /** The salts written out when the key was deleted: path → salt (hex). */
  salts?: Record<string, string> | null
  /** The erased leaves: path → the commitment of the value that was there. */
  redacted?: Record<string, string> | null
}

export const newSaltKey = (): string => randomBytes(32).toString('hex')

/** The salt of one leaf: HMAC-SHA256 keyed with the entry's key over the leaf's path (hex). */
export const leafSalt = (key: string, path: string): string => createHmac('sha256', Buffer.from(key, 'hex')).update(path, 'utf8').digest('hex')

/** SHA-256 over the salt's 32 bytes followed by the value's UTF-8 bytes (hex). */
export const commitment = (salt: string, value: string): string => createHash('sha256').update(Buffer.from(salt, 'hex')).update(value, 'utf8').digest('hex')

/**
 * The salts of one entry's leaves, fast: HMAC-SHA256 (RFC 2104) computed with one-shot hashes over
 * the key's inner and outer pads, prepared once per entry (the hash of every new entry commits to
 * every string leaf, so this is on the write path). Equal to leafSalt.
 */
class SaltKey {
  private readonly inner: Buffer
  private readonly outer: Buffer

  constructor(key: string) {
    const k = Buffer.alloc(64)
    Buffer.from(key, 'hex').copy(k)
    this.inner = Buffer.from(k.map((b) => b ^ 0x36))
    this.outer = Buffer.from(k.map((b) => b ^ 0x5c))
  }

  /** The commitment of a value at a path: SHA-256(salt ‖ value). */
  commit(path: string, value: string): string {
    const innerHash = oneShot(Buffer.concat([this.inner, Buffer.from(path, 'utf8')]))
    const salt = oneShot(Buffer.concat([this.outer, innerHash]))
    return oneShot(Buffer.concat([salt, Buffer.from(value, 'utf8')])).toString('hex')
  }
}

const oneShot = (data: Buffer): Buffer => (typeof hash === 'function' ? hash('sha256', data, 'buffer') as unknown as Buffer : createHash('sha256').update(data).digest())

const escapeToken = (key: string): string => key.replace(/~/g, '~0').replace(/\//g, '~1')

/** A copy of a JSON value with every string leaf (not keys) replaced by f(JSON Pointer, value). */
export function mapLeaves(value: unknown, f: (path: string, v: string) => string, path = ''): unknown {
  if (typeof value === 'string') return f(path, value)
  if (Array.isArray(value)) return value.map((v, i) => mapLeaves(v, f, `${path}/${i}`))
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value)) Object.defineProperty(out, k, { value: mapLeaves(v, f, `${path}/${escapeToken(k)}`), enumerable: true, writable: true, configurable: true })
    return out
  }
  return value
}

/** Every string leaf of a JSON value, with its path. */
export function leaves(value: unknown): [string, string][] {
  const out: [string, string][] = []
  mapLeaves(value, (p, v) => {
    out.push([p, v])
    return v
  })
  return out
}

export class MissingSalt extends Error {}

/** The commitment of a leaf: kept when the leaf was erased, else computed with its salt. */
function committed(s: EntrySalts, key: SaltKey | null, path: string, value: string): string {
  const kept = s.redacted?.[path]
  if (kept !== undefined) return kept
  const salt = s.salts?.[path]
  if (salt !== undefined) return commitment(salt, value)
  if (!key) throw new MissingSalt(`the salt of ${path} is missing`)
  return key.commit(path, value)
}

/**
 * The content a scheme-2 hash covers: [previous, recordType, recordId, version, operation,
 * commitment of the actor, at, the state's JSON text with each string leaf replaced by its commitment].
 */
export function committedContent(previous: string | null, e: { recordType: string; recordId: string; version: number; operation: string; actor: string; at: string; state: string }, s: EntrySalts): string {
  const key = s.saltKey ? new SaltKey(s.saltKey) : null
  const state = JSON.stringify(mapLeaves(JSON.parse(e.state), (p, v) => committed(s, key, p, v)))
  return JSON.stringify([previous ?? '', e.recordType, e.recordId, e.version, e.operation, committed(s, key, ACTOR_PATH, e.actor), e.at, state])
}

export const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex')

/** JSON text stored in a column, or an object from a backup, as an object (null when neither). */
export function jsonField<T>(v: unknown): T | null {
  if (v === null || v === undefined) return null
  if (typeof v === 'string') {
    try {
      return JSON.parse(v) as T
    } catch {
      return null
    }
  }
  return v as T
}

/** The marker in a Swedish output (CSV, workbook): the stored marker read in the output's language. */
export const REDACTED_SV = '[raderad]'
export const inLanguage = (text: string, lang: string): string => (lang === 'sv' && text.includes(REDACTED) ? text.split(REDACTED).join(REDACTED_SV) : text)
