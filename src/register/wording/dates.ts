/**
 * Date-only values (review dates, export file names, the notice's date, "last changed") are
 * calendar dates in the register's time zone (REGISTER_TIMEZONE): work done at 01:00 in
 * Stockholm is dated that day, not the day before as a UTC date would have it. Timestamps stay
 * ISO 8601 in UTC.
 */
/**
 * One formatter per time zone: making one costs more than formatting, and each holds native (ICU)
 * memory until a garbage collection; a CSV export dates every row.
 */
const dateFormats = new Map<string, Intl.DateTimeFormat>()
function dateFormat(timeZone: string): Intl.DateTimeFormat {
  let format = dateFormats.get(timeZone)
  if (!format) {
    format = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' })
    if (dateFormats.size < 100) dateFormats.set(timeZone, format)
  }
  return format
}

export function registerDate(at: Date, timeZone: string): string {
  const parts = dateFormat(timeZone).formatToParts(at)
  const part = (type: string): string => parts.find((p) => p.type === type)!.value
  return `${part('year')}-${part('month')}-${part('day')}`
}

/** Today in the register's time zone, as YYYY-MM-DD. */
export const registerToday = (timeZone: string, at: Date = new Date()): string => registerDate(at, timeZone)

/** True when Intl knows the zone (an IANA name such as Europe/Stockholm). */
export function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: name })
    return true
  } catch {
    return false
  }
}
