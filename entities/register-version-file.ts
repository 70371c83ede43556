import { Column, Entity, PrimaryColumn } from 'typeorm'

/**
 * A file of a frozen register version as it was rendered the first time it was asked for (a CSV in
 * one language, record and delimiter; a workbook in one language; the frozen JSON document itself,
 * stored as the version is frozen, so that a download reads it in a few MB), gzipped: a version never
 * changes, so every later download is these bytes. Derived from the version's document, hence not
 * in a backup: a restored version renders its files again.
 */
@Entity('register_version_files')
export class RegisterVersionFile {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  workspaceId!: string

  /** The version's number. */
  @PrimaryColumn({ type: 'integer' })
  number!: number

  /** Which file: `csv:<lang>:<record>:<delimiter>`, `xlsx:<lang>` or `json` (the frozen document). */
  @PrimaryColumn({ type: 'varchar', length: 64 })
  file!: string

  /**
   * The file's parts, from 0, each at most VERSION_FILE_PART characters of the base64 (a file
   * stored before parts existed is one part): SQLite reads a whole value for every read of a piece
   * of it, so the file of a version of 10,000 activities (10 MB) is read a part a row.
   */
  @PrimaryColumn({ type: 'integer' })
  part!: number

  @Column({ type: 'varchar', length: 30 })
  renderedAt!: string

  /** The whole file's length, uncompressed (in each of its parts). */
  @Column({ type: 'integer' })
  bytes!: number

  /** The part's piece of the file gzipped, in base64: text is one type on both databases (a blob is not). */
  @Column({ type: 'text', select: false })
  gzip!: string
}

/** Base64 characters of a stored file per part (a multiple of 4: each part decodes alone). */
export const VERSION_FILE_PART = 512 * 1024
