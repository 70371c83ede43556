// `npx mocha dist/test/x.test.js` runs that suite alone; plain `mocha` (npm test) runs them all,
// two suite files at a time: much of a suite's time is spent waiting (on the database's disk
// writes, Chromium, LibreOffice), so the machines' two cores run two suites in about the time
// of one.
const named = process.argv.slice(2).some((arg) => arg.endsWith('.js'))
module.exports = {
  spec: named ? [] : ['dist/test/**/*.test.js'],
  parallel: !named,
  jobs: 2,
  timeout: 30000,
  reporter: 'spec',
}
