import { expect } from 'chai'
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { inCI } from './tools'

const FIXTURE = join(__dirname, 'fixtures', 'needs-a-missing-tool.js')
const MOCHA = require.resolve('mocha/bin/mocha.js')

/** The suite above, run by mocha with the JSON reporter: its exit code and its counts. */
function runSuite(env: Record<string, string>): { status: number | null; stats: Record<string, number>; failures: { err: { message: string } }[] } {
  const { PATH, HOME } = process.env
  const run = spawnSync(process.execPath, [MOCHA, '--reporter', 'json', FIXTURE], { env: { PATH, HOME, ...env }, encoding: 'utf8', timeout: 60_000 })
  const report = JSON.parse(run.stdout.slice(run.stdout.indexOf('{')))
  return { status: run.status, stats: report.stats, failures: report.failures }
}

/**
 * The suites that check our files with Chromium or LibreOffice (browser, report, xlsx, calc) need
 * the program on the machine. CI must run them: there a missing program fails the run. Elsewhere
 * they show as pending, so that nobody takes a green run for a checked workbook.
 */
describe('suites that need Chromium or LibreOffice', function () {
  this.timeout(180_000)

  it('fail when CI=true and the tool is missing', () => {
    const run = runSuite({ CI: 'true' })
    expect(run.status).to.not.equal(0)
    expect(run.stats.failures).to.be.at.least(1)
    expect(run.stats.passes).to.equal(0)
    expect(run.failures[0].err.message).to.match(/\/nonexistent\/ropa-test-tool is missing and CI=true.*nothing installs it/)
  })

  it('show as pending elsewhere, and never run', () => {
    for (const env of [{}, { CI: '' }, { CI: 'false' }] as Record<string, string>[]) {
      const run = runSuite(env)
      expect(run.status, JSON.stringify(env)).to.equal(0)
      expect(run.stats, JSON.stringify(env)).to.deep.include({ pending: 1, failures: 0, passes: 0 })
    }
  })

  it('read CI as most CI services set it', () => {
    for (const value of ['true', 'TRUE', '1', 'yes']) expect(inCI({ CI: value }), value).to.equal(true)
    for (const value of [undefined, '', '0', 'false', 'False']) expect(inCI({ CI: value }), String(value)).to.equal(false)
  })
})
