import { Column } from 'typeorm'

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
