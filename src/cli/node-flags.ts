/**
 * The V8 flags the service runs with: `npm start` passes them (test/node-lines.test.ts holds the
 * two together), and the benchmarks' servers run with them, so that bench/ measures what runs.
 *
 * A semi-space of the young generation at most 16 MB: on a machine with much memory, Node.js 24
 * lets the young generation grow further, and an export of 10,000 activities then added 68-121 MB
 * of RSS against 10-24 MB with the cap, in the same time (bench/NOTES.md, 2026-12-06); Node.js 20,
 * on which bench/'s earlier figures were taken, added 6-20 MB without it.
 */
export const SERVICE_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=16']
