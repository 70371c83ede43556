import { calculateJwkThumbprint, CompactSign, compactVerify, createLocalJWKSet, exportJWK, importPKCS8, JWK } from 'jose'
import { createPrivateKey, createPublicKey, KeyObject } from 'node:crypto'
import { EntityManager } from 'typeorm'
import { HistoryCheckpoint, HistoryEntry } from '../../../entities'
import type { HistoryKeyConfig } from '../../config'
import { Database } from '../../db/database'
import { historyHead } from '../records/journal'

/**
 * Signed checkpoints of a workspace's history head (certificate transparency's signed tree head,
 * for one hash chain): the service signs `{ ws, seq, head, iat }` (seq: the number of entries,
 * head: the hash of the last) as a compact JWS with EdDSA (Ed25519), with a key held in a file,
 * never in the database. Whoever can rewrite the database can recompute every hash after an entry
 * they change, but cannot sign the new head: a checkpoint kept anywhere (a backup, a version, an
 * auditor's copy) then no longer matches. Any JOSE library verifies one against GET /history/keys.
 */

/** What a checkpoint signs (the JWS payload). */
export interface CheckpointClaims {
  /** The workspace whose chain it is. */
  ws: string
  /** How many entries the chain had: the head is entry number seq (from 1). */
  seq: number
  /** The hash of entry number seq. */
  head: string
  /** When it was signed (seconds since 1970, as in a JWT). */
  iat: number
}

/** A checkpoint as the API answers it and a version or backup carries it. */
export interface CheckpointView {
  seq: number
  head: string
  at: string
  kid: string
  jws: string
}

/** Public key of the JWKS: { kty: OKP, crv: Ed25519, kid, x, alg: EdDSA, use: sig }. */
export type PublicJwk = JWK & { kid: string }

export const CHECKPOINT_ALG = 'EdDSA'
/** The JWS header's type, so a checkpoint is never taken for another kind of signed object. */
export const CHECKPOINT_TYP = 'history-checkpoint+jws'

/** The service's checkpoint keys: the one that signs, and the public keys it publishes and trusts. */
export class HistoryKeys {
  private constructor(
    private readonly signing: CryptoKey,
    /** The signing key's id: the RFC 7638 thumbprint of its public key. */
    readonly kid: string,
    /** Published at GET /history/keys: the signing key's public half and the keys it replaced. */
    readonly published: PublicJwk[],
    /** What a restore accepts: the published keys and those of HISTORY_TRUSTED_KEYS. */
    readonly trusted: PublicJwk[],
  ) {}

  static async load(config: HistoryKeyConfig): Promise<HistoryKeys> {
    const signing = await importPKCS8(config.signingKeyPem, CHECKPOINT_ALG)
    const own = await publicJwk(createPublicKey(createPrivateKey(config.signingKeyPem)))
    const previous = await Promise.all(config.previousKeys.map((k) => normalised(k)))
    const published = [own, ...previous.filter((k) => k.kid !== own.kid)]
    const trusted = [...published, ...(await Promise.all(config.trustedKeys.map((k) => normalised(k)))).filter((k) => !published.some((p) => p.kid === k.kid))]
    return new HistoryKeys(signing, own.kid, published, trusted)
  }

  async sign(claims: CheckpointClaims): Promise<string> {
    return new CompactSign(new TextEncoder().encode(JSON.stringify(claims)))
      .setProtectedHeader({ alg: CHECKPOINT_ALG, kid: this.kid, typ: CHECKPOINT_TYP })
      .sign(this.signing)
  }
}

async function publicJwk(key: KeyObject): Promise<PublicJwk> {
  const jwk = await exportJWK(key)
  return { kty: 'OKP', crv: 'Ed25519', x: jwk.x, kid: await calculateJwkThumbprint(jwk), alg: CHECKPOINT_ALG, use: 'sig' }
}

/** A configured public key in the published shape (its kid kept: it is what old checkpoints name). */
async function normalised(k: Record<string, unknown>): Promise<PublicJwk> {
  return { kty: 'OKP', crv: 'Ed25519', x: k.x as string, kid: k.kid as string, alg: CHECKPOINT_ALG, use: 'sig' }
}

const loaded = new Map<string, Promise<HistoryKeys>>()

/** The keys of a configuration, loaded once. */
export function historyKeys(config: HistoryKeyConfig): Promise<HistoryKeys> {
  const id = config.signingKeyPem + JSON.stringify(config.previousKeys) + JSON.stringify(config.trustedKeys)
  let keys = loaded.get(id)
  if (!keys) loaded.set(id, keys = HistoryKeys.load(config))
  return keys
}

/** Why a checkpoint does not verify, or its claims. */
export type CheckpointCheck = { ok: true; claims: CheckpointClaims; kid: string } | { ok: false; reason: string }

/** A checkpoint's signature against a key set (by its kid), and its claims' shape. */
export async function verifyCheckpoint(jws: unknown, keys: JWK[]): Promise<CheckpointCheck> {
  if (typeof jws !== 'string' || jws.split('.').length !== 3) return { ok: false, reason: 'is not a compact JWS' }
  let payload: Uint8Array
  let kid: string
  try {
    const verified = await compactVerify(jws, createLocalJWKSet({ keys }), { algorithms: [CHECKPOINT_ALG] })
    payload = verified.payload
    kid = verified.protectedHeader.kid ?? ''
  } catch (err) {
    const code = (err as { code?: string }).code
    return { ok: false, reason: code === 'ERR_JWKS_NO_MATCHING_KEY' ? 'is signed by a key that is not trusted' : 'has a signature that does not verify' }
  }
  let claims: any
  try {
    claims = JSON.parse(new TextDecoder().decode(payload))
  } catch {
    return { ok: false, reason: 'signs something that is not JSON' }
  }
  if (!claims || typeof claims.ws !== 'string' || !Number.isInteger(claims.seq) || claims.seq < 1 || typeof claims.head !== 'string' || !/^[0-9a-f]{64}$/.test(claims.head) || !Number.isInteger(claims.iat)) {
    return { ok: false, reason: 'does not sign { ws, seq, head, iat }' }
  }
  return { ok: true, claims, kid }
}

export const checkpointView = (c: HistoryCheckpoint): CheckpointView => ({ seq: c.seq, head: c.head, at: c.at, kid: c.kid, jws: c.jws })

/**
 * Signs the workspace's current head, inside the caller's transaction, which must hold the
 * workspace's chain (so no entry is appended between counting and signing). The latest checkpoint
 * is answered again when it already signs the current head: signing the same head twice proves
 * nothing more. Null when the workspace has no history yet.
 */
export async function checkpointHead(m: EntityManager, ws: string, keys: HistoryKeys): Promise<{ checkpoint: CheckpointView; created: boolean } | null> {
  const head = await historyHead(m, ws)
  if (!head?.hash) return null
  const seq = await m.getRepository(HistoryEntry).count({ where: { workspaceId: ws } })
  const latest = await m.getRepository(HistoryCheckpoint).findOne({ where: { workspaceId: ws, base: 0 }, order: { id: 'DESC' } })
  if (latest && latest.seq === seq && latest.head === head.hash && latest.kid === keys.kid) return { checkpoint: checkpointView(latest), created: false }
  const at = new Date()
  const jws = await keys.sign({ ws, seq, head: head.hash, iat: Math.floor(at.getTime() / 1000) })
  const row = { workspaceId: ws, seq, head: head.hash, at: at.toISOString(), kid: keys.kid, jws, base: 0 }
  await m.createQueryBuilder().insert().into(HistoryCheckpoint).values(row).execute()
  return { checkpoint: { seq, head: head.hash, at: row.at, kid: keys.kid, jws }, created: true }
}

/** The workspace's checkpoints, newest first. */
export async function listCheckpoints(db: Database, ws: string, q: { limit: number; offset: number }): Promise<{ items: CheckpointView[]; total: number; limit: number; offset: number }> {
  return db.read(async (m) => {
    const [rows, total] = await m.getRepository(HistoryCheckpoint).findAndCount({ where: { workspaceId: ws }, order: { id: 'DESC' }, skip: q.offset, take: q.limit })
    return { items: rows.map(checkpointView), total, limit: q.limit, offset: q.offset }
  })
}

/** A backup's checkpoints: every one the workspace holds, oldest first, with `base` (see HistoryCheckpoint). */
export async function allCheckpoints(m: EntityManager, ws: string): Promise<(CheckpointView & { base: number })[]> {
  const rows = await m.getRepository(HistoryCheckpoint).find({ where: { workspaceId: ws }, order: { id: 'ASC' } })
  return rows.map((c) => ({ ...checkpointView(c), base: c.base }))
}

/** The head and the latest checkpoint, as the report's cover names them (one snapshot). */
export async function reportProof(db: Database, ws: string): Promise<{ entries: number; head: string | null; checkpoint: CheckpointView | null }> {
  return db.read(async (m) => {
    const head = await historyHead(m, ws)
    const entries = head ? await m.getRepository(HistoryEntry).count({ where: { workspaceId: ws } }) : 0
    const latest = await m.getRepository(HistoryCheckpoint).findOne({ where: { workspaceId: ws, base: 0 }, order: { id: 'DESC' } })
    return { entries, head: head?.hash ?? null, checkpoint: latest ? checkpointView(latest) : null }
  })
}
