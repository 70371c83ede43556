import { parentPort } from 'node:worker_threads'
import ELK from 'elkjs'

/**
 * The worker thread that lays out data-flow pictures (see flow-layout.ts). ELK's layered layout is
 * synchronous CPU work of seconds on a large register; here it blocks only this thread.
 */
const elk = new ELK()

parentPort!.on('message', async (msg: { id: number; graph: any }) => {
  try {
    parentPort!.postMessage({ id: msg.id, laid: await elk.layout(msg.graph) })
  } catch (err) {
    parentPort!.postMessage({ id: msg.id, error: err instanceof Error ? err.message : String(err) })
  }
})
