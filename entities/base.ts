import { Column, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm'

/**
 * Columns every register record has. The primary key is (workspace, id): a record's id is unique
 * within its workspace, so one workspace's export can be imported into another without collisions.
 * Timestamps are ISO 8601 strings (millisecond precision, UTC) so that SQLite and PostgreSQL store
 * and compare them identically.
 */
export abstract class RegisterRecord {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  workspaceId!: string

  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string

  @Column({ type: 'varchar', length: 30 })
  createdAt!: string

  @Column({ type: 'varchar', length: 30 })
  updatedAt!: string

  @Column({ type: 'integer' })
  version!: number

  /**
   * What GET answers for the record, as the bytes it sends: written with every change of the
   * record and of the records its view shows (src/register/records/stored-views.ts). Not loaded by
   * default: only reads that answer with it ask for it.
   */
  @Column({ type: 'text', nullable: true, select: false })
  resolvedView!: string | null

  /**
   * What a list search compares: the searched fields (ResourceDef.searchColumns) NFC-normalised and
   * case folded (src/register/wording/collation.ts), written with the row. Not loaded by default.
   */
  @Column({ type: 'text', nullable: true, select: false })
  searchText!: string | null

  /** The name's key in the register's collation (src/register/wording/collation.ts): `sort=name` orders by it, then id. */
  @Column({ type: 'text', nullable: true, select: false })
  sortKey!: string | null
}

/** A row of an activity's (or processor's) ordered list: owned by its parent, keyed by position. */
export abstract class OwnedRow {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  workspaceId!: string

  @PrimaryColumn({ type: 'varchar', length: 36 })
  ownerId!: string

  @PrimaryColumn({ type: 'integer' })
  position!: number
}

/**
 * A reference to another register record of the same workspace, enforced by a composite foreign key
 * (workspace_id, <column>) → (workspace_id, id): a reference can never cross workspaces or dangle.
 * Owned rows cascade with their owner; references to other records restrict deletion.
 */
export function References(target: () => Function, column: string, onDelete: 'CASCADE' | 'RESTRICT' = 'RESTRICT'): PropertyDecorator {
  return (proto, property) => {
    ManyToOne(target, { onDelete, onUpdate: 'NO ACTION', createForeignKeyConstraints: true })(proto, property)
    JoinColumn([
      { name: 'workspace_id', referencedColumnName: 'workspaceId' },
      { name: column, referencedColumnName: 'id' },
    ])(proto, property)
  }
}

const snake = (s: string): string => s.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase()

/**
 * Indexes (workspace, column, id) for the list sorts of a record table: a page in any sort order
 * is read from an index, in order, instead of sorting the workspace's rows. And, on SQLite, the
 * index a list search reads.
 */
export function SortIndexes(table: string, ...properties: string[]): ClassDecorator {
  return (target) => {
    for (const p of properties) Index(`IDX_${table}_sort_${snake(p)}`, ['workspaceId', p, 'id'])(target)
    // list searches on SQLite (migrations/sqlite/*-SearchTextIndexes.ts); not on PostgreSQL, whose
    // index entries are capped in size, hence not synchronised from here
    Index(`IDX_${table}_search`, { synchronize: false })(target)
  }
}
