import 'reflect-metadata'
import { execFileSync } from 'node:child_process'
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { readFileSync } from 'node:fs'
import { createDataSource, dialectOf } from '../src/db/data-source'
import { Database } from '../src/db/database'
import { exportRegister } from '../src/register/exchange/export'
import { importRegister } from '../src/register/exchange/import'
import { ensureCatalogue } from '../src/register/records/writes'
import { mb, runChild, Scratch, WS } from './register'
import { SERVICE_NODE_FLAGS } from '../src/cli/node-flags'

/**
 * Import benchmark: the register's JSON export (every activity and what it refers to) imported
 * into an empty workspace of the same database, in one transaction through the service as the
 * route does (without the HTTP transfer of the 53 MB document). Runs in a child
 * process so that its memory is its own.
 */

export interface ImportMeasurement {
  activities: number
  documentMb: number
  ms: number
  created: number
  maxRssMb: number
}

const TARGET_WS = 'bench-import'

async function withDatabase<T>(url: string, fn: (db: Database) => Promise<T>): Promise<T> {
  const ds = createDataSource({ databaseUrl: url })
  await ds.initialize()
  try {
    return await fn(new Database(ds, dialectOf(url)))
  } finally {
    await ds.destroy()
  }
}

/** The JSON export of the bench workspace, written to a file. */
async function writeDocument(url: string, file: string): Promise<void> {
  await withDatabase(url, async (db) => {
    const { stream } = exportRegister(db, WS, { format: 'json', record: 'controller', lang: 'en', delimiter: 'comma' }, new Date(), 'Europe/Stockholm')
    await pipeline(stream, createWriteStream(file))
  })
}

/** In the child: import the document into an empty workspace, timed. */
async function measure(url: string, file: string): Promise<ImportMeasurement> {
  const doc = JSON.parse(readFileSync(file, 'utf8'))
  return withDatabase(url, async (db) => {
    await ensureCatalogue(db, TARGET_WS)
    const started = process.hrtime.bigint()
    const result = await importRegister(db, { sub: 'bench', role: 'admin', ws: TARGET_WS }, doc, false)
    const ms = Number(process.hrtime.bigint() - started) / 1e6
    if (result.errors.length) throw new Error(`import failed: ${JSON.stringify(result.errors.slice(0, 3))}`)
    return {
      activities: doc.processingActivities.length,
      documentMb: mb(Buffer.byteLength(readFileSync(file))),
      ms: Math.round(ms),
      created: Object.values(result.created).reduce((a, b) => a + b, 0),
      maxRssMb: mb(process.resourceUsage().maxRSS * 1024),
    }
  })
}

export async function benchImport(scratch: Scratch): Promise<ImportMeasurement> {
  const dir = mkdtempSync(join(tmpdir(), 'ropa-bench-import-'))
  try {
    const file = join(dir, 'register.json')
    await writeDocument(scratch.url, file)
    const profile = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : []
    const out = execFileSync(process.execPath, [...SERVICE_NODE_FLAGS, ...profile, __filename, '--child', scratch.url, file], { encoding: 'utf8', maxBuffer: 1 << 20 })
    return JSON.parse(out) as ImportMeasurement
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

if (require.main === module && process.argv[2] === '--child') runChild(() => measure(process.argv[3], process.argv[4]))
