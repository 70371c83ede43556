import { ChildProcess, spawn } from 'node:child_process'
import { join } from 'node:path'
import { SECRET } from './helper'
import { SERVICE_NODE_FLAGS } from '../src/cli/node-flags'

/** The built server (npm test builds before mocha). */
export const SERVER_JS = join(__dirname, '..', 'src', 'server.js')

export interface ServerProcess {
  /** http://127.0.0.1:<port> */
  url: string
  child: ChildProcess
  /** Resolves with the exit signal or code once the process has ended. */
  exited: Promise<string>
  /** SIGKILL: no graceful close, no chance to finish a transaction. */
  kill(): Promise<string>
  /** SIGTERM and wait for the graceful close. */
  stop(): Promise<string>
}

/**
 * Starts the built server as a separate OS process on 127.0.0.1 (a free port) against the given
 * database, and resolves once it listens. A start takes 1-3 s; the wait is long because CI runs
 * three suites on two cores, and a start there once took over 20 s (loading modules, migrating).
 */
export function startServer(databaseUrl: string, env: Record<string, string> = {}, timeoutMs = 60000): Promise<ServerProcess> {
  const child = spawn(process.execPath, [...SERVICE_NODE_FLAGS, SERVER_JS], {
    env: {
      PATH: process.env.PATH ?? '', NODE_ENV: 'test', HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info',
      DATABASE_URL: databaseUrl, JWT_SECRET: SECRET, AUTH_FAILURES_PER_MINUTE: '1000000', REQUESTS_PER_MINUTE: '100000000', ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const exited = new Promise<string>((resolve) => child.once('exit', (code, signal) => resolve(signal ?? String(code))))
  const kill = async (): Promise<string> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    return exited
  }
  const stop = async (): Promise<string> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
    return exited
  }
  return new Promise((resolve, reject) => {
    let output = ''
    const timer = setTimeout(() => {
      void kill()
      reject(new Error(`the server did not start within ${timeoutMs} ms:\n${output}`))
    }, timeoutMs)
    const onData = (chunk: Buffer): void => {
      output += chunk.toString()
      const m = /listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(output)
      if (m) {
        clearTimeout(timer)
        child.stdout!.off('data', onData)
        child.stdout!.resume() // keep draining the log so the child never blocks on a full pipe
        resolve({ url: m[1], child, exited, kill, stop })
      }
    }
    child.stdout!.on('data', onData)
    child.stderr!.on('data', (chunk: Buffer) => { output += chunk.toString() })
    void exited.then((how) => {
      clearTimeout(timer)
      reject(new Error(`the server exited (${how}) before listening:\n${output}`))
    })
  })
}
