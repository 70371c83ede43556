import { readFileSync } from 'node:fs'
import { verifyBackup } from '../register/accountability/proof'

/**
 * npm run verify -- <backup.json> --jwks <keys.json>
 *
 * Checks a backup (GET /api/v1/register/backup) offline, with the public keys of GET
 * /api/v1/history/keys saved beside it: no service, no database. Exit 0 with one line when the
 * history chain, every checkpoint and every register version hold; exit 1 naming the first
 * thing that fails; exit 2 when the command is used wrongly.
 */
async function main(argv: string[]): Promise<number> {
  const args = [...argv]
  const at = args.indexOf('--jwks')
  const jwksFile = at >= 0 ? args.splice(at, 2)[1] : undefined
  const [backupFile, ...rest] = args
  if (!backupFile || !jwksFile || rest.length) {
    console.error('usage: npm run verify -- <backup.json> --jwks <keys.json>   (keys: GET /api/v1/history/keys, saved)')
    return 2
  }
  let backup: any
  let jwks: any
  try {
    backup = JSON.parse(readFileSync(backupFile, 'utf8'))
  } catch (err) {
    console.error(`invalid: ${backupFile} is not a readable JSON file (${(err as Error).message})`)
    return 1
  }
  try {
    jwks = JSON.parse(readFileSync(jwksFile, 'utf8'))
  } catch (err) {
    console.error(`${jwksFile} is not a readable JSON file (${(err as Error).message})`)
    return 2
  }
  if (!Array.isArray(jwks?.keys)) {
    console.error(`${jwksFile} is not a JWKS ({ "keys": [ … ] })`)
    return 2
  }
  if (!backup || typeof backup !== 'object' || !Array.isArray(backup.history)) {
    console.error('invalid: the file is not a backup (no "history"): take one with GET /api/v1/register/backup')
    return 1
  }
  const proof = await verifyBackup(backup, jwks.keys)
  if (!proof.valid) {
    console.error(`invalid: ${proof.message}`)
    return 1
  }
  const head = proof.head ? `${proof.head.slice(0, 16)}…` : 'none'
  const versions = Array.isArray(backup.registerVersions) ? backup.registerVersions.length : 0
  const unproven = proof.unproven.length
    ? `; unproven: ${proof.unproven.map((u) => `version ${u.number}`).join(', ')} (proposed before proposals were history entries, never decided: no signed history covers ${proof.unproven.length > 1 ? 'them' : 'it'}, and a restore leaves ${proof.unproven.length > 1 ? 'them' : 'it'} out)`
    : ''
  console.log(`valid: ${proof.entries} entries, head ${head}, ${proof.checkpoints} checkpoints signed by ${proof.kids.join(', ') || 'no key'}, ${versions} register versions${proof.redacted ? `, ${proof.redacted} entries redacted (proven through their commitments)` : ''}${unproven}`)
  return 0
}

main(process.argv.slice(2)).then((code) => process.exit(code), (err) => {
  console.error(err)
  process.exit(2)
})
