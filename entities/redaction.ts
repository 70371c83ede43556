import { Column, Entity, PrimaryColumn } from 'typeorm'

/**
 * A redaction (erasure of personal data from history and versions, Art. 17 and 5(1)(e)): proposed
 * by an admin, approved by another (four eyes) or rejected. The values to erase are kept only while
 * it is proposed; once applied or rejected they are gone (null).
 */
@Entity('redactions')
export class Redaction {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  workspaceId!: string

  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string

  /** proposed | applied | rejected */
  @Column({ type: 'varchar', length: 12 })
  status!: string

  /** JSON: the values to erase, while proposed; null after. */
  @Column({ type: 'text', nullable: true })
  values!: string | null

  @Column({ type: 'text' })
  reason!: string

  @Column({ type: 'varchar', length: 200 })
  proposedBy!: string

  @Column({ type: 'varchar', length: 30 })
  proposedAt!: string

  @Column({ type: 'varchar', length: 200, nullable: true })
  decidedBy!: string | null

  @Column({ type: 'varchar', length: 30, nullable: true })
  decidedAt!: string | null

  @Column({ type: 'text', nullable: true })
  rejectionReason!: string | null

  /** JSON: `{ history, versions }`, occurrences found at proposal, then those erased. */
  @Column({ type: 'text' })
  occurrences!: string

  /** JSON: which fields held the values (record type and path), once applied. */
  @Column({ type: 'text', nullable: true })
  fields!: string | null
}
