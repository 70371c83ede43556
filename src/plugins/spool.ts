import fp from 'fastify-plugin'
import { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { createReadStream, ReadStream } from 'node:fs'
import { mkdtemp, open, rm, unlink } from 'node:fs/promises'
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { randomUUID } from 'node:crypto'
import type { ServerResponse } from 'node:http'
import type { Readable } from 'node:stream'
import { AppError } from '../errors'

declare module 'fastify' {
  interface FastifyInstance {
    /** Temporary files of answers being sent (plugins/spool). */
    spool: Spool
  }
}

/** Bytes gathered before one write to the spool file (an export yields a row at a time). */
const WRITE_BATCH = 256 * 1024

/** Chunks of a batch written as they are, with one writev; more are joined first. */
const WRITEV_MAX = 64

/** Answers this large or larger are watched for a stalled client even when sent from memory. */
const WATCHED_BYTES = 64 * 1024

/** The answer did not fit in SPOOL_MAX_BYTES. */
export class AnswerTooLarge extends AppError {
  constructor(maxBytes: number) {
    super(507, 'answer_too_large', `The answer is larger than this service sends at once (${maxBytes} bytes, SPOOL_MAX_BYTES); ask for less (controllerId, status, record)`)
  }
}

/** The client went away while its answer was being spooled. */
class ClientGone extends Error {}

export interface SpooledAnswer {
  stream: Readable
  size: number
}

/**
 * Temporary files under one directory of this process. A file's name is removed as soon as it is
 * open, so that nothing is left behind whatever happens to the process (the space is freed when
 * its descriptor closes: when the answer is sent, the client goes away, or the process ends);
 * the directory itself is removed when the app closes and on process exit.
 */
export class Spool {
  private dir: Promise<string> | null = null
  private dirPath: string | null = null
  private readonly removeOnExit = (): void => {
    if (this.dirPath) rmSync(this.dirPath, { recursive: true, force: true })
  }

  constructor(private readonly parent: string, readonly maxBytes: number) {}

  private directory(): Promise<string> {
    this.dir ??= mkdtemp(join(this.parent, 'ropa-spool-')).then((path) => {
      this.dirPath = path
      process.once('exit', this.removeOnExit)
      return path
    })
    return this.dir
  }

  /** The directory of this process's spool files (for tests and operators). */
  async path(): Promise<string> {
    return this.directory()
  }

  /**
   * Reads `source` whole into a temporary file at the speed the source gives it (the database's),
   * then answers a stream of the file. `gone` aborts it (the client left). Over maxBytes:
   * AnswerTooLarge. Either way the source is destroyed (its snapshot closed) before this returns.
   */
  async take(source: Readable, gone: AbortSignal): Promise<SpooledAnswer> {
    const path = join(await this.directory(), `${randomUUID()}.part`)
    const file = await open(path, 'w+', 0o600)
    await unlink(path)
    let size = 0
    try {
      let batch: Buffer[] = []
      let batched = 0
      // Text (an export's rows) is encoded into one buffer that every batch reuses, not into a
      // Buffer of its own per row: those lived across the batch's write, outlived the young
      // generation, and only a full collection freed them (on Node.js 24, 68 MB of a JSON export
      // of 50,000 activities; bench/NOTES.md). `text` is where this batch's text starts in it.
      const scratch = Buffer.allocUnsafeSlow(WRITE_BATCH)
      let used = 0
      let text = -1
      const flush = async (): Promise<void> => {
        if (!batched) return
        const buffers = batch
        const length = batched
        batch = []
        batched = 0
        // A few large chunks (a workbook's zip, a stored file unzipped) go to the file as they are:
        // copied into one buffer first they were one more copy of the answer's bytes outside the
        // heap, garbage that nothing collected while the answer was sent from the file (6 MB of a
        // 10,000-activity workbook). Many small ones are still joined for one write.
        if (buffers.length <= WRITEV_MAX) await file.writev(buffers)
        else await file.write(Buffer.concat(buffers, length), 0, length, null)
        used = 0
        text = -1
      }
      for await (const chunk of source) {
        if (gone.aborted) throw new ClientGone()
        const length = typeof chunk === 'string' ? Buffer.byteLength(chunk, 'utf8') : (chunk as Buffer).length
        size += length
        if (size > this.maxBytes) throw new AnswerTooLarge(this.maxBytes)
        if (typeof chunk !== 'string' || length > WRITE_BATCH) {
          batch.push(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : (chunk as Buffer))
          batched += length
          text = -1
        } else {
          if (used + length > WRITE_BATCH) await flush()
          scratch.write(chunk, used, length, 'utf8')
          // consecutive text is one stretch of the scratch buffer: one piece of the writev
          if (text >= 0) batch[batch.length - 1] = scratch.subarray(text, used + length)
          else {
            text = used
            batch.push(scratch.subarray(used, used + length))
          }
          used += length
          batched += length
        }
        if (batched >= WRITE_BATCH) await flush()
      }
      await flush()
    } catch (err) {
      source.destroy()
      await file.close()
      throw err
    }
    source.destroy()
    return { stream: createReadStream('', { fd: file, start: 0, autoClose: true }), size }
  }

  async close(): Promise<void> {
    process.removeListener('exit', this.removeOnExit)
    if (this.dir) await rm(await this.dir, { recursive: true, force: true })
    this.dir = null
    this.dirPath = null
  }
}

/**
 * Closes the connection when an answer makes no progress for `idleMs` (the client stopped
 * reading): the socket's inactivity timer runs only while nothing is written or read.
 */
function closeWhenStalled(res: ServerResponse, idleMs: number): void {
  const socket = res.socket
  if (idleMs <= 0 || !socket) return
  // the socket, not the response: a response is finished once its last bytes are handed to the
  // socket, which may still hold them for a client that stopped reading (then Node gives the
  // socket its keep-alive timeout, which closes it too)
  res.setTimeout(idleMs, () => socket.destroy())
}

/**
 * Nobody outside holds our resources: every answer sent as a stream (exports in every format, a
 * version's files) is read whole from its one snapshot into a spool file at the database's speed,
 * the snapshot is closed, and only then is the file sent at the client's speed. An error while
 * spooling is still a JSON error with its status (no header has gone). Any sizeable answer that
 * makes no progress for DOWNLOAD_IDLE_TIMEOUT is closed.
 */
export default fp(async function spool(app: FastifyInstance) {
  const { spoolMaxBytes, spoolDir, downloadIdleTimeoutMs } = app.config.limits
  const spooled = new Spool(spoolDir, spoolMaxBytes)
  app.decorate('spool', spooled)

  app.addHook('onSend', (request: FastifyRequest, reply: FastifyReply, payload: unknown, done: (err: Error | null, payload?: unknown) => void) => {
    // a file already (Swagger UI's assets) holds nothing of the database: sent as it is
    if (payload === null || typeof payload !== 'object' || typeof (payload as Readable).pipe !== 'function' || payload instanceof ReadStream) {
      if (payload instanceof ReadStream) closeWhenStalled(reply.raw, downloadIdleTimeoutMs)
      if ((typeof payload === 'string' || Buffer.isBuffer(payload)) && payload.length >= WATCHED_BYTES) closeWhenStalled(reply.raw, downloadIdleTimeoutMs)
      done(null, payload)
      return
    }
    const source = payload as Readable
    const gone = new AbortController()
    // the response closes before it is sent only when the connection does
    const leave = (): void => gone.abort()
    reply.raw.once('close', leave)
    spooled.take(source, gone.signal).then(({ stream, size }) => {
      reply.raw.removeListener('close', leave)
      if (gone.signal.aborted) {
        stream.destroy()
        done(null, '') // to nobody: the connection is closed
        return
      }
      reply.raw.once('close', () => stream.destroy())
      reply.header('content-length', size)
      closeWhenStalled(reply.raw, downloadIdleTimeoutMs)
      done(null, stream)
    }, (err: Error) => {
      reply.raw.removeListener('close', leave)
      if (err instanceof ClientGone) {
        done(null, '') // to nobody: the connection is closed
        return
      }
      // the error is answered as JSON, not as the file the headers announced
      for (const name of ['content-disposition', 'etag', 'x-register-version']) reply.removeHeader(name)
      done(err)
    })
  })

  app.addHook('onClose', async () => spooled.close())
}, { name: 'spool' })
