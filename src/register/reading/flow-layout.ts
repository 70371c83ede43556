import { join } from 'node:path'
import { Worker } from 'node:worker_threads'
import type { ElkNode } from 'elkjs'
import { AppError } from '../../errors'

/**
 * ELK layouts of data-flow pictures, run off the event loop: one worker thread, started on first use
 * and reused, takes one layout at a time; the others wait in a short queue. A layout that is not done
 * within `timeoutMs` of being asked for is answered with a 503 (the worker is ended and a new one
 * started for the next), and a full queue is a 503 at once, so drawing can neither stall the service
 * nor pile up work nobody waits for.
 */
export interface FlowLayoutOptions {
  /** From the request to the finished layout, queueing included. */
  timeoutMs: number
  /** Layouts that may wait while one runs. */
  maxQueued: number
}

interface Job {
  id: number
  graph: ElkNode
  resolve: (laid: ElkNode) => void
  reject: (err: Error) => void
  timer: NodeJS.Timeout
}

/** What a 503 of a route that draws the picture means (OpenAPI). */
export const LAYOUT_UNAVAILABLE = 'The data-flow picture could not be drawn in time (code layout_timeout) or too many are being drawn (layout_busy); retry, or narrow the selection'

const WORKER_FILE = join(__dirname, 'flow-layout-worker.js')

export class FlowLayout {
  private worker: Worker | null = null
  private running: Job | null = null
  private readonly queue: Job[] = []
  private nextId = 0

  constructor(readonly options: FlowLayoutOptions) {}

  /** A layout is under way in the worker. */
  get busy(): boolean {
    return this.running !== null
  }

  layout(graph: ElkNode): Promise<ElkNode> {
    if (this.queue.length >= this.options.maxQueued) {
      return Promise.reject(new AppError(503, 'layout_busy', 'Too many data-flow pictures are being drawn at the moment; retry shortly, or ask for format=json'))
    }
    return new Promise<ElkNode>((resolve, reject) => {
      const job: Job = { id: this.nextId++, graph, resolve, reject, timer: undefined as unknown as NodeJS.Timeout }
      job.timer = setTimeout(() => this.timedOut(job), this.options.timeoutMs)
      this.queue.push(job)
      this.next()
    })
  }

  /** Ends the worker (the next layout starts a new one); layouts under way or waiting are refused. */
  async close(): Promise<void> {
    for (const job of this.queue.splice(0)) this.fail(job, new AppError(503, 'layout_unavailable', 'The service is shutting down'))
    if (this.running) this.fail(this.running, new AppError(503, 'layout_unavailable', 'The service is shutting down'))
    this.running = null
    await this.stopWorker()
  }

  private next(): void {
    if (this.running || !this.queue.length) return
    const job = this.queue.shift()!
    this.running = job
    const worker = this.startWorker()
    worker.ref()
    worker.postMessage({ id: job.id, graph: job.graph })
  }

  private startWorker(): Worker {
    if (this.worker) return this.worker
    const worker = new Worker(WORKER_FILE)
    worker.on('message', (msg: { id: number; laid?: ElkNode; error?: string }) => {
      const job = this.running
      if (!job || job.id !== msg.id) return
      this.running = null
      clearTimeout(job.timer)
      if (msg.error !== undefined) job.reject(new Error(`ELK layout failed: ${msg.error}`))
      else job.resolve(msg.laid!)
      if (!this.queue.length) worker.unref()
      this.next()
    })
    // A worker that dies (out of memory, a crash) fails the layout it had; the next one gets a new worker.
    const gone = (err?: Error) => {
      if (this.worker !== worker) return
      this.worker = null
      const job = this.running
      this.running = null
      if (job) this.fail(job, err ?? new Error('the layout worker stopped'))
      this.next()
    }
    worker.on('error', gone)
    worker.on('exit', () => gone())
    this.worker = worker
    return worker
  }

  private async stopWorker(): Promise<void> {
    const worker = this.worker
    this.worker = null
    if (worker) await worker.terminate()
  }

  private timedOut(job: Job): void {
    const seconds = (this.options.timeoutMs / 1000).toLocaleString('en', { maximumFractionDigits: 1 })
    const err = new AppError(503, 'layout_timeout', `Drawing the data-flow picture took longer than ${seconds} s; retry, or narrow it with controllerId or status, or ask for format=json`)
    const waiting = this.queue.indexOf(job)
    if (waiting >= 0) {
      this.queue.splice(waiting, 1)
      job.reject(err)
      return
    }
    if (this.running === job) {
      // ELK cannot be interrupted: the worker is ended with its layout, and the next layout starts a new one
      this.running = null
      job.reject(err)
      void this.stopWorker().then(() => this.next())
    }
  }

  private fail(job: Job, err: Error): void {
    clearTimeout(job.timer)
    job.reject(err)
  }
}

/** The process's one layout worker: a picture of 250 nodes takes a few seconds, so 30 s is far beyond a healthy one. */
export const flowLayout = new FlowLayout({ timeoutMs: 30_000, maxQueued: 8 })
