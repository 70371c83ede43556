import { Column, Entity, Index } from 'typeorm'
import { RegisterRecord, SortIndexes } from './base'

@Entity('purposes')
@SortIndexes('purposes', 'name', 'sortKey', 'createdAt', 'updatedAt')
export class Purpose extends RegisterRecord {
  @Column({ type: 'varchar', length: 200 })
  name!: string

  @Column({ type: 'text', nullable: true })
  description!: string | null
}

/** Art. 6(1) bases, Art. 9(2) conditions, Art. 10 and national law. Built-in entries are per workspace copies. */
@Entity('legal_bases')
@SortIndexes('legal_bases', 'name', 'sortKey', 'kind', 'createdAt', 'updatedAt')
@Index(['workspaceId', 'code'], { unique: true })
export class LegalBasis extends RegisterRecord {
  @Column({ type: 'varchar', length: 64 })
  code!: string

  @Column({ type: 'varchar', length: 20 })
  kind!: string

  @Column({ type: 'varchar', length: 200 })
  articleReference!: string

  @Column({ type: 'varchar', length: 300 })
  name!: string

  @Column({ type: 'varchar', length: 300, nullable: true })
  nameSv!: string | null

  @Column({ type: 'text', nullable: true })
  description!: string | null

  @Column({ type: 'varchar', length: 1000, nullable: true })
  url!: string | null

  @Column({ type: 'boolean' })
  builtIn!: boolean
}

@Entity('data_subject_categories')
@SortIndexes('data_subject_categories', 'name', 'sortKey', 'createdAt', 'updatedAt')
export class DataSubjectCategory extends RegisterRecord {
  @Column({ type: 'varchar', length: 200 })
  name!: string

  @Column({ type: 'text', nullable: true })
  description!: string | null

  /** Vulnerable data subjects (children, employees, patients, …: WP248 criterion 7); null: not yet answered. */
  @Column({ type: 'boolean', nullable: true })
  vulnerable!: boolean | null
}

@Entity('data_categories')
@SortIndexes('data_categories', 'name', 'sortKey', 'classification', 'createdAt', 'updatedAt')
export class DataCategory extends RegisterRecord {
  @Column({ type: 'varchar', length: 200 })
  name!: string

  @Column({ type: 'text', nullable: true })
  description!: string | null

  /** ordinary | special (Art. 9) | criminal (Art. 10) | national-id (personnummer, dataskyddslagen 3:10) */
  @Column({ type: 'varchar', length: 20 })
  classification!: string

  /** For `special`: which Art. 9(1) category (health, biometric, …). */
  @Column({ type: 'varchar', length: 40, nullable: true })
  specialCategory!: string | null

  /** Highly personal data (location, financial, communications content, …: WP248 criterion 4); null: not yet answered. */
  @Column({ type: 'boolean', nullable: true })
  highlyPersonal!: boolean | null
}

@Entity('recipients')
@SortIndexes('recipients', 'name', 'sortKey', 'createdAt', 'updatedAt')
export class Recipient extends RegisterRecord {
  @Column({ type: 'varchar', length: 200 })
  name!: string

  @Column({ type: 'text', nullable: true })
  description!: string | null

  @Column({ type: 'varchar', length: 2, nullable: true })
  country!: string | null
}

@Entity('retention_rules')
@SortIndexes('retention_rules', 'name', 'sortKey', 'createdAt', 'updatedAt')
export class RetentionRule extends RegisterRecord {
  @Column({ type: 'varchar', length: 200 })
  name!: string

  /** ISO 8601 duration (P36M); null means no fixed limit. */
  @Column({ type: 'varchar', length: 40, nullable: true })
  period!: string | null

  /** The event the period runs from, in words ("after the last visit"). */
  @Column({ type: 'varchar', length: 500, nullable: true })
  trigger!: string | null

  @Column({ type: 'varchar', length: 500, nullable: true })
  legalReference!: string | null

  @Column({ type: 'text', nullable: true })
  description!: string | null
}

@Entity('security_measures')
@SortIndexes('security_measures', 'name', 'sortKey', 'type', 'category', 'createdAt', 'updatedAt')
export class SecurityMeasure extends RegisterRecord {
  @Column({ type: 'varchar', length: 200 })
  name!: string

  @Column({ type: 'text', nullable: true })
  description!: string | null

  /** technical | organisational */
  @Column({ type: 'varchar', length: 20 })
  type!: string

  @Column({ type: 'varchar', length: 40 })
  category!: string
}
