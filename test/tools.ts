import { existsSync } from 'node:fs'

/** A program on the machine that some suites check our files with: the reader our users have. */
export interface Tool {
  /** What the suites lose without it, for the message. */
  name: string
  path: string
  /** How CI gets it. */
  install: string
}

export const CHROMIUM_TOOL: Tool = { name: "Debian's Chromium", path: '/usr/bin/chromium', install: '.ci/run installs the Debian package chromium' }
export const SOFFICE_TOOL: Tool = { name: "Debian's LibreOffice Calc", path: '/usr/bin/soffice', install: '.ci/run installs the Debian package libreoffice-calc-nogui' }

/** CI=true (or any value but empty, 0 and false): every suite must run. */
export const inCI = (env: NodeJS.ProcessEnv = process.env): boolean => !['', '0', 'false'].includes((env.CI ?? '').trim().toLowerCase())

/**
 * For a suite's first `before` hook: a missing tool fails the suite in CI, where it must run (so a
 * broken install is noticed rather than a suite quietly vanishing), and elsewhere marks the suite's
 * tests pending, so that the summary shows what was not run.
 */
export function needTool(context: Mocha.Context, tool: Tool): void {
  if (existsSync(tool.path)) return
  if (inCI()) throw new Error(`${tool.path} is missing and CI=${process.env.CI}: the suites that need ${tool.name} must run in CI (${tool.install})`)
  context.skip()
}
