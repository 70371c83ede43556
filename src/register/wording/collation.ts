/**
 * The register's collation: one order for names everywhere the service lists them (list pages
 * with `sort=name`, exports, the workbook, the privacy notice, the findings, the report), Swedish
 * by default (`REGISTER_LOCALE`). Neither better-sqlite3 nor every PostgreSQL build has an ICU
 * collation, so the order is carried by a sort key computed here, stored with each record
 * (`sort_key`) and compared byte by byte by the database; code that sorts in memory compares the
 * same keys (compareNames), so the database and the documents cannot disagree.
 *
 * The key holds the primary weights of the name's characters (letters regardless of case and
 * accents, except where the locale makes them letters of their own: å, ä, ö in Swedish), each as
 * four hex digits, so the key is plain ASCII and sorts the same under any database collation.
 * Names equal at that level are ordered by record id.
 */

export const DEFAULT_REGISTER_LOCALE = 'sv'

/** The locale of REGISTER_LOCALE (validated by src/config.ts), or Swedish. */
export function registerLocale(env: Record<string, string | undefined> = process.env): string {
  return env.REGISTER_LOCALE || DEFAULT_REGISTER_LOCALE
}

/** A BCP 47 tag that Intl supports as it is (not a fallback to another locale). */
export function isSupportedLocale(tag: string): boolean {
  try {
    return Intl.Collator.supportedLocalesOf([tag]).length === 1
  } catch {
    return false
  }
}

/** Characters weighed by the collator: Latin, Greek, Cyrillic, general punctuation and symbols. */
function* weighedCharacters(): Generator<string> {
  const ranges: [number, number][] = [[0x20, 0x7e], [0xa0, 0x24f], [0x370, 0x3ff], [0x400, 0x4ff], [0x1e00, 0x1eff], [0x2010, 0x205e], [0x20a0, 0x20bf]]
  for (const [from, to] of ranges) for (let c = from; c <= to; c++) yield String.fromCodePoint(c)
}

interface Weights {
  /** Primary weight of each weighed character. */
  of: Map<string, number>
}

const tables = new Map<string, Weights>()

/** Primary weights in the locale's order: characters the collator finds equal at base level share one. */
function weightsFor(locale: string): Weights {
  let table = tables.get(locale)
  if (table) return table
  const collator = new Intl.Collator(locale, { sensitivity: 'base', usage: 'sort' })
  const chars = [...weighedCharacters()].filter((c) => c.normalize('NFC') === c && c.trim() !== '' || c === ' ')
  chars.sort((a, b) => collator.compare(a, b) || (a < b ? -1 : a > b ? 1 : 0))
  const of = new Map<string, number>()
  let weight = 1
  chars.forEach((c, i) => {
    if (i > 0 && collator.compare(chars[i - 1], c) !== 0) weight++
    of.set(c, weight)
  })
  table = { of }
  tables.set(locale, table)
  return table
}

const hex4 = (n: number): string => n.toString(16).padStart(4, '0')

/** Characters of a name the key weighs (longer names are ordered by their first ones, then by id). */
const KEY_CHARACTERS = 300

/**
 * The sort key of a name in the locale's collation: compare keys as plain strings (byte order)
 * and the names are in the locale's order. Characters the table does not weigh count by their
 * base letter (NFD), else after every weighed character, by code point.
 */
export function sortKey(name: string | null | undefined, locale = registerLocale()): string {
  if (!name) return ''
  const { of } = weightsFor(locale)
  let key = ''
  let count = 0
  for (const c of name.normalize('NFC')) {
    if (++count > KEY_CHARACTERS) break
    let w = of.get(c)
    if (w === undefined) {
      const base = c.normalize('NFD')[0]
      w = of.get(base)
    }
    if (w !== undefined) {
      if (w === 0) continue
      key += hex4(w)
    } else {
      // after every weighed character: 'f' then the code point in five hex digits (weights stay below f000)
      key += 'f' + c.codePointAt(0)!.toString(16).padStart(5, '0')
    }
  }
  return key
}

/** Compares two records by name in the register's collation, ties by id: the order of every list. */
export function compareNames(a: { name?: string | null; id?: string }, b: { name?: string | null; id?: string }, locale = registerLocale()): number {
  const ka = cachedKey(a.name, locale)
  const kb = cachedKey(b.name, locale)
  if (ka !== kb) return ka < kb ? -1 : 1
  const ia = a.id ?? ''
  const ib = b.id ?? ''
  return ia < ib ? -1 : ia > ib ? 1 : 0
}

/** Compares two texts in the register's collation (no id to break ties). */
export function compareText(a: string | null | undefined, b: string | null | undefined, locale = registerLocale()): number {
  const ka = cachedKey(a, locale)
  const kb = cachedKey(b, locale)
  return ka < kb ? -1 : ka > kb ? 1 : 0
}

const keyCache = new Map<string, string>()
function cachedKey(name: string | null | undefined, locale: string): string {
  if (!name) return ''
  const k = `${locale}\u0000${name}`
  let key = keyCache.get(k)
  if (key === undefined) {
    key = sortKey(name, locale)
    if (keyCache.size > 10_000) keyCache.clear()
    keyCache.set(k, key)
  }
  return key
}

/**
 * The text a search compares: NFC, and case folded (upper then lower case, so that ß matches SS
 * and a capital Å its small letter), the same for the stored text and for `q`.
 */
export function searchFold(text: string): string {
  return text.normalize('NFC').toUpperCase().toLowerCase().normalize('NFC')
}

/** A column's value by path: `representative.email` is the embedded contact's e-mail. */
const valueAt = (columns: Record<string, any>, path: string): unknown =>
  path.split('.').reduce<any>((o, k) => (o === null || o === undefined ? undefined : o[k]), columns)

/**
 * The columns a write sets, with the search text (the searched fields, folded, one per line) and
 * the name's sort key added.
 */
export function withLookupColumns(searchColumns: string[], columns: Record<string, any>): Record<string, any> {
  const texts = searchColumns.map((c) => valueAt(columns, c)).filter((v): v is string => typeof v === 'string' && v !== '')
  return { ...columns, searchText: searchFold(texts.join('\n')), sortKey: sortKey(columns.name) }
}
