/**
 * The house rules of the import graph (docs/architecture.md, "One direction of imports"), checked by
 * `npm test` (test/house-rules.test.ts runs `depcruise --config .dependency-cruiser.cjs`).
 *
 * Floors, top to bottom: the process (src/server.ts, src/app.ts, src/cli/) → routes/ and src/plugins/ →
 * the register (src/register/, its rooms left to right: demo, accountability, reading, exchange, review,
 * records, wording) → the declarations (src/dto/, src/schemas/) → src/db/ and src/auth/ → src/errors.ts,
 * src/config.ts → entities/. A file imports only from its own floor or below (the declarations take the
 * catalogue's value lists, a leaf; configuration its defaults from wording/); generated code
 * (src/generated/) may be imported by anyone and imports nothing of ours.
 */
const ROOMS = ['demo', 'accountability', 'reading', 'exchange', 'review', 'records', 'wording']
const room = (name) => `^src/register/${name}/`
const ABOVE_REGISTER = '^(src/(server|app)\\.ts$|src/cli/|src/plugins/|routes/)'

/** A room imports no room to its left. */
const roomRules = ROOMS.slice(1).map((name, i) => ({
  name: `room-${name}-looks-right`,
  comment: `${name}/ imports only rooms to its right (${ROOMS.slice(i + 2).join(', ') || 'none'}), never ${ROOMS.slice(0, i + 1).join(', ')}`,
  severity: 'error',
  from: { path: room(name) },
  to: { path: `^src/register/(${ROOMS.slice(0, i + 1).join('|')})/` },
}))

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'No circles: a module and what it imports never lead back to it.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'entities-import-nothing-of-ours',
      comment: 'entities/ are the tables: they import TypeORM and each other, nothing of the service.',
      severity: 'error',
      from: { path: '^entities/' },
      to: { path: '^(src|routes|migrations)/' },
    },
    {
      name: 'register-below-routes',
      comment: 'routes → register → db: the register knows no route, plugin, CLI or the app.',
      severity: 'error',
      from: { path: '^src/register/' },
      to: { path: ABOVE_REGISTER },
    },
    {
      name: 'declarations-below-register',
      comment: 'The request classes and the schemas they give (src/dto/, src/schemas/) are what the register is built from; they take only the catalogue\'s value lists (a leaf).',
      severity: 'error',
      from: { path: '^src/(dto|schemas)/' },
      to: { path: `^src/register/(?!records/catalogue\\.ts$)|${ABOVE_REGISTER}` },
    },
    {
      name: 'catalogue-is-a-leaf',
      comment: 'The built-in catalogue and the value lists (records/catalogue.ts) import nothing of ours, so the declarations may take them.',
      severity: 'error',
      from: { path: '^src/register/records/catalogue\\.ts$' },
      to: { path: '^(src|routes|entities|migrations)/' },
    },
    {
      name: 'db-and-auth-below-declarations',
      comment: 'The database and token verification know nothing of records, requests or routes.',
      severity: 'error',
      from: { path: '^src/(db|auth)/' },
      to: { path: `^src/(register|dto|schemas)/|${ABOVE_REGISTER}` },
    },
    {
      name: 'errors-and-config-at-the-bottom',
      comment: 'errors and configuration are read by everyone; configuration takes its defaults only from the words (time zone, collation).',
      severity: 'error',
      from: { path: '^src/(errors|config)\\.ts$' },
      to: { path: `^src/(register/(?!wording/)|dto/|schemas/|db/)|${ABOVE_REGISTER}` },
    },
    {
      name: 'generated-imports-nothing-hand-written',
      comment: 'src/generated/ is written by npm run openapi; it may import types, never code of ours.',
      severity: 'error',
      from: { path: '^src/generated/' },
      to: { path: '^(src/(?!generated/)|routes/|entities/|migrations/)', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'nothing-imports-a-route',
      comment: 'Routes are registered by the app; only the app (and the tests) import them.',
      severity: 'error',
      from: { path: '^(src/(?!app\\.ts$)|entities/|migrations/)' },
      to: { path: '^routes/' },
    },
    ...roomRules,
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|node_modules)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'], extensions: ['.ts', '.js', '.json'] },
    reporterOptions: { text: { highlightFocused: true } },
  },
}
