import { Column, Entity, PrimaryColumn } from 'typeorm'

/**
 * An established version of a workspace's register (fastställd registerförteckning): the whole
 * register (Art. 30(1) and 30(2) records) frozen as one JSON export document when it was proposed,
 * then approved by another admin (four eyes) or rejected. Nothing in it changes after freezing but
 * its status, who decided and its checkpoint (database triggers hold it to that); `document` is kept byte for byte, its SHA-256 is `contentHash`.
 */
@Entity('register_versions')
export class RegisterVersion {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  workspaceId!: string

  /** 1, 2, 3 … per workspace. */
  @PrimaryColumn({ type: 'integer' })
  number!: number

  /** proposed | approved | rejected | superseded */
  @Column({ type: 'varchar', length: 12 })
  status!: string

  @Column({ type: 'text', nullable: true })
  note!: string | null

  @Column({ type: 'varchar', length: 200 })
  proposedBy!: string

  @Column({ type: 'varchar', length: 30 })
  proposedAt!: string

  @Column({ type: 'varchar', length: 200, nullable: true })
  approvedBy!: string | null

  @Column({ type: 'varchar', length: 30, nullable: true })
  approvedAt!: string | null

  @Column({ type: 'text', nullable: true })
  approvalNote!: string | null

  @Column({ type: 'varchar', length: 200, nullable: true })
  rejectedBy!: string | null

  @Column({ type: 'varchar', length: 30, nullable: true })
  rejectedAt!: string | null

  @Column({ type: 'text', nullable: true })
  rejectionReason!: string | null

  @Column({ type: 'varchar', length: 30, nullable: true })
  supersededAt!: string | null

  /** The number of the version whose approval superseded this one. */
  @Column({ type: 'integer', nullable: true })
  supersededBy!: number | null

  /** SHA-256 (hex) of `document`'s UTF-8 bytes. */
  @Column({ type: 'varchar', length: 64 })
  contentHash!: string

  /** The history chain's head when the register was frozen (null: no history yet). */
  @Column({ type: 'varchar', length: 64, nullable: true })
  historyHead!: string | null

  /** JSON: records per kind. */
  @Column({ type: 'text' })
  counts!: string

  /** JSON: the open findings at freezing, by severity and by rule. */
  @Column({ type: 'text' })
  findings!: string

  /**
   * JSON: the signed checkpoint made at its latest step (proposal, approval, rejection, superseding),
   * `{ seq, head, at, kid, jws }`, whose head covers that step's history entry; null before checkpoints existed.
   */
  @Column({ type: 'text', nullable: true })
  checkpoint!: string | null

  /**
   * JSON: the redactions applied to the document since it was frozen, `[{ id, at, documentHash }]`
   * (documentHash: SHA-256 of the document after it); null: none. contentHash stays the frozen one.
   */
  @Column({ type: 'text', nullable: true })
  redactions!: string | null

  /** The frozen JSON export document, exactly as downloaded; read only when exported. */
  @Column({ type: 'text', select: false })
  document!: string
}
