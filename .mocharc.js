// `npx mocha dist/test/x.test.js` runs that suite alone; plain `mocha` (npm test) runs them all,
// two suite files at a time: much of a suite's time is spent waiting (on the database's disk
// writes, Chromium, LibreOffice), so the machines' two cores run two suites in about the time
// of one.
const named = process.argv.slice(2).some((arg) => arg.endsWith('.js'))
// TEST_LEAVE_OUT="browser xlsx": those suites are left out (CI's other Node.js lines leave out the
// suites whose subject does not depend on the line; .ci/run names them and the main line runs them)
const leftOut = (process.env.TEST_LEAVE_OUT || '').split(/\s+/).filter(Boolean).map((name) => `dist/test/${name}.test.js`)
module.exports = {
  spec: named ? [] : ['dist/test/**/*.test.js'],
  ignore: leftOut,
  parallel: !named,
  jobs: 2,
  // a hang guard, not a speed target (those are in bench/): tests that build large registers
  // take 5-10 s alone and over 30 s in CI, where three suites share two cores
  timeout: 120000,
  reporter: 'spec',
}
