import { Column, Entity } from 'typeorm'
import { RegisterRecord, SortIndexes } from './base'
import { ContactColumns } from './contact'

/** An organisation responsible for processing (personuppgiftsansvarig), Art. 4(7). */
@Entity('controllers')
@SortIndexes('controllers', 'name', 'sortKey', 'createdAt', 'updatedAt')
export class Controller extends RegisterRecord {
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

  /** Art. 27 representative in the Union, for controllers established outside it. */
  @Column(() => ContactColumns, { prefix: 'representative' })
  representative!: ContactColumns

  /** Data protection officer (dataskyddsombud), Art. 37–39. */
  @Column(() => ContactColumns, { prefix: 'dpo' })
  dataProtectionOfficer!: ContactColumns

  @Column({ type: 'text', nullable: true })
  notes!: string | null
}
