import { createHash } from 'node:crypto'
import type { JWK } from 'jose'
import { ChainWalk, REDACTION_RECORD_TYPE, VERSION_RECORD_TYPE } from '../records/journal'
import type { RestoreProof } from '../exchange/import'
import { checkpointHead, HistoryKeys, verifyCheckpoint } from './checkpoints'

import type { Row } from '../records/model'

/**
 * The proof a backup carries, checked from the backup alone and a set of public keys: no service,
 * no database. `npm run verify` runs it; a restore runs it before it writes anything. What it checks
 * is specified, for anyone who writes their own verifier, in docs/verifying-history.md:
 *
 * 1. the history chain from its first entry (each hash from the previous hash and the entry's content);
 * 2. every checkpoint: its signature, and that its head is the chain's entry number `seq`;
 * 3. the chain's head is signed by a checkpoint (else the last entries are not proven);
 * 4. every register version: its document's SHA-256 is its contentHash, its historyHead is in the
 *    chain, and it is what the chain's latest entry about it says (status, approver, hash, …); a
 *    proposal no entry states (made before proposals were entries, never decided) is reported as
 *    unproven, not as valid, and a restore leaves it out.
 */

/** Hash schemes an entry may name (`hashVersion`; absent means 1): see docs/verifying-history.md. */
export const HASH_VERSIONS = [1, 2]

export type BackupProof =
  | { valid: true; entries: number; head: string | null; checkpoints: number; kids: string[]; unproven: UnprovenProposal[]; redacted: number }
  | { valid: false; path: string; message: string }

/**
 * A version the chain does not state, proposed and never decided: a proposal made before proposals
 * were history entries (approvals and rejections were entries before them). Nothing signed covers
 * it, so it proves nothing; it does not make the backup invalid, and a restore leaves it out.
 */
export interface UnprovenProposal {
  /** Its place in the backup: registerVersions[i]. */
  path: string
  number: number
}

/** Whether a version is a proposal nobody decided (every field of a decision empty). */
export const undecided = (v: Row): boolean => v.status === 'proposed'
  && ['approvedBy', 'approvedAt', 'approvalNote', 'rejectedBy', 'rejectedAt', 'rejectionReason', 'supersededAt', 'supersededBy'].every((f) => v[f] === null || v[f] === undefined)

/** The fields of a version that its history entries state (all of GET /register/versions/{n} but its checkpoint). */
export const VERSION_FIELDS = ['number', 'status', 'note', 'proposedBy', 'proposedAt', 'approvedBy', 'approvedAt', 'approvalNote', 'rejectedBy', 'rejectedAt',
  'rejectionReason', 'supersededAt', 'supersededBy', 'contentHash', 'historyHead', 'counts', 'findings'] as const

const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex')

/** JSON with object keys sorted: equal values, equal text. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v) => (v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, v[k]])) : v)) ?? 'undefined'
}

const short = (hash: string | null): string => (hash ? `${hash.slice(0, 12)}…` : 'none')

/** Checks a backup document's proof with the given public keys (a JWKS's `keys`): the first failure, named by its path. */
export async function verifyBackup(doc: Row, keys: JWK[]): Promise<BackupProof> {
  const fail = (path: string, message: string): BackupProof => ({ valid: false, path, message: `${path}: ${message}` })
  const history = Array.isArray(doc.history) ? doc.history as Row[] : []
  const checkpoints = Array.isArray(doc.checkpoints) ? doc.checkpoints as Row[] : []
  const versions = Array.isArray(doc.registerVersions) ? doc.registerVersions as Row[] : []

  // 1. the chain
  const walk = new ChainWalk()
  for (const [i, h] of history.entries()) {
    if (h.hashVersion !== undefined && !HASH_VERSIONS.includes(h.hashVersion)) return fail(`history[${i}].hashVersion`, `hash scheme ${JSON.stringify(h.hashVersion)} is not one this verifier knows (${HASH_VERSIONS.join(', ')})`)
    walk.step(h as any, { saltKey: h.saltKey ?? null, salts: h.salts ?? null })
    if (walk.broken) break
  }
  const broken = walk.broken ?? walk.end()
  if (broken) return fail(`history[${broken.index}]`, broken.reason)
  const hashes = walk.hashes
  const position = new Map<string, number>()
  hashes.forEach((h, i) => { if (h) position.set(h, i) })

  // 2. every checkpoint
  const kids = new Set<string>()
  let headSigned = false
  for (const [i, c] of checkpoints.entries()) {
    const checked = await verifyCheckpoint(c?.jws, keys)
    if (!checked.ok) return fail(`checkpoints[${i}]`, `the checkpoint ${checked.reason}`)
    const { claims } = checked
    if (c.seq !== claims.seq || c.head !== claims.head) return fail(`checkpoints[${i}]`, `seq and head are not those its signature covers (${claims.seq}, ${short(claims.head)})`)
    const base = c.base ?? 0
    if (!Number.isInteger(base) || base < 0) return fail(`checkpoints[${i}].base`, 'must be a whole number, 0 or more')
    const at = base + claims.seq - 1
    if (hashes[at] !== claims.head) return fail(`checkpoints[${i}]`, `its head ${short(claims.head)} is not the chain's entry number ${claims.seq}${base ? ` after ${base}` : ''}`)
    kids.add(checked.kid)
    if (at === hashes.length - 1) headSigned = true
  }

  // 3. the head signed
  if ((history.length || versions.length) && !headSigned) {
    return fail('checkpoints', history.length
      ? `no checkpoint signed by a trusted key signs the history's head (entry ${history.length}, ${short(walk.head)}): the entries after the last signed head are not proven`
      : 'the backup has register versions but no signed history: nothing proves them')
  }

  // 4. every version, as the chain says it is
  const latestAbout = new Map<number, number>()
  history.forEach((h, i) => { if (h.recordType === VERSION_RECORD_TYPE) latestAbout.set(h.version, i) })
  const unproven: UnprovenProposal[] = []
  for (const [i, v] of versions.entries()) {
    const path = `registerVersions[${i}]`
    const redactions = Array.isArray(v.redactions) ? v.redactions as Row[] : []
    if (redactions.length) {
      // redacted since it was frozen: the document is the one the latest redaction's entry states, for this contentHash
      const last = redactions[redactions.length - 1]
      if (typeof v.document !== 'string' || sha256(v.document) !== last.documentHash) return fail(`${path}.document`, 'is not the document its latest redaction states (SHA-256 differs): the version was changed after it was redacted')
      const stated = history.some((h) => {
        if (h.recordType !== REDACTION_RECORD_TYPE) return false
        try {
          const s = JSON.parse(h.state)
          return s.id === last.id && (s.versions ?? []).some((x: Row) => x.number === v.number && x.contentHash === v.contentHash && x.documentHash === last.documentHash)
        } catch {
          return false
        }
      })
      if (!stated) return fail(`${path}.redactions`, `no redaction entry in the history states version ${v.number}'s redacted document (${short(last.documentHash)})`)
    } else if (typeof v.document !== 'string' || sha256(v.document) !== v.contentHash) return fail(`${path}.contentHash`, 'is not the SHA-256 of the version\'s document: the version was changed after it was frozen')
    if (v.historyHead !== null && !position.has(v.historyHead)) return fail(`${path}.historyHead`, `${short(v.historyHead)} is not in the history chain`)
    const at = latestAbout.get(v.number)
    if (at === undefined && undecided(v) && !v.checkpoint) {
      // a proposal from before proposals were history entries: proves nothing, claims no decision
      unproven.push({ path, number: v.number })
      continue
    }
    if (at === undefined) return fail(path, `no history entry states version ${v.number}: the chain does not cover it${undecided(v) ? '' : ` (a version ${v.status} must be stated by the entry of its ${v.status === 'superseded' ? 'superseding' : v.status === 'rejected' ? 'rejection' : 'approval'})`}`)
    let stated: Row
    try {
      stated = JSON.parse(history[at].state)
    } catch {
      return fail(`history[${at}].state`, 'is not JSON')
    }
    for (const field of VERSION_FIELDS) {
      if (canonical(stated?.[field] ?? null) !== canonical(v[field] ?? null)) {
        return fail(`${path}.${field}`, `is ${JSON.stringify(v[field] ?? null)}, but the history (history[${at}], ${history[at].operation}) says ${JSON.stringify(stated?.[field] ?? null)}`)
      }
    }
    if (v.checkpoint) {
      const checked = await verifyCheckpoint(v.checkpoint.jws, keys)
      if (!checked.ok) return fail(`${path}.checkpoint`, `the checkpoint ${checked.reason}`)
      if (!position.has(checked.claims.head)) return fail(`${path}.checkpoint`, `its head ${short(checked.claims.head)} is not in the history chain`)
      kids.add(checked.kid)
    }
  }
  return { valid: true, entries: history.length, head: walk.head, checkpoints: checkpoints.length, kids: [...kids], unproven, redacted: walk.redacted }
}

/** What a restore (exchange/import.ts) checks and signs with: the service's trusted keys. */
export function restoreProof(keys: HistoryKeys): RestoreProof {
  return {
    check: async (doc) => {
      const proof = await verifyBackup(doc, keys.trusted)
      return proof.valid ? null : { path: proof.path, message: proof.message }
    },
    signHead: async (m, ws) => {
      await checkpointHead(m, ws, keys)
    },
  }
}
