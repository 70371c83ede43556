import { expect } from 'chai'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import semver from 'semver'
import { SERVICE_NODE_FLAGS } from '../src/cli/node-flags'

/**
 * The Node.js lines the project supports are the ones package.json's `engines` names, and those are
 * the lines every dependency it installs declares it runs on: a dependency upgrade that leaves a
 * line (as fastify's cookie@2 left Node.js 20, and typeorm 1.1 Node.js 24 before 24.11) fails here,
 * not at a user's install. CI tests exactly those lines.
 */
const root = join(__dirname, '..', '..')
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { engines: { node: string }; scripts: Record<string, string> }
const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, { version?: string; engines?: { node?: string } | string[]; optional?: boolean }>
}
const lines = pkg.engines.node.split('||').map((range) => range.trim())

describe('Supported Node.js lines', () => {
  it('engines names each line once, from a minimum version', () => {
    for (const range of lines) expect(range, 'engines.node').to.match(/^\^\d+\.\d+\.\d+$/)
    const majors = lines.map((range) => semver.minVersion(range)!.major)
    expect(new Set(majors).size, 'one range a line').to.equal(majors.length)
  })

  it('every locked dependency declares every supported line', () => {
    const refusing: string[] = []
    for (const [path, entry] of Object.entries(lock.packages)) {
      // engines as an array is npm's old form (no Node range); the root package is ours
      const declared = path && !Array.isArray(entry.engines) ? entry.engines?.node : undefined
      if (!declared) continue
      for (const range of lines) {
        if (!semver.subset(range, declared)) refusing.push(`${path.replace(/^.*node_modules\//, '')}@${entry.version} wants ${declared}, not all of ${range}`)
      }
    }
    expect(refusing, 'dependencies refusing a line engines names').to.deep.equal([])
  })

  it('npm start runs the service with the flags the benchmarks measure it with', () => {
    expect(pkg.scripts.start).to.equal(['node', ...SERVICE_NODE_FLAGS, 'dist/src/server.js'].join(' '))
  })

  it("CI's default lines are the supported ones", () => {
    const run = readFileSync(join(root, '.ci', 'run'), 'utf8')
    const main = /^MAIN_LINE=\$\{CI_MAIN_LINE:-(\d+)\}$/m.exec(run)?.[1]
    const others = /^OTHER_LINES=\$\{CI_OTHER_LINES:-([\d ]+)\}$/m.exec(run)?.[1]
    expect(main, 'CI_MAIN_LINE default in .ci/run').to.be.a('string')
    expect(others, 'CI_OTHER_LINES default in .ci/run').to.be.a('string')
    const tested = [Number(main), ...others!.trim().split(/\s+/).map(Number)].sort((a, b) => a - b)
    expect(tested).to.deep.equal(lines.map((range) => semver.minVersion(range)!.major).sort((a, b) => a - b))
  })
})
