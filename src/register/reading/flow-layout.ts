import { availableParallelism } from 'node:os'
import { join } from 'node:path'
import type { ElkNode } from 'elkjs'
import Tinypool from 'tinypool'
import { AppError } from '../../errors'

/**
 * ELK layouts of data-flow pictures, run off the event loop in a pool of worker threads (tinypool).
 *
 * Fair between workspaces: each workspace has its own queue, bounded (`perWorkspace`, waiting and
 * under way together), and a free thread takes the oldest layout of the workspace with the fewest
 * under way, taking turns: a workspace that fills its share is refused (503 `layout_busy`) without
 * refusing another, which waits for the layouts under way, not for the first one's queue. A layout that is not done within `timeoutMs`
 * of being asked for is answered 503 `layout_timeout`; a layout whose client went away (its
 * `signal`) is dropped from its queue, or its thread ended (ELK cannot be interrupted otherwise).
 * Either way its place is free at once for the next.
 */
export interface FlowLayoutOptions {
  /** From the request to the finished layout, queueing included. */
  timeoutMs: number
  /** Layouts one workspace may have waiting or under way. */
  perWorkspace: number
  /** Layouts drawn at once (worker threads). */
  threads: number
}

/** Whose layout it is, and when to stop drawing it. */
export interface LayoutRequest {
  workspace: string
  /** Aborted when the client has gone away. */
  signal?: AbortSignal
}

/** A 503 that says when to try again (the budgets plugin sends it as Retry-After). */
export class LayoutUnavailable extends AppError {
  constructor(code: string, message: string, readonly retryAfterSeconds: number) {
    super(503, code, message)
  }
}

/** The client went away: nobody reads the answer, and it is not the service's failure. */
export class ClientGone extends AppError {
  constructor() {
    super(499, 'client_gone', 'The client closed the connection before the picture was drawn')
  }
}

/** What a 503 of a route that draws the picture means (OpenAPI). */
export const LAYOUT_UNAVAILABLE = 'The data-flow picture could not be drawn in time (code layout_timeout) or this workspace has too many being drawn (layout_busy); retry after Retry-After seconds, or narrow the selection'

const WORKER_FILE = join(__dirname, 'flow-layout-worker.js')

interface Job {
  workspace: string
  graph: ElkNode
  resolve: (laid: ElkNode) => void
  reject: (err: Error) => void
  /** Ends the job's task in the pool (dropped from its queue, or its thread ended). */
  stop: AbortController
  timer: NodeJS.Timeout
  started: boolean
  settled: boolean
  onClientGone?: () => void
}

export class FlowLayout {
  private pool: Tinypool | null = null
  /** Each workspace's waiting layouts, oldest first. */
  private readonly waiting = new Map<string, Job[]>()
  /** When each workspace last had a turn (a counter); forgotten when it has nothing left. */
  private readonly turns = new Map<string, number>()
  private turn = 0
  /** Each workspace's layouts waiting or under way. */
  private readonly held = new Map<string, number>()
  private running = 0

  constructor(readonly options: FlowLayoutOptions) {}

  /** A layout is under way in a worker. */
  get busy(): boolean {
    return this.running > 0
  }

  /** The workspace's layouts waiting or under way. */
  load(workspace: string): number {
    return this.held.get(workspace) ?? 0
  }

  layout(graph: ElkNode, request: LayoutRequest = { workspace: '' }): Promise<ElkNode> {
    const { workspace, signal } = request
    if (signal?.aborted) return Promise.reject(new ClientGone())
    if (this.load(workspace) >= this.options.perWorkspace) {
      return Promise.reject(new LayoutUnavailable('layout_busy', `This workspace has ${this.options.perWorkspace} data-flow pictures being drawn already; retry shortly, or ask for format=json`, 2))
    }
    return new Promise<ElkNode>((resolve, reject) => {
      const job: Job = { workspace, graph, resolve, reject, stop: new AbortController(), timer: undefined as unknown as NodeJS.Timeout, started: false, settled: false }
      this.held.set(workspace, this.load(workspace) + 1)
      job.timer = setTimeout(() => this.settle(job, this.timeout()), this.options.timeoutMs)
      if (signal) {
        job.onClientGone = () => this.settle(job, new ClientGone())
        signal.addEventListener('abort', job.onClientGone, { once: true })
        job.stop.signal.addEventListener('abort', () => signal.removeEventListener('abort', job.onClientGone!), { once: true })
      }
      const queue = this.waiting.get(workspace)
      if (queue) queue.push(job)
      else this.waiting.set(workspace, [job])
      this.next()
    })
  }

  /** Ends the pool (the next layout starts a new one); layouts under way or waiting are refused. */
  async close(): Promise<void> {
    for (const jobs of [...this.waiting.values()]) {
      for (const job of [...jobs]) this.settle(job, new LayoutUnavailable('layout_unavailable', 'The service is shutting down', 5))
    }
    const pool = this.pool
    this.pool = null
    if (pool) await pool.destroy()
  }

  private timeout(): LayoutUnavailable {
    const seconds = (this.options.timeoutMs / 1000).toLocaleString('en', { maximumFractionDigits: 1 })
    return new LayoutUnavailable('layout_timeout', `Drawing the data-flow picture took longer than ${seconds} s; retry, or narrow it with controllerId or status, or ask for format=json`, 5)
  }

  private workers(): Tinypool {
    // no queue of its own beyond what it draws: the queues are the workspaces' (above)
    this.pool ??= new Tinypool({ filename: WORKER_FILE, minThreads: 0, maxThreads: this.options.threads, maxQueue: this.options.threads, idleTimeout: 60_000 })
    return this.pool
  }

  /**
   * Free threads take the oldest layout of the workspace with the fewest under way, and of those the one
   * whose turn came longest ago: a workspace that just had its turn waits behind every other.
   */
  private next(): void {
    while (this.running < this.options.threads && this.waiting.size) {
      let chosen: string | null = null
      let best: [number, number] = [Infinity, Infinity]
      for (const [workspace, jobs] of this.waiting) {
        const rank: [number, number] = [this.load(workspace) - jobs.length, this.turns.get(workspace) ?? 0]
        if (rank[0] < best[0] || (rank[0] === best[0] && rank[1] < best[1])) [chosen, best] = [workspace, rank]
      }
      const jobs = this.waiting.get(chosen!)!
      const job = jobs.shift()!
      if (!jobs.length) this.waiting.delete(chosen!)
      this.turns.set(chosen!, ++this.turn)
      this.run(job)
    }
  }

  private run(job: Job): void {
    job.started = true
    this.running++
    this.workers().run({ graph: job.graph }, { signal: job.stop.signal }).then(
      (laid: ElkNode) => this.settle(job, null, laid),
      (err: Error) => this.settle(job, new Error(`ELK layout failed: ${err?.message ?? err}`)),
    )
  }

  /** The job's one outcome; its place in the workspace's share and its thread are free at once. */
  private settle(job: Job, err: Error | null, laid?: ElkNode): void {
    if (job.settled) return
    job.settled = true
    clearTimeout(job.timer)
    const held = this.load(job.workspace) - 1
    if (held > 0) this.held.set(job.workspace, held)
    else {
      this.held.delete(job.workspace)
      this.turns.delete(job.workspace)
    }
    if (job.started) {
      this.running--
    } else {
      const queue = this.waiting.get(job.workspace)
      const at = queue?.indexOf(job) ?? -1
      if (at >= 0) queue!.splice(at, 1)
      if (queue && !queue.length) this.waiting.delete(job.workspace)
    }
    // ends the task in the pool when it was not done (a timeout or a client gone: its thread is ended)
    job.stop.abort()
    if (err) job.reject(err)
    else job.resolve(laid!)
    this.next()
  }
}

/**
 * The process's layout pool. A picture of 250 nodes takes a few seconds, so 30 s (LAYOUT_TIMEOUT) is far
 * beyond a healthy one; one thread less than the machine has (at least one, at most four), so drawing
 * never takes every core from the requests.
 */
export const flowLayout = new FlowLayout({ timeoutMs: 30_000, perWorkspace: 8, threads: Math.max(1, Math.min(4, availableParallelism() - 1)) })
