/**
 * better-sqlite3 is compiled for one Node.js ABI (NODE_MODULE_VERSION). Started under another
 * Node.js, loading it fails with ERR_DLOPEN_FAILED and a stack trace that does not say what to do:
 * this turns that failure into one line naming both Node.js versions and the fix.
 */
export function nativeModuleMismatch(err: unknown): string | undefined {
  for (let e = err as { code?: unknown; message?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    const message = typeof e.message === 'string' ? e.message : ''
    if (e.code !== 'ERR_DLOPEN_FAILED' && !/NODE_MODULE_VERSION/.test(message)) continue
    const built = /using\s+NODE_MODULE_VERSION (\d+)/.exec(message)?.[1]
    const module = /node_modules[\\/]([^\\/]+)/.exec(message)?.[1] ?? 'a native module'
    return `${module} was built for another Node.js (${built ? `NODE_MODULE_VERSION ${built}` : 'it does not load'}; this is Node.js ${process.version}, `
      + `NODE_MODULE_VERSION ${process.versions.modules}): run \`npm run setup\` with this Node.js to build it again`
  }
  return undefined
}
