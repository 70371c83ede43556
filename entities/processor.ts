import { Column, Entity, Index } from 'typeorm'
import { OwnedRow, References, SortIndexes } from './base'
import { ContactColumns, Organisation } from './contact'

/** An organisation processing on a controller's behalf (personuppgiftsbiträde), Art. 4(8) and 28. */
@Entity('processors')
@SortIndexes('processors', 'name', 'sortKey', 'createdAt', 'updatedAt')
export class Processor extends Organisation {
  /** A named contact person or function at the processor. */
  @Column(() => ContactColumns, { prefix: 'contact' })
  contact!: ContactColumns

  @Column(() => ContactColumns, { prefix: 'representative' })
  representative!: ContactColumns

  @Column(() => ContactColumns, { prefix: 'dpo' })
  dataProtectionOfficer!: ContactColumns

  /** The service provided: payment, accounting system, IT operations, logistics… */
  @Column({ type: 'varchar', length: 1000, nullable: true })
  service!: string | null

  /** The data processing agreement (personuppgiftsbiträdesavtal), Art. 28(3). */
  @Column({ type: 'varchar', length: 10, nullable: true })
  dpaSignedAt!: string | null

  @Column({ type: 'varchar', length: 200, nullable: true })
  dpaReference!: string | null

  @Column({ type: 'varchar', length: 1000, nullable: true })
  dpaUrl!: string | null

  @Column({ type: 'text', nullable: true })
  notes!: string | null
}

/** Sub-processors engaged by a processor, Art. 28(2) and 28(4). */
@Entity('processor_sub_processors')
@Index(['workspaceId', 'subProcessorId'])
export class ProcessorSubProcessor extends OwnedRow {
  @References(() => Processor, 'owner_id', 'CASCADE')
  processor?: Processor

  @Column({ type: 'varchar', length: 36 })
  subProcessorId!: string

  @References(() => Processor, 'sub_processor_id')
  subProcessor?: Processor
}
