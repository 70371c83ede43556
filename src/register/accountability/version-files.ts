import { readSync } from 'node:fs'
import { FileHandle, mkdtemp, open, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough, Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { promisify } from 'node:util'
import { createGunzip, createGzip, gunzip } from 'node:zlib'
import { Database } from '../../db/database'
import { dialectOfManager, placeholders } from '../../db/sql'
import { ValidationFailed } from '../../errors'
import { RegisterVersion, VERSION_FILE_PART } from '../../../entities'
import { checkExportQuery, csvDelimiter, exportFileName, exportFrom, RegisterExport } from '../exchange/export'
import { XLSX_CONTENT_TYPE } from '../exchange/xlsx'
import type { ExportQuery } from '../exchange/export-document'
import { SECTIONS } from '../exchange/export-document'
import { processors, ResourceDef } from '../records/model'
import { ActivityScope, RegisterSource, RegisterViews, StoredActivity, WALK_PAGE_SIZE } from '../records/walk'
import { sortKey } from '../wording/collation'
import { FROZEN_DOCUMENT_FILE, VersionNotFound } from './versions'
import { proofBlock, versionProof } from './version-proof'
import { versionRedactions } from './redactions'

import type { Row } from '../records/model'

/**
 * The files of a frozen register version. JSON: the frozen document itself, byte for byte
 * (SHA-256 = contentHash). CSV and workbook: written by the export's code from the document (a
 * RegisterSource over it), never from the live register. A version never changes, so the file of
 * each unfiltered query (CSV per language, record and delimiter; workbook per language: ten at most)
 * is rendered once, the first time it is asked for, and its bytes are stored gzipped
 * (register_version_files) and served on every later download (a CSV's first download is sent as
 * it is rendered, a workbook's once it is stored). A query filtered by controllerId or
 * status is rendered each time and not stored: its variants grow with the controllers, and a reader
 * could otherwise fill the database with them. Each CSV and workbook carries the version's proof
 * (version-proof.ts): the history head it froze and the signed checkpoint of that head.
 */

/** Lets the event loop serve others: indexing a large document is CPU work in slices. */
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

/** Milliseconds of work between turns of the event loop while a document is indexed. */
const SLICE_MS = 15

interface Entry {
  id: string
  start: number
  end: number
}

interface ActivityEntry extends Entry {
  key: string
  role: string
  status: string
  controllerId: string | null
  jointControllerIds: string[]
}

/**
 * A frozen document unzipped into a temporary file of its own, and where each record is (its line's
 * byte range), by section, in id order; activities in the walk's order. Memory holds the index
 * only: the document of 10,000 activities (68 MB) held as one Buffer was most of the memory a
 * version's first CSV or workbook added. The file has no name: it is removed as soon as it is open
 * (as the spool's are), so that a process killed mid-export leaves nothing behind; its space is
 * freed when the last export reading it closes it (`discard`), or when the process ends.
 */
interface DocumentIndex {
  file: FileHandle
  sections: Map<string, Entry[]>
  byId: Map<string, Map<string, Entry>>
  activities: ActivityEntry[]
}

/** Prefix of the temporary directories version documents are unzipped into. */
export const DOCUMENT_DIR_PREFIX = 'ropa-version-'

const byIdOrder = (a: Entry, b: Entry): number => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)

const SECTION_START = /^"([A-Za-z]+)":\[$/

/**
 * Finds the records of a document written one record a line (versions.ts, frozenDocument), a line
 * at a time as the document's bytes come; `false` from `line` when the document is not laid out so.
 */
class LineIndexer {
  private readonly keys = new Set(SECTIONS.map((s) => s.key))
  readonly sections = new Map<string, Entry[]>()
  readonly activities: ActivityEntry[] = []
  private section: string | null = null

  /** A line: its bytes (`bytes` from `from` to `to`) and where they are in the document (`at`). */
  line(bytes: Buffer, from: number, to: number, at: number): boolean {
    if (this.section === null) {
      const opened = SECTION_START.exec(bytes.toString('utf8', from, to))
      if (opened) {
        if (!this.keys.has(opened[1])) return false
        this.section = opened[1]
        this.sections.set(this.section, [])
      }
      return true
    }
    if (bytes[from] === 0x5d) { this.section = null; return true } // ]
    const end = bytes[to - 1] === 0x2c ? to - 1 : to // the comma between records
    const activity = this.section === 'processingActivities'
    let record: Row | null = activity ? walkFields(bytes, from, end) : null
    if (!record) {
      try {
        record = JSON.parse(bytes.toString('utf8', from, end))
      } catch {
        return false
      }
    }
    if (typeof record?.id !== 'string') return false
    const entry: Entry = { id: record.id, start: at, end: at + end - from }
    this.sections.get(this.section)!.push(entry)
    if (activity) {
      this.activities.push({
        ...entry, key: sortKey(record.name), role: record.role, status: record.status, controllerId: record.controller?.id ?? null,
        jointControllerIds: ((record.jointControllers ?? []) as Row[]).map((c) => c.id),
      })
    }
    return true
  }

  /** The index, or null when the document was not laid out a record a line. */
  finish(): Pick<DocumentIndex, 'sections' | 'byId' | 'activities'> | null {
    if (this.section !== null || !this.sections.has('processingActivities')) return null
    for (const entries of this.sections.values()) entries.sort(byIdOrder)
    // the live walk's order: (sort_key, id), the key ASCII, compared as the database compares bytes
    this.activities.sort((a, b) => (a.key !== b.key ? (a.key < b.key ? -1 : 1) : a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    const byId = new Map([...this.sections].map(([k, entries]) => [k, new Map(entries.map((e) => [e.id, e]))]))
    return { sections: this.sections, byId, activities: this.activities }
  }
}

/** Where an activity's view has given every field the walk reads (the stored views' key order: id, name, ..., jointControllers). */
const AFTER_WALK_FIELDS = Buffer.from(',"onBehalfOfControllers":')
const WALK_FIELDS = ['id', 'name', 'role', 'status', 'controller', 'jointControllers']

/**
 * The fields of an activity's line the walk orders and filters by, parsed from the line's start
 * only (its first few hundred bytes of 7 KB): decoding and parsing every line whole was most of the
 * time a first download spent indexing. The cut is where the top-level key onBehalfOfControllers
 * starts; a `,"` can only be structural (a quote inside a string is escaped), and the start closed
 * with `}` parses only if that key is at the top level. Null when the line is not so (a document
 * written otherwise, or a field missing before the cut): the line is then parsed whole.
 */
function walkFields(bytes: Buffer, from: number, to: number): Row | null {
  const cut = bytes.subarray(from, to).indexOf(AFTER_WALK_FIELDS)
  if (cut < 0) return null
  let fields: Row
  try {
    fields = JSON.parse(bytes.toString('utf8', from, from + cut) + '}')
  } catch {
    return null
  }
  return fields !== null && typeof fields === 'object' && WALK_FIELDS.every((k) => k in fields) ? fields : null
}

/** Bytes of the longest line a document laid out a record a line is looked for in. */
const LONGEST_LINE = 16 * 1024 * 1024

/**
 * Writes a document's bytes to `file` as they come and indexes its lines, a slice of work at a
 * time. A line is found in the bytes (a newline byte is never part of a longer UTF-8 sequence);
 * the part of a line a chunk ends with waits for the next chunk.
 */
export async function writeIndexed(chunks: AsyncIterable<Buffer> | Iterable<Buffer>, file: FileHandle): Promise<{ indexer: LineIndexer; laidOut: boolean }> {
  const indexer = new LineIndexer()
  let laidOut = true
  let position = 0
  // the start of a line the chunks so far ended with, in pieces: joined once its newline comes
  let carry: Buffer[] = []
  let carried = 0
  let sliceStarted = performance.now()
  let lines = 0
  const line = async (bytes: Buffer, from: number, to: number, at: number): Promise<void> => {
    if (laidOut) laidOut = indexer.line(bytes, from, to, at)
    if (++lines % 64 === 0 && performance.now() - sliceStarted > SLICE_MS) {
      await turn()
      sliceStarted = performance.now()
    }
  }
  for await (const chunk of chunks) {
    await file.write(chunk, 0, chunk.length, position)
    if (!laidOut) { position += chunk.length; continue }
    let from = 0
    if (carried) {
      const newline = chunk.indexOf(0x0a)
      if (newline < 0) {
        carry.push(Buffer.from(chunk))
        carried += chunk.length
        // a line this long is no record of a document laid out a record a line: it is parsed whole after
        if (carried > LONGEST_LINE) { laidOut = false; carry = []; carried = 0 }
        position += chunk.length
        continue
      }
      const whole = Buffer.concat([...carry, chunk.subarray(0, newline)])
      await line(whole, 0, whole.length, position - carried)
      from = newline + 1
      carry = []
      carried = 0
    }
    for (let newline = chunk.indexOf(0x0a, from); newline >= 0; newline = chunk.indexOf(0x0a, from)) {
      await line(chunk, from, newline, position + from)
      from = newline + 1
    }
    // copied, not a view holding the whole chunk
    if (from < chunk.length) { carry = [Buffer.from(chunk.subarray(from))]; carried = chunk.length - from }
    position += chunk.length
    await turn()
    sliceStarted = performance.now()
  }
  if (carried) {
    const rest = Buffer.concat(carry)
    await line(rest, 0, rest.length, position - carried)
  }
  return { indexer, laidOut }
}

/**
 * The document unzipped into a temporary file and indexed. A document written otherwise than a
 * record a line (a hand-made backup) is parsed whole and written again laid out so, which holds the
 * event loop while it is parsed, but is still right. The file is closed when this fails.
 */
async function loadDocument(db: Database, ws: string, number: number): Promise<DocumentIndex> {
  let file: FileHandle | null = null
  try {
    file = await openNameless()
    const stored = await storedFile(db, ws, number, FROZEN_DOCUMENT_FILE)
    let { indexer, laidOut } = await writeIndexed(stored ? unzipped(stored) : documentChunks(db, ws, number), file)
    // the sorts of finish are a stretch of their own, and the walk's first page another
    await turn()
    let found = laidOut ? indexer.finish() : null
    await turn()
    if (!found) {
      const { size } = await file.stat()
      const document = Buffer.alloc(size)
      await file.read(document, 0, size, 0)
      const doc = JSON.parse(document.toString('utf8')) as Row
      let text = ''
      for (const section of SECTIONS) {
        text += `\n${JSON.stringify(section.key)}:[`
        for (const r of (doc[section.key] ?? []) as Row[]) text += '\n' + JSON.stringify(r) + ','
        text += '\n]'
      }
      await file.truncate(0);
      ({ indexer, laidOut } = await writeIndexed([Buffer.from(`{}${text}}\n`, 'utf8')], file))
      found = indexer.finish()
      if (!found) throw new Error(`version ${number}: its document has no register`)
    }
    return { file, ...found }
  } catch (err) {
    await file?.close().catch(() => undefined)
    throw err
  }
}

/** A temporary file opened for reading and writing, its name (and its directory's) already removed. */
async function openNameless(): Promise<FileHandle> {
  const dir = await mkdtemp(join(tmpdir(), DOCUMENT_DIR_PREFIX))
  try {
    return await open(join(dir, 'document.json'), 'w+', 0o600)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

/** Closes a document's temporary file: its space is freed. */
async function discard(index: DocumentIndex): Promise<void> {
  await index.file.close().catch(() => undefined)
}

/** Records a read of the file joins when they lie this close: one read, not one each. */
const READ_GAP = 64 * 1024
/** The most bytes one read of the file spans. */
const READ_SPAN = 1024 * 1024

const sectionOf = (def: ResourceDef): string => SECTIONS.find((s) => s.def === def)!.key

/** A frozen document's records as the export reads a register, each read from the document's file. */
class FrozenViews implements RegisterViews {
  constructor(private readonly index: DocumentIndex) {}

  /**
   * The records' JSON, in the order given: records near each other in the file are read together.
   * Read synchronously: the walk's order is scattered through the file, a read of a few KB a record
   * (10,000 for a CSV of 10,000 activities), each from the page cache in microseconds, where a trip
   * through the thread pool and its promise cost 4-6 times the CPU (the reads of a CSV: 200-300 ms
   * against 50-90). SQLite's reads are synchronous calls as well; the export's slices pace the loop.
   */
  private async json(entries: Entry[]): Promise<string[]> {
    const out: string[] = new Array(entries.length)
    const order = entries.map((_, i) => i).sort((a, b) => entries[a].start - entries[b].start)
    for (let i = 0; i < order.length;) {
      const first = entries[order[i]]
      let j = i + 1
      let end = first.end
      while (j < order.length && entries[order[j]].start - end <= READ_GAP && entries[order[j]].end - first.start <= READ_SPAN) {
        end = Math.max(end, entries[order[j]].end)
        j++
      }
      const bytes = Buffer.allocUnsafe(end - first.start)
      const bytesRead = readSync(this.index.file.fd, bytes, 0, bytes.length, first.start)
      if (bytesRead !== bytes.length) throw new Error('a version\'s document file ended early')
      for (; i < j; i++) {
        const e = entries[order[i]]
        out[order[i]] = bytes.toString('utf8', e.start - first.start, e.end - first.start)
      }
    }
    return out
  }

  async* activityPages(scope: ActivityScope, pageSize = WALK_PAGE_SIZE): AsyncGenerator<StoredActivity[]> {
    if (scope.statuses && !scope.statuses.length) return
    const { controllerId, role, statuses } = scope
    const wanted = this.index.activities.filter((a) => (!statuses || statuses.includes(a.status)) && (!role || a.role === role)
      && (!controllerId || a.controllerId === controllerId || a.jointControllerIds.includes(controllerId)))
    for (let i = 0; i < wanted.length; i += pageSize) {
      const page = wanted.slice(i, i + pageSize)
      const json = await this.json(page)
      yield page.map((a, k) => ({ id: a.id, json: json[k] }))
    }
  }

  async viewsIn(def: ResourceDef, ids: string[]): Promise<string[]> {
    const entries = this.index.byId.get(sectionOf(def))
    return this.json([...new Set(ids)].sort().flatMap((id) => { const e = entries?.get(id); return e ? [e] : [] }))
  }

  async* viewPages(def: ResourceDef, pageSize: number): AsyncGenerator<StoredActivity[]> {
    const entries = this.index.sections.get(sectionOf(def)) ?? []
    for (let i = 0; i < entries.length; i += pageSize) {
      const page = entries.slice(i, i + pageSize)
      const json = await this.json(page)
      yield page.map((e, k) => ({ id: e.id, json: json[k] }))
    }
  }

  async subProcessorIds(processorIds: string[]): Promise<string[]> {
    return (await this.viewsIn(processors, processorIds)).flatMap((json) => (processors.toWrite(JSON.parse(json)).subProcessorIds as string[]) ?? [])
  }

  async close(): Promise<void> {
    return undefined
  }
}

/**
 * Documents indexed for the exports under way, by workspace and version: exports of one version
 * at once (its ten files asked for together) share one file of its document, not one each. The
 * last export of it to finish removes the file.
 */
const inUse = new Map<string, { index: Promise<DocumentIndex>; users: number }>()

/** How many versions' documents are unzipped in temporary files now (for the tests). */
export const documentsInUse = (): number => inUse.size

/**
 * A frozen version's register; its document is unzipped and indexed once, when first needed, and
 * shared while exports of it are under way. `release` when the export is done, however it ended.
 */
function frozenRegister(db: Database, ws: string, number: number): RegisterSource & { ready(): Promise<void>; release(): void } {
  const key = `${ws}\n${number}`
  let held: { index: Promise<DocumentIndex>; users: number } | null = null
  const load = (): Promise<DocumentIndex> => {
    if (!held) {
      held = inUse.get(key) ?? { index: loadDocument(db, ws, number), users: 0 }
      held.users++
      inUse.set(key, held)
      held.index.catch(() => undefined)
    }
    return held.index
  }
  return {
    ws,
    open: async () => new FrozenViews(await load()),
    hasController: async (id) => Boolean((await load()).byId.get('controllers')?.has(id)),
    ready: async () => { await load() },
    release: () => {
      if (!held) return
      if (--held.users === 0) {
        if (inUse.get(key) === held) inUse.delete(key)
        // still loading: removed once loaded (a failed load removed its own)
        held.index.then(discard, () => undefined)
      }
      held = null
    },
  }
}

/** Bytes of a frozen document per read: SQLite reads the whole value for each, so not many (55 MB: 7 reads). */
const DOCUMENT_CHUNK = 8 * 1024 * 1024

/**
 * A frozen document's UTF-8 bytes a chunk at a time, on one snapshot, the event loop given back
 * between chunks: read whole, the document of 10,000 activities (55 MB) was one synchronous read
 * on SQLite and one decoding of the whole text on PostgreSQL, each holding the loop for seconds on a
 * busy machine, and a copy of it in memory.
 */
async function* documentChunks(db: Database, ws: string, number: number): AsyncGenerator<Buffer> {
  const series = await db.snapshot()
  try {
    const sqlite = db.dialect === 'sqlite'
    const bytes = sqlite ? 'CAST(document AS BLOB)' : 'convert_to(document, \'UTF8\')'
    const sized: Row[] = await series.read((m) => m.query(placeholders(db.dialect,
      `SELECT ${sqlite ? 'length' : 'octet_length'}(${bytes}) AS n FROM "register_versions" WHERE workspace_id = ? AND number = ?`), [ws, number]))
    if (!sized.length) throw new VersionNotFound(number)
    const length = Number(sized[0].n)
    for (let at = 0; at < length; at += DOCUMENT_CHUNK) {
      const rows: Row[] = await series.read((m) => m.query(placeholders(db.dialect,
        `SELECT ${sqlite ? `substr(${bytes}, ?, ?)` : `substring(${bytes} from CAST(? AS integer) for CAST(? AS integer))`} AS chunk FROM "register_versions" WHERE workspace_id = ? AND number = ?`),
      [at + 1, DOCUMENT_CHUNK, ws, number]))
      yield Buffer.from(rows[0].chunk as Uint8Array)
      await turn()
    }
  } finally {
    await series.close()
  }
}

/** A stored file's bytes, unzipped as they are read (in zlib's thread pool, a chunk at a time). */
function unzipped(stored: StoredFile): Readable {
  const stream = createGunzip({ chunkSize: 256 * 1024 })
  for (const part of stored.gzip) stream.write(part)
  stream.end()
  return stream
}

/** A version's row but its document. */
export type VersionHead = RegisterVersion

/**
 * A version's row but its frozen document. On SQLite the document is the row's last column
 * (migration VersionDocumentLast): a column stored after it is found by walking the document's
 * chain of overflow pages, 17,000 pages for 68 MB at 10,000 activities, 30-280 ms with the event
 * loop held, on every download of a version's file.
 */
async function findVersion(db: Database, ws: string, which: number | 'approved'): Promise<VersionHead> {
  const found = await db.read((m) => m.getRepository(RegisterVersion).findOne({
    where: which === 'approved' ? { workspaceId: ws, status: 'approved' } : { workspaceId: ws, number: which },
  }))
  if (!found) throw new VersionNotFound(which)
  return found
}

/** The SHA-256 of the version's JSON as served: the frozen document's, or after a redaction the redacted one's (the latest redaction states it). */
function servedHash(v: VersionHead): string {
  const redactions = versionRedactions(v)
  return redactions.length ? redactions[redactions.length - 1].documentHash : v.contentHash
}

const versionFileName = (q: ExportQuery, v: VersionHead, timeZone: string): string =>
  exportFileName(q, new Date(v.proposedAt), timeZone).replace(/-(\d{4}-\d{2}-\d{2})\.(\w+)$/, `-version-${v.number}-$1.$2`)

/** The stored file of an unfiltered query: its name in register_version_files, or null for a filtered query. */
export function versionFileKey(q: ExportQuery): string | null {
  if (q.controllerId !== undefined || q.status !== undefined) return null
  if (q.format === 'xlsx') return `xlsx:${q.lang}`
  if (q.format === 'csv') return `csv:${q.lang}:${q.record}:${csvDelimiter(q) === ';' ? 'semicolon' : 'comma'}`
  return null
}

interface StoredFile {
  /** The gzip's bytes, in parts as they were read. */
  gzip: Buffer[]
  bytes: number
}

/** Base64 characters of a stored file per read (a multiple of 4, so each decodes to whole bytes). */
const STORED_CHUNK = 2 * 1024 * 1024

/**
 * A stored file's bytes, read and decoded a part at a time on one snapshot, the event loop given
 * back after each read and each decoding. A file is stored in parts of VERSION_FILE_PART (a row
 * each): SQLite reads a whole value for every read of a piece of it, so the frozen document's file
 * (10 MB of base64 at 10,000 activities) read in 2 MB pieces of one value held the loop 15-150 ms a
 * piece, each as long as a read of the whole. A file stored before parts existed is one part, read
 * in pieces until one comes back short (its length is not asked first: length() of a text reads it
 * whole too).
 */
async function storedFile(db: Database, ws: string, number: number, file: string): Promise<StoredFile | null> {
  const series = await db.snapshot()
  try {
    const where = 'FROM "register_version_files" WHERE workspace_id = ? AND number = ? AND file = ?'
    const parts: Row[] = await series.read((m) => m.query(placeholders(db.dialect, `SELECT part, bytes ${where} ORDER BY part`), [ws, number, file]))
    if (!parts.length) return null
    const gzip: Buffer[] = []
    for (const { part } of parts) {
      for (let at = 0; ; at += STORED_CHUNK) {
        await turn()
        const rows: Row[] = await series.read((m) => m.query(placeholders(db.dialect,
          `SELECT substr(gzip, CAST(? AS integer), CAST(? AS integer)) AS chunk ${where} AND part = ?`), [at + 1, STORED_CHUNK, ws, number, file, part]))
        const chunk = (rows[0]?.chunk ?? '') as string
        if (!chunk.length) break
        gzip.push(Buffer.from(chunk, 'base64'))
        if (chunk.length < STORED_CHUNK) break
      }
    }
    return { gzip, bytes: Number(parts[0].bytes) }
  } finally {
    await series.close()
  }
}

/**
 * Stores a rendered file in parts, a row each, in one transaction; another process that stored the
 * same file first wins (its part 0 is there: ON CONFLICT DO NOTHING), and then its bytes are read
 * back. Each step is one synchronous call on SQLite, so the event loop gets a turn between them.
 */
async function storeFile(db: Database, ws: string, number: number, file: string, bytes: number, chunks: Buffer[]): Promise<StoredFile & { ours: boolean }> {
  const length = chunks.reduce((n, c) => n + c.length, 0)
  await turn()
  // whole base64 quanta per part: each part decodes alone
  const partBytes = (VERSION_FILE_PART / 4) * 3
  // Each part is copied out of the gzip's chunks on its own, not from one buffer of them all: a
  // copy of the whole file beside its chunks was a workbook's size (6 MB at 10,000 activities)
  // added to the peak of a version's first workbook, at its end.
  const part = Buffer.allocUnsafe(Math.min(partBytes, length))
  let chunk = 0
  let offset = 0
  const nextPart = (): Buffer => {
    let filled = 0
    while (filled < part.length && chunk < chunks.length) {
      const copied = chunks[chunk].copy(part, filled, offset)
      filled += copied
      offset += copied
      if (offset === chunks[chunk].length) { chunk++; offset = 0 }
    }
    return part.subarray(0, filled)
  }
  const renderedAt = new Date().toISOString()
  const stored = await db.write(async (m) => {
    const insert = placeholders(dialectOfManager(m),
      'INSERT INTO "register_version_files" (workspace_id, number, file, part, rendered_at, bytes, gzip) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING file')
    for (let n = 0; n * partBytes < length || n === 0; n++) {
      const text = nextPart().toString('base64')
      const inserted: Row[] = await m.query(insert, [ws, number, file, n, renderedAt, bytes, text])
      if (!inserted.length) return false
      await turn()
    }
    return true
  })
  if (stored) return { gzip: chunks, bytes, ours: true }
  await turn()
  return { ...(await storedFile(db, ws, number, file))!, ours: false }
}

/** Renders in flight in this process, so that downloads asking for the same file at once wait for one render. */
const rendering = new Map<string, Promise<StoredFile>>()

/** The gzip level of a stored rendering: it is written once and read on every later download. */
const STORED_GZIP_LEVEL = 6

/**
 * The first download of a file: rendered from the version's document and sent as it is written,
 * while a gzip of the same bytes is kept and stored (storeFile) once the render ends. Waiting for
 * the store to serve the stored bytes made the first download the render and then the download of
 * the stored file, one after the other. The response ends only once its bytes are stored (or, when
 * another process stored the file first, found equal to the stored ones): a download that completes
 * holds the stored bytes. A client that goes away does not stop the render: the file is stored for
 * the next download. Downloads of the same file meanwhile in this process wait for the store
 * (`rendering`) and are served the stored bytes.
 */
async function renderStreamed(db: Database, ws: string, version: VersionHead, q: ExportQuery, file: string, timeZone: string): Promise<Readable> {
  const key = `${ws}\n${version.number}\n${file}`
  let settle!: { resolve(s: StoredFile): void; reject(err: unknown): void }
  const stored = new Promise<StoredFile>((resolve, reject) => { settle = { resolve, reject } })
  stored.catch(() => undefined).finally(() => rendering.delete(key))
  rendering.set(key, stored)
  let register: ReturnType<typeof frozenRegister> | null = null
  let exported: RegisterExport
  try {
    const proof = proofBlock(await versionProof(db, ws, version), q.lang)
    register = frozenRegister(db, ws, version.number)
    // the document unzipped and indexed before the response starts: a document that cannot be read is an error status
    await register.ready()
    exported = exportFrom(register, q, new Date(version.proposedAt), timeZone, proof)
  } catch (err) {
    register?.release()
    settle.reject(err)
    throw err
  }
  const out = new PassThrough()
  // the client's pace while it reads; none once it has gone away
  const drained = (): Promise<void> => new Promise((resolve) => {
    const done = (): void => { out.off('drain', done); out.off('close', done); resolve() }
    out.on('drain', done)
    out.on('close', done)
  })
  const chunks: Buffer[] = []
  let bytes = 0
  const rendered = pipeline(exported.stream, async function* (source: AsyncIterable<Buffer | string>) {
    for await (const chunk of source) {
      const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk)
      bytes += b.length
      if (!out.destroyed && !out.write(b)) await drained()
      yield b
    }
  }, createGzip({ level: STORED_GZIP_LEVEL }), async (gzipped: AsyncIterable<Buffer>) => { for await (const c of gzipped) chunks.push(c) })
    .finally(() => register!.release())
  rendered.then(() => storeFile(db, ws, version.number, file, bytes, chunks)).then(async (kept) => {
    // another process stored this file first: what was sent must be what it stored
    const same = kept.ours || (kept.bytes === bytes && (await promisify(gunzip)(Buffer.concat(kept.gzip))).equals(await promisify(gunzip)(Buffer.concat(chunks))))
    settle.resolve(kept)
    if (same) out.end()
    else out.destroy(new Error(`version ${version.number}: ${file} was stored by another process with other bytes than rendered here`))
  }).catch((err) => {
    settle.reject(err)
    out.destroy(err)
  })
  return out
}

/**
 * A workbook rendered from the version's document, gzipped as it is written, then stored (storeFile:
 * the first process to store it wins), and the stored bytes are what every download gets: its zip
 * holds the time it was written, so two renders differ and the first download cannot be sent as
 * rendered (renderStreamed) when another process may store its own first.
 */
async function render(db: Database, ws: string, version: VersionHead, q: ExportQuery, file: string, timeZone: string): Promise<StoredFile> {
  const proof = proofBlock(await versionProof(db, ws, version), q.lang)
  const register = frozenRegister(db, ws, version.number)
  const exported = exportFrom(register, q, new Date(version.proposedAt), timeZone, proof)
  const chunks: Buffer[] = []
  let bytes = 0
  await pipeline(exported.stream, async function* (source: AsyncIterable<Buffer | string>) {
    for await (const chunk of source) {
      const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk)
      bytes += b.length
      yield b
    }
  }, createGzip({ level: STORED_GZIP_LEVEL }), async (gzipped: AsyncIterable<Buffer>) => { for await (const c of gzipped) chunks.push(c) }).finally(() => register.release())
  return storeFile(db, ws, version.number, file, bytes, chunks)
}


/** The frozen document read from the version's row a chunk at a time, gzipped and stored as its file. */
async function storeDocument(db: Database, ws: string, number: number): Promise<StoredFile> {
  const chunks: Buffer[] = []
  let bytes = 0
  await pipeline(Readable.from(documentChunks(db, ws, number), { objectMode: false }), async function* (source: AsyncIterable<Buffer>) {
    for await (const chunk of source) {
      bytes += chunk.length
      yield chunk
    }
  }, createGzip(), async (gzipped: AsyncIterable<Buffer>) => { for await (const c of gzipped) chunks.push(c) })
  return storeFile(db, ws, number, FROZEN_DOCUMENT_FILE, bytes, chunks)
}

function storeOnce(db: Database, ws: string, number: number): Promise<StoredFile> {
  const key = `${ws}\n${number}\n${FROZEN_DOCUMENT_FILE}`
  let pending = rendering.get(key)
  if (!pending) {
    pending = storeDocument(db, ws, number).finally(() => rendering.delete(key))
    rendering.set(key, pending)
  }
  return pending
}

function renderOnce(db: Database, ws: string, version: VersionHead, q: ExportQuery, file: string, timeZone: string): Promise<StoredFile> {
  const key = `${ws}\n${version.number}\n${file}`
  let pending = rendering.get(key)
  if (!pending) {
    pending = render(db, ws, version, q, file, timeZone).finally(() => rendering.delete(key))
    rendering.set(key, pending)
  }
  return pending
}


/**
 * An export of a version. JSON: the frozen document itself; it is the whole register, so record,
 * controllerId and status do not apply to it. CSV and workbook: with every option of the export,
 * the same bytes on every download (stored at the first one, unless filtered).
 */
export async function exportVersion(db: Database, ws: string, which: number | 'approved', q: ExportQuery & { recordGiven: boolean }, timeZone: string): Promise<RegisterExport & { version: VersionHead; length?: number; etag?: string }> {
  if (q.format === 'json') {
    const misplaced = [q.recordGiven && 'record', q.controllerId && 'controllerId', q.status && 'status'].filter(Boolean) as string[]
    if (misplaced.length) {
      throw new ValidationFailed(misplaced.map((field) => ({ field: `query.${field}`, message: `the JSON of a version is its frozen document of the whole register; ${field} applies to format=csv` })))
    }
  }
  const version = await findVersion(db, ws, which)
  // each read below is a synchronous call on SQLite: not one chain of them with the loop held
  await turn()
  const query: ExportQuery = { format: q.format, record: q.record, lang: q.lang, delimiter: q.delimiter, controllerId: q.controllerId, status: q.status }
  const fileName = versionFileName(query, version, timeZone)
  if (q.format === 'json') {
    // the frozen bytes as they are (their SHA-256 is contentHash), from the file stored when the
    // version was frozen, or else stored now from the version's row (a version frozen before)
    const stored = await storedFile(db, ws, version.number, FROZEN_DOCUMENT_FILE) ?? await storeOnce(db, ws, version.number)
    return { version, stream: unzipped(stored), contentType: 'application/json; charset=utf-8', fileName, length: stored.bytes, etag: servedHash(version) }
  }
  const contentType = q.format === 'xlsx' ? XLSX_CONTENT_TYPE : 'text/csv; charset=utf-8'
  const file = versionFileKey(query)
  if (file) {
    const stored = await storedFile(db, ws, version.number, file)
    if (stored) return { version, stream: unzipped(stored), contentType, fileName, length: stored.bytes }
    // a CSV rendered now (renderStreamed), or being rendered in this process for another download: its stored bytes once stored
    const pending = rendering.get(`${ws}\n${version.number}\n${file}`)
    if (!pending && q.format === 'csv') return { version, stream: await renderStreamed(db, ws, version, query, file, timeZone), contentType, fileName }
    const kept = await (pending ?? renderOnce(db, ws, version, query, file, timeZone))
    return { version, stream: unzipped(kept), contentType, fileName, length: kept.bytes }
  }
  const proof = proofBlock(await versionProof(db, ws, version), query.lang)
  const register = frozenRegister(db, ws, version.number)
  try {
    await checkExportQuery(register, ws, query)
  } catch (err) {
    register.release()
    throw err
  }
  const exported = exportFrom(register, query, new Date(version.proposedAt), timeZone, proof)
  exported.stream.once('close', () => register.release())
  return { ...exported, version, fileName }
}
