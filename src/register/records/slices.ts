/**
 * Long work in slices, so that no reader holds the event loop (issue 19: ≤ 100 ms at a time). On
 * SQLite every read is a synchronous call, so a loop of reads and the CPU work on their rows runs
 * as one chain of microtasks that never lets a timer, a socket or another request in: such a loop
 * asks `pace()` between items, and gives the event loop a turn once a slice of time is used.
 */

/** Milliseconds of work before the event loop gets a turn. */
export const SLICE_MS = 20

/** A turn of the event loop (a macrotask: timers, sockets and other requests run first). */
export const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

export class Slices {
  private started = performance.now()

  constructor(private readonly ms = SLICE_MS) {}

  /** True once this slice's time is used. */
  due(): boolean {
    return performance.now() - this.started >= this.ms
  }

  /** A turn of the event loop if this slice's time is used; a new slice after it. */
  async pace(): Promise<void> {
    if (performance.now() - this.started < this.ms) return
    await turn()
    this.started = performance.now()
  }
}
