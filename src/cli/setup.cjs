#!/usr/bin/env node
'use strict'
/*
 * `npm run setup`: installs the dependencies exactly as locked, then builds. Plain JavaScript,
 * because it runs before TypeScript is installed.
 *
 * better-sqlite3 is compiled from source by node-gyp, which otherwise downloads Node's headers:
 * on a machine without internet (ours) that fails. The headers of the Node running this script
 * are installed beside it (Debian's nodejs in /usr/include/node, the official tarballs and nvm in
 * <prefix>/include/node), so node-gyp is pointed there. A nodedir set by the user wins.
 */
const { existsSync } = require('node:fs')
const { dirname, join } = require('node:path')
const { spawnSync } = require('node:child_process')

const env = { ...process.env }
if (!env.npm_config_nodedir) {
  const prefix = dirname(dirname(process.execPath))
  if (existsSync(join(prefix, 'include', 'node', 'node.h'))) {
    env.npm_config_nodedir = prefix
    console.log(`setup: building native modules against the Node.js headers in ${join(prefix, 'include', 'node')}`)
  }
}

// the npm that runs this script (npm run setup), or the one on PATH
const npm = env.npm_execpath ? [process.execPath, env.npm_execpath] : [process.platform === 'win32' ? 'npm.cmd' : 'npm']
function npmRun(args) {
  const result = spawnSync(npm[0], [...npm.slice(1), ...args], { stdio: 'inherit', env })
  if (result.status !== 0) process.exit(result.status ?? 1)
}

npmRun(['ci', '--no-audit', '--no-fund'])
npmRun(['run', 'build'])
