import { expect } from 'chai'
import { spawnSync } from 'node:child_process'
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'

const ROOT = join(__dirname, '..', '..')
const DEPCRUISE = join(ROOT, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs')

/** dependency-cruiser with the house rules (.dependency-cruiser.cjs) over `paths`, in `cwd`. */
function cruise(cwd: string, paths: string[]): { status: number | null; output: string } {
  const run = spawnSync(process.execPath, [DEPCRUISE, '--config', '.dependency-cruiser.cjs', '--output-type', 'err', ...paths], { cwd, encoding: 'utf8', timeout: 120_000 })
  return { status: run.status, output: `${run.stdout}${run.stderr}` }
}

/** The import graph keeps the house rules (docs/architecture.md, "One direction of imports"). */
describe('the house rules of the import graph', function () {
  this.timeout(180_000)

  it('hold for every source file: no circles, imports only down a floor, entities and generated code import nothing of ours', () => {
    const run = cruise(ROOT, ['src', 'routes', 'entities', 'migrations', 'test', 'bench'])
    expect(run.status, run.output).to.equal(0)
  })

  it('are broken by a circle, an entity importing the service, and a room importing one to its left', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ropa-house-rules-'))
    try {
      copyFileSync(join(ROOT, '.dependency-cruiser.cjs'), join(dir, '.dependency-cruiser.cjs'))
      writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext' } }))
      const file = (path: string, text: string) => {
        mkdirSync(dirname(join(dir, path)), { recursive: true })
        writeFileSync(join(dir, path), text)
      }
      file('src/errors.ts', "export class AppError extends Error {}\n")
      file('entities/workspace.ts', "import { AppError } from '../src/errors'\nexport const x = AppError\n")
      file('src/register/records/reads.ts', "import { words } from '../wording/wording'\nexport const reads = () => words\n")
      file('src/register/wording/wording.ts', "import { reads } from '../records/reads'\nexport const words = () => reads\n")
      const run = cruise(dir, ['src', 'entities'])
      expect(run.status).to.not.equal(0)
      expect(run.output).to.match(/no-circular/)
      expect(run.output).to.match(/entities-import-nothing-of-ours: entities\/workspace\.ts → src\/errors\.ts/)
      expect(run.output).to.match(/room-wording-looks-right: src\/register\/wording\/wording\.ts → src\/register\/records\/reads\.ts/)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
