import { Column, Entity } from 'typeorm'
import { SortIndexes } from './base'
import { ContactColumns, Organisation } from './contact'

/** An organisation responsible for processing (personuppgiftsansvarig), Art. 4(7). */
@Entity('controllers')
@SortIndexes('controllers', 'name', 'sortKey', 'createdAt', 'updatedAt')
export class Controller extends Organisation {
  /** Art. 27 representative in the Union, for controllers established outside it. */
  @Column(() => ContactColumns, { prefix: 'representative' })
  representative!: ContactColumns

  /** Data protection officer (dataskyddsombud), Art. 37–39. */
  @Column(() => ContactColumns, { prefix: 'dpo' })
  dataProtectionOfficer!: ContactColumns

  @Column({ type: 'text', nullable: true })
  notes!: string | null
}
