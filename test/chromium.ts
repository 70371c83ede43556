import { existsSync } from 'node:fs'
import { Browser, chromium } from 'playwright-core'
import { CHROMIUM_TOOL } from './tools'

/** Debian's Chromium, never a browser a test tool downloads (suites check for it with needTool). */
export const CHROMIUM = CHROMIUM_TOOL.path
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']

/**
 * How long a page action or wait may take before it counts as a hang: a guard, not a speed target.
 * Playwright's 30 s was met by Swagger UI's first paint with CI's suites and benchmarks on two cores
 * (load 12); mocha's guard (120-180 s for the browser suites) stays the longer one.
 */
const PAGE_HANG_GUARD_MS = 90_000

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: .ci/run should have installed Debian's chromium`)
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS })
  // every context, browser.newPage's own included (it makes one through newContext), gets the guard
  const newContext = browser.newContext.bind(browser)
  browser.newContext = async (options) => {
    const context = await newContext(options)
    context.setDefaultTimeout(PAGE_HANG_GUARD_MS)
    return context
  }
  return browser
}
