import { Database } from '../../db/database'
import { HistoryCheckpoint, HistoryEntry, RegisterVersion } from '../../../entities'
import type { Lang } from '../wording/wording'
import type { ProofBlock } from '../exchange/export-document'
import { CheckpointView, checkpointView } from './checkpoints'

/**
 * The proof a version's CSV and workbook carry (its JSON, the frozen document, names the same in
 * `registerVersion.historyHead` and `historyCheckpoint`): the history head the version froze and a
 * signed checkpoint of it, so that a file handed to an authority says which history it belongs to
 * and carries a signature anyone can check against GET /api/v1/history/keys
 * (docs/verifying-history.md, "The proof in a version's files").
 */
export interface VersionProof {
  number: number
  /** SHA-256 of the version's JSON document: links the file to the document it was rendered from. */
  contentHash: string
  /** The history head the version froze; null when the workspace had no history then. */
  historyHead: string | null
  /** Entry number of the head in the chain the checkpoint signed (its `seq`), or in the workspace's chain without one. */
  entries: number | null
  /** The earliest checkpoint of that head: the one made when the version was proposed. */
  checkpoint: CheckpointView | null
}

/** Where the public keys are: what the proof block tells a reader to check the signature with. */
export const KEYS_PATH = '/api/v1/history/keys'

/** The proof of a version, read from the workspace's checkpoints and history (a few small reads). */
export async function versionProof(db: Database, ws: string, v: Pick<RegisterVersion, 'number' | 'contentHash' | 'historyHead'>): Promise<VersionProof> {
  const proof: VersionProof = { number: v.number, contentHash: v.contentHash, historyHead: v.historyHead, entries: null, checkpoint: null }
  if (!v.historyHead) return proof
  return db.read(async (m) => {
    const signed = await m.getRepository(HistoryCheckpoint).findOne({ where: { workspaceId: ws, head: v.historyHead! }, order: { id: 'ASC' } })
    if (signed) return { ...proof, entries: signed.seq, checkpoint: checkpointView(signed) }
    // a version frozen before checkpoints existed: its head's place in the chain, unsigned
    const entry = await m.getRepository(HistoryEntry).findOne({ where: { workspaceId: ws, hash: v.historyHead! }, select: { seq: true } })
    if (!entry) return proof
    const entries = await m.getRepository(HistoryEntry).createQueryBuilder('h').where('h.workspaceId = :ws AND h.seq <= :seq', { ws, seq: entry.seq }).getCount()
    return { ...proof, entries }
  })
}

const WORDS = {
  sheet: { en: 'Proof', sv: 'Bevis' },
  heading: { en: (n: number) => `Proof of register version ${n} (not a processing activity)`, sv: (n: number) => `Bevis för registerversion ${n} (ingen behandling)` },
  value: { en: 'Value', sv: 'Värde' },
  version: { en: 'Register version', sv: 'Registerversion' },
  contentHash: { en: 'SHA-256 of the version\'s JSON document (contentHash)', sv: 'SHA-256 för versionens JSON-dokument (contentHash)' },
  entries: { en: 'History head: entry number (seq)', sv: 'Historikens huvud: postnummer (seq)' },
  head: { en: 'History head: hash', sv: 'Historikens huvud: hash' },
  kid: { en: 'Signed checkpoint: key (kid)', sv: 'Signerad kontrollpunkt: nyckel (kid)' },
  at: { en: 'Signed checkpoint: signed at (UTC)', sv: 'Signerad kontrollpunkt: signerad (UTC)' },
  jws: { en: 'Signed checkpoint: compact JWS (EdDSA)', sv: 'Signerad kontrollpunkt: kompakt JWS (EdDSA)' },
  keys: { en: 'Public keys (JWKS) to verify it', sv: 'Publika nycklar (JWKS) att verifiera med' },
  noHead: { en: 'none: the register had no history when the version was frozen', sv: 'inget: registret hade ingen historik när versionen frystes' },
  unsigned: { en: 'none: the version was frozen before the service signed checkpoints', sv: 'ingen: versionen frystes innan tjänsten signerade kontrollpunkter' },
}

/** The proof as the files write it (a heading and label/value rows), in the file's language. */
export function proofBlock(p: VersionProof, lang: Lang): ProofBlock {
  const rows: [string, string][] = [
    [WORDS.version[lang], String(p.number)],
    [WORDS.contentHash[lang], p.contentHash],
  ]
  if (!p.historyHead) rows.push([WORDS.head[lang], WORDS.noHead[lang]])
  else {
    if (p.entries !== null) rows.push([WORDS.entries[lang], String(p.entries)])
    rows.push([WORDS.head[lang], p.historyHead])
    if (!p.checkpoint) rows.push([WORDS.jws[lang], WORDS.unsigned[lang]])
    else {
      rows.push([WORDS.kid[lang], p.checkpoint.kid], [WORDS.at[lang], p.checkpoint.at], [WORDS.jws[lang], p.checkpoint.jws], [WORDS.keys[lang], `GET ${KEYS_PATH}`])
    }
  }
  return { sheet: WORDS.sheet[lang], heading: WORDS.heading[lang](p.number), value: WORDS.value[lang], rows }
}
