import 'reflect-metadata'
import { fillLookupColumns } from '../../migrations/lookup-columns'
import { ConfigError, DEFAULT_DATABASE_URL } from '../config'
import { withDatabase } from './database'
import { isSupportedLocale, registerLocale } from '../register/wording/collation'
import { recordCollation } from '../register/records/collation-identity'

const USAGE = `Recomputes every record's search text and sort key (src/register/wording/collation.ts) in the
collation of REGISTER_LOCALE (default sv): run it after changing REGISTER_LOCALE, so that records
written before the change sort with the others.

  REGISTER_LOCALE=en-GB npm run sort-keys

Opens DATABASE_URL (default ${DEFAULT_DATABASE_URL}) and migrates it to the latest schema first.`

async function main(): Promise<void> {
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    console.log(USAGE)
    return
  }
  const locale = registerLocale()
  if (!isSupportedLocale(locale)) throw new ConfigError(`REGISTER_LOCALE must be a locale such as sv or en-GB, got "${locale}"`)
  await withDatabase(async ({ dataSource }) => {
    const placeholder = dataSource.options.type === 'postgres' ? (n: number) => `$${n}` : () => '?'
    await dataSource.transaction(async (m) => {
      await fillLookupColumns(m, placeholder)
      await recordCollation(m, dataSource.options.type === 'postgres' ? 'postgres' : 'sqlite')
    })
    console.log(`Search texts and sort keys recomputed in the collation of ${locale}.`)
  })
}

main().catch((err) => {
  console.error(err instanceof ConfigError ? err.message : err)
  process.exit(1)
})
