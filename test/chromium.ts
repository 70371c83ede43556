import { existsSync } from 'node:fs'
import { Browser, chromium } from 'playwright-core'

/** Debian's Chromium, never a browser a test tool downloads. */
export const CHROMIUM = '/usr/bin/chromium'
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']

/** The browser tests run where Chromium is, and always in CI (where .ci/run installs it). */
export const chromiumAvailable = existsSync(CHROMIUM) || Boolean(process.env.CI)

export function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: .ci/run should have installed Debian's chromium`)
  return chromium.launch({ executablePath: CHROMIUM, args: FLAGS })
}
