import ELK from 'elkjs'
import type { ElkNode } from 'elkjs'

/**
 * The task of the layout pool's worker threads (see flow-layout.ts). ELK's layered layout is
 * synchronous CPU work of seconds on a large register; here it blocks only this thread.
 */
const elk = new ELK()

export default function layout({ graph }: { graph: ElkNode }): Promise<ElkNode> {
  return elk.layout(graph)
}
