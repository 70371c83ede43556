import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

/**
 * Runs a command in the project's folder (as `npm run verify` or a Python verifier is run there),
 * answering its exit code and output: a non-zero exit is an answer, not a failure.
 */
export async function exec(file: string, args: string[]): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await run(file, args, { cwd: join(__dirname, '..', '..') })
    return { code: 0, out: stdout + stderr }
  } catch (err: any) {
    return { code: err.code ?? -1, out: String(err.stdout ?? '') + String(err.stderr ?? '') }
  }
}
