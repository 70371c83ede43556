/**
 * The string formats the request validator checks, stricter than ajv-formats where the service
 * needs it, and the words a refusal uses for each: what is expected, with an example.
 */

/** An example of a moment, as every refusal of one shows it. */
export const MOMENT_EXAMPLE = '2026-06-30T12:00:00Z'

// RFC 3339 date-time (the separator and Z in either case, as ajv-formats takes them), at most milliseconds
const MOMENT = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,3}))?(?:[Zz]|([+-])(\d{2}):?(\d{2}))$/

/** The moments a timestamp of the service can be: the years 0000–9999 in UTC, as toISOString writes them. */
const EARLIEST = Date.parse('0000-01-01T00:00:00.000Z')
const LATEST = Date.parse('9999-12-31T23:59:59.999Z')

const isLeapYear = (y: number): boolean => y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0)
const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]

/**
 * A moment the service can hold exactly: RFC 3339 with a time zone, a real calendar date, seconds
 * 00–59 (a leap second, 23:59:60, is valid RFC 3339 but `Date` cannot hold it), at most
 * milliseconds (what history and timestamps keep), and within the years 0000–9999 once in UTC. So
 * every parameter that passes is read by `new Date()` as the moment it says, never Invalid Date
 * (a RangeError on toISOString, once a 500) and never another moment.
 */
export function isExactMoment(text: string): boolean {
  const m = MOMENT.exec(text)
  if (!m) return false
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number)
  const ms = Number((m[7] ?? '').padEnd(3, '0'))
  if (month < 1 || month > 12 || day < 1 || day > (month === 2 && isLeapYear(year) ? 29 : DAYS[month - 1])) return false
  if (hour > 23 || minute > 59 || second > 59) return false
  const offsetHours = Number(m[9] ?? 0)
  const offsetMinutes = Number(m[10] ?? 0)
  if (offsetHours > 23 || offsetMinutes > 59) return false
  const local = new Date(0)
  local.setUTCFullYear(year, month - 1, day) // Date.UTC would read the years 0–99 as 1900–1999
  local.setUTCHours(hour, minute, second, ms)
  const at = local.getTime() - (m[8] === '-' ? -1 : 1) * (offsetHours * 60 + offsetMinutes) * 60_000
  return at >= EARLIEST && at <= LATEST && new Date(text).getTime() === at
}

/** Formats registered in the request validator in place of ajv-formats' own. */
export const STRICT_FORMATS = { 'date-time': isExactMoment }

/** What a value of a format must be, with an example: the end of a refusal's sentence. */
export const FORMAT_EXPECTED: Record<string, string> = {
  'date-time': `a moment in ISO 8601 (RFC 3339) with a time zone, such as ${MOMENT_EXAMPLE} or 2026-06-30T14:00:00.000+02:00: a real calendar date, seconds 00–59, at most milliseconds, years 0000–9999`,
  date: 'a date such as 2026-06-30',
  uuid: 'a UUID such as 0b7e5a52-9c3e-4f0e-8d1a-2f6b3c4d5e6f',
  email: 'an e-mail address such as dpo@example.se',
  uri: 'an absolute URL such as https://example.se/policy',
}

/** What a pattern asks for, in words, for the patterns of the query strings and paths. */
export const PATTERN_EXPECTED: Record<string, string> = {
  '^[A-Z]{2}$': 'an ISO 3166-1 alpha-2 country code such as SE or US',
  '^([1-9][0-9]{0,8}|approved)$': 'a version number such as 3, or approved',
  '^[0-9a-f]{64}$': '64 hexadecimal digits (a SHA-256), such as the contentHash of a version',
}
