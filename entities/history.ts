import { Column, Entity, Index, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm'

/**
 * The change history (Art. 5(2) accountability): one row per create, update and delete, with who,
 * when, which record and version, and its full state after the change (before it, for a delete).
 * Append-only: the API offers no way to change it, and database triggers refuse UPDATE and DELETE.
 * Tamper-evident: each entry's `hash` chains it to the workspace's previous entry (see
 * src/register/accountability/history.ts), so an entry changed by someone who has the database file shows.
 */
@Entity('history')
@Index(['workspaceId', 'recordType', 'recordId'])
@Index(['workspaceId', 'at'])
@Index(['workspaceId', 'seq'])
export class HistoryEntry {
  @PrimaryGeneratedColumn({ type: 'integer' })
  seq!: number

  @Column({ type: 'varchar', length: 64 })
  workspaceId!: string

  @Column({ type: 'varchar', length: 40 })
  recordType!: string

  @Column({ type: 'varchar', length: 36 })
  recordId!: string

  @Column({ type: 'integer' })
  version!: number

  /** create | update | delete */
  @Column({ type: 'varchar', length: 10 })
  operation!: string

  /** The token's subject. */
  @Column({ type: 'varchar', length: 200 })
  actor!: string

  @Column({ type: 'varchar', length: 30 })
  at!: string

  /** JSON: the record as a client reads it. */
  @Column({ type: 'text' })
  state!: string

  /** SHA-256 (hex) over the previous entry's hash and this entry's content; null only if never chained. */
  @Column({ type: 'varchar', length: 64, nullable: true })
  hash!: string | null

  /** The hash scheme (docs/verifying-history.md): 1 covers the values, 2 salted commitments of them. */
  @Column({ type: 'integer', default: 1 })
  hashVersion!: number

  /**
   * JSON, set by a redaction (the one change the triggers allow, with state and actor): scheme 2,
   * the erased leaves' commitments (path → commitment); scheme 1, `{}` (the content is no longer
   * provable, the entry's hash is taken as it stands).
   */
  @Column({ type: 'text', nullable: true })
  redacted!: string | null
}

/**
 * The salts of scheme-2 history entries, kept apart from the history so that a redaction can
 * delete them (src/register/records/commitments.ts): the entry's key, or, once a redaction deleted
 * it, the salts of the leaves that were not erased.
 */
@Entity('history_salts')
export class HistorySalt {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  workspaceId!: string

  /** The entry's hash. */
  @PrimaryColumn({ type: 'varchar', length: 64 })
  hash!: string

  @Column({ type: 'varchar', length: 64, nullable: true })
  saltKey!: string | null

  /** JSON: path → salt. */
  @Column({ type: 'text', nullable: true })
  salts!: string | null
}
