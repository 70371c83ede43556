// `npx mocha dist/test/x.test.js` runs that suite alone; plain `mocha` (npm test) runs them all.
const named = process.argv.slice(2).some((arg) => arg.endsWith('.js'))
module.exports = {
  spec: named ? [] : ['dist/test/**/*.test.js'],
  timeout: 30000,
  reporter: 'spec',
}
