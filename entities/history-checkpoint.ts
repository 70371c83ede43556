import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm'

/**
 * A signed checkpoint of a workspace's history head: `jws` is a compact JWS (EdDSA, Ed25519) over
 * `{ ws, seq, head, iat }`, signed with a key held outside the database, so that rewriting the
 * database cannot rewrite what was signed. Append-only: database triggers refuse UPDATE and DELETE
 * (and TRUNCATE on PostgreSQL).
 */
@Entity('history_checkpoints')
@Index(['workspaceId', 'id'])
export class HistoryCheckpoint {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id!: number

  @Column({ type: 'varchar', length: 64 })
  workspaceId!: string

  /** Entries of the chain it signs: its head is entry number `seq` (counted from 1) after `base`. */
  @Column({ type: 'integer' })
  seq!: number

  /** The hash of entry number `seq`. */
  @Column({ type: 'varchar', length: 64 })
  head!: string

  @Column({ type: 'varchar', length: 30 })
  at!: string

  /** The signing key's id (its RFC 7638 thumbprint). */
  @Column({ type: 'varchar', length: 100 })
  kid!: string

  @Column({ type: 'text' })
  jws!: string

  /**
   * Entries of this workspace's history before the chain the checkpoint counts: 0 for its own
   * checkpoints; for one restored from a backup, the entries before the restored ones (so its
   * `seq` stays the one it was signed with).
   */
  @Column({ type: 'integer', default: 0 })
  base!: number
}
