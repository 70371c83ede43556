import { Column, Entity, PrimaryColumn } from 'typeorm'

/**
 * A workspace the service knows: every register row carries one of these ids. In production a
 * token naming a workspace that is not here is refused (a typo must not open an empty register);
 * in development a workspace is added on first use.
 */
@Entity('workspaces')
export class Workspace {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  id!: string

  /** For people: the organisation or unit whose register it is. */
  @Column({ type: 'varchar', length: 200 })
  name!: string

  @Column({ type: 'varchar', length: 30 })
  createdAt!: string
}
