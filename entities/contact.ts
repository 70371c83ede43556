import { Column } from 'typeorm'
import { RegisterRecord } from './base'

/** Name and contact details of a person or office (a representative, a DPO). Embedded as columns. */
export class ContactColumns {
  @Column({ type: 'varchar', length: 200, nullable: true })
  name!: string | null

  @Column({ type: 'varchar', length: 254, nullable: true })
  email!: string | null

  @Column({ type: 'varchar', length: 50, nullable: true })
  phone!: string | null

  @Column({ type: 'varchar', length: 500, nullable: true })
  address!: string | null
}

/**
 * A controller's or processor's name and own contact details, declared once for both tables (the same
 * columns in each). Inherited rather than embedded: an embedded object would put them under a
 * property of its own, where every record keeps them at its top (`controller.email`).
 */
export abstract class Organisation extends RegisterRecord {
  @Column({ type: 'varchar', length: 200 })
  name!: string

  @Column({ type: 'varchar', length: 50, nullable: true })
  organisationNumber!: string | null

  @Column({ type: 'varchar', length: 500, nullable: true })
  address!: string | null

  @Column({ type: 'varchar', length: 254, nullable: true })
  email!: string | null

  @Column({ type: 'varchar', length: 50, nullable: true })
  phone!: string | null

  @Column({ type: 'varchar', length: 2, nullable: true })
  country!: string | null

  @Column({ type: 'varchar', length: 500, nullable: true })
  website!: string | null
}
