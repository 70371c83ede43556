import { expect } from 'chai'
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ConfigError, loadConfig } from '../src/config'
import { SECRET } from './helper'
import { SERVER_JS } from './server-process'

const KEY_SOURCES = /JWT_JWKS_URL.*JWT_PUBLIC_KEY.*JWT_PUBLIC_KEY_FILE.*JWT_SECRET/

/**
 * Development mode (no key source: the service signs tokens with a secret of its own and creates any
 * workspace a token names) is for one machine. Listening anywhere else without a key source would let
 * anyone who can reach the port mint an admin token's worth of trust: the service refuses to start.
 */
describe('fail closed: no key source outside loopback', function () {
  this.timeout(180_000) // server processes start in 2-3 s alone, over 30 s in CI beside two other suites

  it('refuses a configuration that listens beyond loopback with no key source, naming what to set', () => {
    let made = false
    const devSecret = (): string => { made = true; return 'dev' }
    for (const host of ['0.0.0.0', '::', '192.168.1.10', 'register.example.se']) {
      for (const nodeEnv of [{}, { NODE_ENV: 'development' }, { NODE_ENV: 'test' }]) {
        expect(() => loadConfig({ HOST: host, ...nodeEnv }, devSecret), host).to.throw(ConfigError, KEY_SOURCES)
      }
    }
    // refused before the development secret is made or read
    expect(made).to.equal(false)
  })

  it('keeps development mode the zero-configuration default on loopback, and starts anywhere with a key source', () => {
    for (const host of [undefined, '', '127.0.0.1', '::1', 'localhost']) {
      const config = loadConfig({ HOST: host }, () => 'dev')
      expect(config.jwt.devSecret, String(host)).to.equal(true)
    }
    const anywhere = loadConfig({ HOST: '0.0.0.0', JWT_SECRET: SECRET })
    expect(anywhere.host).to.equal('0.0.0.0')
    expect(anywhere.jwt.devSecret).to.equal(false)
  })

  it('the server process started with HOST=0.0.0.0 and no key source exits non-zero with one line naming the variables, and writes no secret', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'ropa-fail-closed-'))
    try {
      const child = spawn(process.execPath, [SERVER_JS], {
        cwd,
        env: { PATH: process.env.PATH ?? '', HOST: '0.0.0.0', PORT: '0', DATABASE_URL: `sqlite:${join(cwd, 'r.sqlite')}` },
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      let output = ''
      child.stdout.on('data', (c: Buffer) => { output += c.toString() })
      child.stderr.on('data', (c: Buffer) => { output += c.toString() })
      const code = await new Promise<number | null>((resolve) => child.once('close', (c) => resolve(c)))
      expect(code, output).to.not.equal(0)
      const lines = output.trim().split('\n')
      expect(lines, output).to.have.length(1)
      expect(lines[0]).to.match(/HOST=0\.0\.0\.0/)
      expect(lines[0]).to.match(KEY_SOURCES)
      expect(existsSync(join(cwd, 'data', 'dev-jwt-secret'))).to.equal(false)
      expect(existsSync(join(cwd, 'r.sqlite'))).to.equal(false)
    } finally {
      rmSync(cwd, { recursive: true, force: true })
    }
  })
})
