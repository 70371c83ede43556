import { expect } from 'chai'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { homedir, tmpdir } from 'node:os'
import { join } from 'node:path'
import { nativeModuleMismatch } from '../src/db/native-module'

/** A Node.js of another line than this one (CI installs them in ROPA_NODE_CACHE), if any. */
function otherNode(): string | undefined {
  const cache = process.env.ROPA_NODE_CACHE || join(homedir(), '.cache', 'ropa-node')
  if (!existsSync(cache)) return undefined
  const mine = process.versions.node.split('.')[0]
  return readdirSync(cache).filter((major) => major !== mine).map((major) => join(cache, major, 'package', 'bin', 'node')).find(existsSync)
}

describe('a native module built for another Node.js', () => {
  it('is said in one line: what happened and `npm run setup` to fix it', () => {
    const err = Object.assign(new Error("The module '/srv/app/node_modules/better-sqlite3/build/Release/better_sqlite3.node'\nwas compiled against a different Node.js version using\nNODE_MODULE_VERSION 115. This version of Node.js requires\nNODE_MODULE_VERSION 137. Please try re-compiling or re-installing\nthe module (for instance, using `npm rebuild` or `npm install`)."), { code: 'ERR_DLOPEN_FAILED' })
    const line = nativeModuleMismatch(new Error('wrapped', { cause: err }))!
    expect(line).to.match(/^better-sqlite3 was built for another Node\.js \(NODE_MODULE_VERSION 115; this is Node\.js v\d+/)
    expect(line).to.contain('run `npm run setup` with this Node.js')
    expect(line).not.to.contain('\n')
    expect(nativeModuleMismatch(new Error('SQLITE_BUSY'))).to.equal(undefined)
  })

  const other = otherNode()
  if (other) it(`stops the service started under another line (${other}) with that line, not a stack trace`, () => {
    const dir = mkdtempSync(join(tmpdir(), 'ropa-abi-'))
    try {
      const run = spawnSync(other, [join(__dirname, '..', 'src', 'server.js')], {
        encoding: 'utf8', timeout: 60_000,
        env: { ...process.env, NODE_ENV: 'development', DATABASE_URL: `sqlite:${join(dir, 'r.sqlite')}`, PORT: '0', HOST: '127.0.0.1' },
      })
      expect(run.status, run.stderr).to.equal(1)
      const lines = run.stderr.trim().split('\n')
      expect(lines, run.stderr).to.have.length(1)
      expect(lines[0]).to.match(/^better-sqlite3 was built for another Node\.js \(NODE_MODULE_VERSION \d+; this is Node\.js v\d+.*run `npm run setup` with this Node\.js to build it again$/)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
