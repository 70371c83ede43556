import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm'

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
}
