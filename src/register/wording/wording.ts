import countries from 'i18n-iso-countries'
import en from 'i18n-iso-countries/langs/en.json'
import sv from 'i18n-iso-countries/langs/sv.json'
import { ISO_DURATION } from '../../dto/decorators'

/**
 * Every English and Swedish word the service writes about a register's values, once: countries,
 * durations, special categories, classifications, statuses and roles. The CSV, the workbook, the
 * notice, the findings and the report all take them from here, so each value reads the same
 * everywhere in a language.
 */
export type Lang = 'en' | 'sv'

countries.registerLocale(en)
countries.registerLocale(sv)

const pick = <T>(lang: Lang, pair: { en: T; sv: T }): T => pair[lang]

// --- countries -----------------------------------------------------------------------------------

/**
 * A country's name, the official one of the maintained ISO 3166-1 table of i18n-iso-countries
 * (not the ICU build Node happens to have): "United States of America" / "USA". The code itself
 * when it names no country.
 */
export function countryShortName(code: string, lang: Lang): string {
  return countries.getName(code, lang) ?? code
}

/** A country's ISO 3166-1 code from its code or its name in either language ("Sverige", "USA"); null when it names none. */
export function countryCodeOf(text: string): string | null {
  const t = text.trim()
  if (/^[A-Za-z]{2}$/.test(t)) return t.toUpperCase()
  return countries.getAlpha2Code(t, 'sv') ?? countries.getAlpha2Code(t, 'en') ?? null
}

/** The one form a country takes in every document: "United States of America (US)" / "USA (US)", or the bare code. */
export function countryName(code: string | null | undefined, lang: Lang): string {
  if (!code) return ''
  const name = countryShortName(code, lang)
  return name !== code ? `${name} (${code})` : code
}

/** An international organisation (Art. 4(26)) as a transfer's destination, in words. */
export const INTERNATIONAL_ORGANISATION = { en: 'international organisation', sv: 'internationell organisation' }

/** Where a transfer goes (Chapter V): a third country by name, or an international organisation (Art. 4(26)). */
export function transferDestination(t: { country?: string | null; internationalOrganisation?: string | null }, lang: Lang): string {
  if (t.internationalOrganisation) return `${t.internationalOrganisation} (${INTERNATIONAL_ORGANISATION[lang]})`
  return countryName(t.country, lang)
}

/** Art. 13(2)(e), as a notice tells the data subject whether they must provide the data. */
const PROVISION: Record<string, { en: string; sv: string }> = {
  statutory: { en: 'You are required by law to provide the data', sv: 'Du är skyldig enligt lag att lämna uppgifterna' },
  contractual: { en: 'Providing the data is a requirement of our contract with you', sv: 'Uppgifterna krävs enligt vårt avtal med dig' },
  'required-to-enter-contract': { en: 'We need the data to enter into a contract with you', sv: 'Uppgifterna krävs för att vi ska kunna ingå avtal med dig' },
  voluntary: { en: 'Providing the data is voluntary', sv: 'Det är frivilligt att lämna uppgifterna' },
}
export const provisionWords = (requirement: string, lang: Lang): string => PROVISION[requirement]?.[lang] ?? requirement

// --- durations -----------------------------------------------------------------------------------

const UNITS: Record<string, { en: [string, string]; sv: [string, string] }> = {
  Y: { en: ['year', 'years'], sv: ['år', 'år'] },
  M: { en: ['month', 'months'], sv: ['månad', 'månader'] },
  W: { en: ['week', 'weeks'], sv: ['vecka', 'veckor'] },
  D: { en: ['day', 'days'], sv: ['dag', 'dagar'] },
  H: { en: ['hour', 'hours'], sv: ['timme', 'timmar'] },
  TM: { en: ['minute', 'minutes'], sv: ['minut', 'minuter'] },
  S: { en: ['second', 'seconds'], sv: ['sekund', 'sekunder'] },
}

const AND = { en: 'and', sv: 'och' }

/** "a, b and c" / "a, b och c". */
export function joinWords(items: string[], lang: Lang): string {
  return items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} ${AND[lang]} ${items[items.length - 1]}`
}

/** An ISO 8601 duration in words: P36M → "36 months" / "36 månader", P1Y6M → "1 år och 6 månader", P0D → "omedelbart". */
export function durationWords(period: string, lang: Lang): string {
  const m = ISO_DURATION.exec(period)
  if (!m) return period
  const [, y, mo, w, d, , h, mi, s] = m
  const parts: [string | undefined, string][] = [[y, 'Y'], [mo, 'M'], [w, 'W'], [d, 'D'], [h, 'H'], [mi, 'TM'], [s, 'S']]
  const out = parts.filter(([v]) => v !== undefined && parseInt(v, 10) > 0).map(([v, unit]) => {
    const n = parseInt(v!, 10)
    return `${n} ${UNITS[unit][lang][n === 1 ? 0 : 1]}`
  })
  return out.length ? joinWords(out, lang) : pick(lang, { en: 'immediately', sv: 'omedelbart' })
}

export const NO_FIXED_LIMIT = { en: 'No fixed limit', sv: 'Ingen fast tidsgräns' }

/**
 * Art. 13(2)(a): where no period can be given, the criteria used to determine it. A rule without a
 * period states them in its name, the event it runs from and its description (the policy's words);
 * empty when it has none of these, or when it has a period.
 */
export function retentionCriteria(rule: { period?: string | null; name?: string | null; trigger?: string | null; description?: string | null }, lang: Lang): string {
  if (rule.period) return ''
  const said = [rule.name, rule.trigger, rule.description].map((v) => (v ?? '').trim()).filter(Boolean)
  return said.length ? `${RETENTION_CRITERIA[lang]}: ${said.join(' – ')}` : ''
}
export const RETENTION_CRITERIA = { en: 'criteria', sv: 'kriterier' }

// --- classifications -----------------------------------------------------------------------------

const SPECIAL_CATEGORY: Record<string, { en: string; sv: string }> = {
  'racial-or-ethnic-origin': { en: 'racial or ethnic origin', sv: 'ras eller etniskt ursprung' },
  'political-opinions': { en: 'political opinions', sv: 'politiska åsikter' },
  'religious-or-philosophical-beliefs': { en: 'religious or philosophical beliefs', sv: 'religiös eller filosofisk övertygelse' },
  'trade-union-membership': { en: 'trade union membership', sv: 'medlemskap i fackförening' },
  genetic: { en: 'genetic data', sv: 'genetiska uppgifter' },
  biometric: { en: 'biometric data for identification', sv: 'biometriska uppgifter för identifiering' },
  health: { en: 'health', sv: 'hälsa' },
  'sex-life-or-sexual-orientation': { en: 'sex life or sexual orientation', sv: 'sexualliv eller sexuell läggning' },
}

/** An Art. 9(1) category in words; "kind not stated" when none is recorded. */
export function specialCategoryWords(code: string | null | undefined, lang: Lang): string {
  if (!code || code === 'unspecified') return pick(lang, { en: 'kind not stated', sv: 'sort ej angiven' })
  return SPECIAL_CATEGORY[code]?.[lang] ?? code
}

/** A data category's classification: "Art. 9: health" / "art. 9: hälsa", "Art. 10", "personal identity number"; ordinary data: empty. */
export function classificationWords(category: { classification?: string | null; specialCategory?: string | null }, lang: Lang): string {
  switch (category.classification) {
    case 'special': return pick(lang, { en: 'Art. 9', sv: 'art. 9' }) + (category.specialCategory && SPECIAL_CATEGORY[category.specialCategory] ? `: ${specialCategoryWords(category.specialCategory, lang)}` : '')
    case 'criminal': return pick(lang, { en: 'Art. 10', sv: 'art. 10' })
    case 'national-id': return pick(lang, { en: 'personal identity number', sv: 'personnummer' })
    default: return ''
  }
}

// --- statuses and roles --------------------------------------------------------------------------

const STATUS: Record<string, { en: string; sv: string }> = {
  draft: { en: 'Draft', sv: 'Utkast' }, active: { en: 'Active', sv: 'Aktiv' }, retired: { en: 'Retired', sv: 'Avslutad' },
}
const DPIA_STATUS: Record<string, { en: string; sv: string }> = {
  'not-assessed': { en: 'not assessed', sv: 'ej bedömd' },
  'not-required': { en: 'not required', sv: 'krävs inte' },
  planned: { en: 'planned', sv: 'planerad' },
  'in-progress': { en: 'in progress', sv: 'pågår' },
  completed: { en: 'completed', sv: 'genomförd' },
}
const ROLE: Record<string, { en: string; sv: string }> = {
  controller: { en: 'Controller', sv: 'Personuppgiftsansvarig' },
  processor: { en: 'Processor', sv: 'Personuppgiftsbiträde' },
}

/** An activity's status in words (the code itself if unknown). */
export const statusWords = (status: string, lang: Lang): string => STATUS[status]?.[lang] ?? status
/** A DPIA's progress in words. */
export const dpiaStatusWords = (status: string, lang: Lang): string => DPIA_STATUS[status]?.[lang] ?? status
/** The role in which an activity is recorded (Art. 30(1) controller, Art. 30(2) processor). */
export const roleWords = (role: string, lang: Lang): string => ROLE[role]?.[lang] ?? role

// --- terms ---------------------------------------------------------------------------------------

/**
 * The register's terms, as every document names them: the CSV's and the workbook's headers, the
 * report's and the notice's labels, the findings' record types. A document writes its own
 * sentences, but a concept it shares with another is named from here, so it reads the same in both.
 */
export const TERMS = {
  controller: { en: 'Controller', sv: 'Personuppgiftsansvarig' },
  controllers: { en: 'Controllers', sv: 'Personuppgiftsansvariga' },
  jointControllers: { en: 'Joint controllers', sv: 'Gemensamt personuppgiftsansvariga' },
  processor: { en: 'Processor', sv: 'Personuppgiftsbiträde' },
  representative: { en: 'Representative', sv: 'Företrädare' },
  dataProtectionOfficer: { en: 'Data protection officer', sv: 'Dataskyddsombud' },
  organisationNumber: { en: 'Organisation number', sv: 'Organisationsnummer' },
  address: { en: 'Address', sv: 'Adress' },
  email: { en: 'E-mail', sv: 'E-post' },
  phone: { en: 'Telephone', sv: 'Telefon' },
  website: { en: 'Website', sv: 'Webbplats' },
  country: { en: 'Country', sv: 'Land' },
  processingActivity: { en: 'Processing activity', sv: 'Behandling' },
  processingActivities: { en: 'Processing activities', sv: 'Behandlingar' },
  description: { en: 'Description', sv: 'Beskrivning' },
  purposes: { en: 'Purposes', sv: 'Ändamål' },
  dataSubjectCategories: { en: 'Categories of data subjects', sv: 'Kategorier av registrerade' },
  dataCategories: { en: 'Categories of personal data', sv: 'Kategorier av personuppgifter' },
  dataCategory: { en: 'Category of personal data', sv: 'Kategori av personuppgifter' },
  recipientCategories: { en: 'Categories of recipients', sv: 'Kategorier av mottagare' },
  transfers: { en: 'Transfers to third countries or international organisations', sv: 'Överföring till tredjeland eller internationell organisation' },
  noMechanism: { en: 'no transfer mechanism recorded', sv: 'ingen överföringsmekanism angiven' },
  retention: { en: 'Time limits for erasure', sv: 'Tidsfrister för radering (gallring)' },
  securityMeasures: { en: 'Technical and organisational security measures', sv: 'Tekniska och organisatoriska säkerhetsåtgärder' },
  processorsAndAgreements: { en: 'Processors and data processing agreements', sv: 'Personuppgiftsbiträden och biträdesavtal' },
  status: { en: 'Status', sv: 'Status' },
  lastChanged: { en: 'Last changed', sv: 'Senast ändrad' },
  dataFlow: { en: 'Flow of personal data', sv: 'Flöde av personuppgifter' },
  noActivitiesSelected: { en: 'No processing activities in this selection.', sv: 'Inga behandlingar i detta urval.' },
  openFindings: { en: 'Open findings', sv: 'Öppna avvikelser' },
  finding: { en: 'Finding', sv: 'Avvikelse' },
  severity: { en: 'Severity', sv: 'Allvarlighet' },
  article: { en: 'Article', sv: 'Artikel' },
  record: { en: 'Record', sv: 'Post' },
}

const SEVERITY: Record<'high' | 'medium' | 'low', { en: string; sv: string }> = {
  high: { en: 'High', sv: 'Hög' }, medium: { en: 'Medium', sv: 'Medel' }, low: { en: 'Low', sv: 'Låg' },
}
/** A finding's severity in words. */
export const severityWords = (severity: 'high' | 'medium' | 'low', lang: Lang): string => SEVERITY[severity][lang]

const RECORD_TYPE = {
  'processing-activity': TERMS.processingActivity, processor: TERMS.processor, controller: TERMS.controller, 'data-category': TERMS.dataCategory,
}
/** The kind of record a finding is about, in words. */
export const recordTypeWords = (type: keyof typeof RECORD_TYPE, lang: Lang): string => RECORD_TYPE[type][lang]
