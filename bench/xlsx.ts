import 'reflect-metadata'
import { execFileSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import http from 'node:http'
import { join } from 'node:path'
import { Dialect } from '../src/db/data-source'
import { buildViews, generate, LINKS, machine, mb, runChild, scratchDatabase, serve } from './register'
import { SERVICE_NODE_FLAGS } from '../src/cli/node-flags'

/**
 * XLSX export benchmark: registers of two sizes, each exported as CSV (the baseline) and as an XLSX
 * workbook over HTTP, in the same run, each export in a child process of its own that samples its
 * memory while the response streams through a socket on 127.0.0.1. Memory is flat in the register's
 * size when the larger register's peak is about the smaller one's. Results in bench/RESULTS-xlsx.md.
 *
 *   npm run build && node dist/bench/xlsx.js                  (SQLite, 2,000 and 10,000 activities)
 *   node dist/bench/xlsx.js sqlite postgres                    (both)
 *   BENCH_SIZES=2000,50000 node dist/bench/xlsx.js            (other sizes)
 */

const SIZES = (process.env.BENCH_SIZES ?? process.env.BENCH_ACTIVITIES ?? '2000,10000').split(',').map(Number)
if (!SIZES.length || SIZES.some((n) => !Number.isInteger(n) || n < 1)) throw new Error('BENCH_SIZES: positive integers separated by commas')
const RESULTS = join(__dirname, '..', '..', 'bench', 'RESULTS-xlsx.md')

interface Measurement {
  format: string
  ms: number
  bytes: number
  rssBeforeMb: number
  peakRssMb: number
  peakHeapMb: number
  /** Largest heap left after a full collection, taken every 500 ms: what the export holds, not its garbage. */
  liveHeapMb: number
  maxRssMb: number
}

/** In the child: serve the app, warm it up, then download one export while sampling memory. */
async function measure(url: string, format: string): Promise<Measurement> {
  const served = await serve(url)
  const token = await served.token()
  const get = (query: string) => new Promise<number>((resolve, reject) => {
    http.get({ host: '127.0.0.1', port: served.port, path: `/api/v1/register/export?${query}`, headers: { authorization: `Bearer ${token}` } }, (res) => {
      if (res.statusCode !== 200) reject(new Error(`status ${res.statusCode}`))
      let bytes = 0
      res.on('data', (c: Buffer) => { bytes += c.length })
      res.on('end', () => resolve(bytes))
      res.on('error', reject)
    }).on('error', reject)
  })
  await get(`format=${format}&status=retired`) // warm up: catalogue, compiled queries, the format's code
  global.gc?.()
  const before = process.memoryUsage()
  let peakRss = before.rss
  let peakHeap = before.heapUsed
  let liveHeap = before.heapUsed
  let samples = 0
  const sampler = setInterval(() => {
    const m = process.memoryUsage()
    peakRss = Math.max(peakRss, m.rss)
    peakHeap = Math.max(peakHeap, m.heapUsed)
    if (++samples % 100 === 0 && global.gc) {
      global.gc()
      liveHeap = Math.max(liveHeap, process.memoryUsage().heapUsed)
    }
  }, 5)
  const started = process.hrtime.bigint()
  const bytes = await get(`format=${format}`)
  const ms = Number(process.hrtime.bigint() - started) / 1e6
  clearInterval(sampler)
  await served.close()
  return { format, ms: Math.round(ms), bytes, rssBeforeMb: mb(before.rss), peakRssMb: mb(peakRss), peakHeapMb: mb(peakHeap), liveHeapMb: mb(liveHeap), maxRssMb: mb(process.resourceUsage().maxRSS * 1024) }
}

function inChild(url: string, format: string, nodeFlags: string[] = []): Measurement {
  const out = execFileSync(process.execPath, ['--expose-gc', ...SERVICE_NODE_FLAGS, ...nodeFlags, __filename, '--child', url, format], { encoding: 'utf8', maxBuffer: 1 << 20 })
  return JSON.parse(out) as Measurement
}

/** Old space the capped run allows: far less than the peak heap V8 lets the uncapped export reach. */
const CAPPED_OLD_SPACE_MB = 64

interface Run {
  dialect: Dialect
  activities: number
  results: Measurement[]
  /** The largest register's workbook again, V8's old space capped: it completes when the export holds nothing in proportion to the register. */
  capped?: Measurement
}

async function runOn(dialect: Dialect, activities: number): Promise<Run> {
  const scratch = await scratchDatabase(dialect)
  try {
    await generate(scratch.url, activities)
    await buildViews(scratch.url)
    const results = ['csv', 'xlsx'].map((format) => inChild(scratch.url, format))
    for (const r of results) console.log(dialect, activities, JSON.stringify(r))
    // an export that lost its rows would measure nothing: each activity is a CSV row of several hundred bytes
    const csv = results.find((r) => r.format === 'csv')!
    if (csv.bytes < activities * 200) throw new Error(`the CSV of ${activities} activities has only ${csv.bytes} bytes`)
    let capped: Measurement | undefined
    if (activities === Math.max(...SIZES)) {
      capped = inChild(scratch.url, 'xlsx', [`--max-old-space-size=${CAPPED_OLD_SPACE_MB}`])
      console.log(dialect, activities, 'capped', JSON.stringify(capped))
    }
    return { dialect, activities, results, capped }
  } finally {
    await scratch.drop()
  }
}

async function main(): Promise<void> {
  const asked = process.argv.slice(2).filter((a) => a === 'sqlite' || a === 'postgres') as Dialect[]
  const runs: Run[] = []
  for (const dialect of asked.length ? asked : (['sqlite'] as Dialect[])) {
    for (const activities of SIZES) runs.push(await runOn(dialect, activities))
  }
  const lines = [
    '# XLSX export benchmark',
    '',
    `Generated by \`node dist/bench/xlsx.js${asked.length ? ` ${asked.join(' ')}` : ''}\` on ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC. Machine: ${machine()}.`,
    `Registers of ${SIZES.map((n) => n.toLocaleString('en')).join(' and ')} processing activities (bench/register.ts: each with one joint controller, ${LINKS} purposes, ${LINKS} data subject categories,`,
    `${LINKS} data categories, ${LINKS} recipients, ${LINKS} processors, ${LINKS} security measures, one transfer, two retention rules), their stored views built.`,
    'Each export is downloaded over HTTP on 127.0.0.1 by a child process of its own, after a warm-up export of the same format;',
    'memory is sampled every 5 ms during the download. Baseline: the CSV export of the same register in the same run.',
    'The workbook holds more than the CSV: the Art. 30(1) sheet (the CSV\'s rows), the Art. 30(2) sheet, the controllers and the open',
    'findings (a second walk of every activity), so its time is two walks of the register plus the zip compression.',
    '',
    'Live heap: the largest heap left after a full collection (forced every 500 ms during the download), i.e. what the export holds;',
    'peak heap and peak RSS include the garbage V8 lets pile up before it collects.',
    '',
    '| database | activities | format | time (s) | time / CSV | size (MB) | RSS before (MB) | peak RSS during export (MB) | peak RSS / CSV | peak heap (MB) | live heap (MB) | maxRSS of process (MB) |',
    '|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ]
  for (const run of runs) {
    const csv = run.results.find((r) => r.format === 'csv')!
    for (const r of run.results) {
      lines.push(`| ${run.dialect} | ${run.activities} | ${r.format} | ${(r.ms / 1000).toFixed(2)} | ${(r.ms / csv.ms).toFixed(2)}x | ${(r.bytes / 1048576).toFixed(1)} | ${r.rssBeforeMb} | ${r.peakRssMb} | ${(r.peakRssMb / csv.peakRssMb).toFixed(2)}x | ${r.peakHeapMb} | ${r.liveHeapMb} | ${r.maxRssMb} |`)
    }
    const c = run.capped
    if (c) lines.push(`| ${run.dialect} | ${run.activities} | xlsx, --max-old-space-size=${CAPPED_OLD_SPACE_MB} | ${(c.ms / 1000).toFixed(2)} | ${(c.ms / csv.ms).toFixed(2)}x | ${(c.bytes / 1048576).toFixed(1)} | ${c.rssBeforeMb} | ${c.peakRssMb} | ${(c.peakRssMb / csv.peakRssMb).toFixed(2)}x | ${c.peakHeapMb} | ${c.liveHeapMb} | ${c.maxRssMb} |`)
  }
  // flat in the register's size: the largest register's peak against the smallest's, per format
  const smallest = Math.min(...SIZES)
  const largest = Math.max(...SIZES)
  if (smallest !== largest) {
    lines.push('', `Memory against the register's size (${largest.toLocaleString('en')} activities against ${smallest.toLocaleString('en')}, ${(largest / smallest).toFixed(0)} times as many):`, '')
    lines.push('| database | format | peak RSS, small (MB) | peak RSS, large (MB) | large / small | growth during export, small (MB) | growth during export, large (MB) | live heap, small (MB) | live heap, large (MB) | live heap large / small |')
    lines.push('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|')
    for (const dialect of new Set(runs.map((r) => r.dialect))) {
      const of = (n: number, format: string) => runs.find((r) => r.dialect === dialect && r.activities === n)!.results.find((m) => m.format === format)!
      for (const format of ['csv', 'xlsx']) {
        const a = of(smallest, format)
        const b = of(largest, format)
        lines.push(`| ${dialect} | ${format} | ${a.peakRssMb} | ${b.peakRssMb} | ${(b.peakRssMb / a.peakRssMb).toFixed(2)}x | ${mb((a.peakRssMb - a.rssBeforeMb) * 1048576)} | ${mb((b.peakRssMb - b.rssBeforeMb) * 1048576)} | ${a.liveHeapMb} | ${b.liveHeapMb} | ${(b.liveHeapMb / a.liveHeapMb).toFixed(2)}x |`)
      }
    }
  }
  lines.push('')
  writeFileSync(RESULTS, lines.join('\n'))
  console.log(`written ${RESULTS}`)
}

if (require.main === module) {
  if (process.argv[2] === '--child') runChild(() => measure(process.argv[3], process.argv[4]))
  else main().catch((err) => {
    console.error(err)
    process.exit(1)
  })
}
