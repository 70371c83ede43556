import { existsSync } from 'node:fs'
import { Browser, chromium } from 'playwright-core'
import { CHROMIUM_TOOL } from './tools'

/** Debian's Chromium, never a browser a test tool downloads (suites check for it with needTool). */
export const CHROMIUM = CHROMIUM_TOOL.path
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']

export function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: .ci/run should have installed Debian's chromium`)
  return chromium.launch({ executablePath: CHROMIUM, args: FLAGS })
}
