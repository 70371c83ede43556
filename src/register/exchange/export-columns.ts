import { registerDate } from '../wording/dates'
import { screeningWords } from '../records/dpia-screening'
import { classificationWords, countryName, dpiaStatusWords, durationWords, NO_FIXED_LIMIT, retentionCriteria, statusWords, TERMS, transferDestination } from '../wording/wording'

/**
 * The CSV export's columns, in the order of Article 30 (docs/export-columns.md), with their
 * English and Swedish headers and how each cell is written from a processing activity's view.
 */
export type { Lang } from '../wording/wording'
import type { Lang } from '../wording/wording'
import type { Contact, Controller, ControllerRef, DataCategoryRef, LegalBasisRef, ProcessingActivity, Processor, ProcessorRef, RetentionRuleRef, TransferMechanism } from '../../generated/view-types'

/** An organisation as a cell names it: a full view or a summary. */
type Organisation = Controller | Processor | ControllerRef | ProcessorRef

/** What a cell is written from: the activity's view and full views of the organisations it names. */
export interface CellContext {
  lang: Lang
  /** The register's time zone, for date-only cells. */
  timeZone: string
  activity: ProcessingActivity
  /** Full Controller view by id (the summaries in an activity lack contact details). */
  controller(id: string | undefined): Controller | null
  /** Full Processor view by id (for the data processing agreement). */
  processor(id: string): Processor | null
  /** Processor record: the client controller this row is for. */
  client?: Controller | ControllerRef | null
}

export interface Column {
  en: string
  sv: string
  cell(c: CellContext): string
  /** The cell is a date (YYYY-MM-DD) or empty: a spreadsheet shows it as a date. */
  date?: true
}

/** Entries of a multi-valued cell. */
export const JOIN = '; '
const join = (values: (string | null | undefined)[]): string => values.filter((v) => v !== null && v !== undefined && v !== '').join(JOIN)
const words = (lang: Lang, en: string, sv: string): string => (lang === 'sv' ? sv : en)

// --- labels ------------------------------------------------------------------------------------


/** `A6-1-b Contract` / `A6-1-b Avtal`: a catalogue entry's code and name. */
export function catalogueLabel(entry: LegalBasisRef | TransferMechanism | null | undefined, lang: Lang): string {
  if (!entry) return ''
  return `${entry.code} ${lang === 'sv' ? entry.nameSv || entry.name : entry.name}`
}


/**
 * `36 månader efter senaste besök (P36M), Bokföringslagen 7 kap. 2 §`; without a fixed period, the
 * criteria that decide it (Art. 13(2)(a)): `No fixed limit, criteria: Så länge kundrelationen består – …`.
 */
export function retentionText(rule: RetentionRuleRef, lang: Lang): string {
  const when = rule.period
    ? [durationWords(rule.period, lang), rule.trigger].filter(Boolean).join(' ') + ` (${rule.period})`
    : [NO_FIXED_LIMIT[lang], retentionCriteria(rule, lang)].filter(Boolean).join(', ')
  return rule.legalReference ? `${when}, ${rule.legalReference}` : when
}

const classificationText = (category: DataCategoryRef, lang: Lang): string => classificationWords(category, lang)

// --- organisations -----------------------------------------------------------------------------

/** `Clinic AB (556000-0000)` */
const orgName = (o: Organisation | null | undefined): string => (o ? (o.organisationNumber ? `${o.name} (${o.organisationNumber})` : o.name) : '')

/** Address, e-mail, telephone and website of an organisation. */
const orgContact = (o: Organisation | null | undefined): string => (o && 'address' in o ? join([o.address, o.email, o.phone, o.website]) : '')

/** A representative or DPO: name, e-mail, telephone, address. */
export const person = (c: Contact | null | undefined): string => (c ? [c.name, c.email, c.phone, c.address].filter(Boolean).join(', ') : '')

/** A client controller with its contact details, representative and DPO (Art. 30(2)(a)). */
function clientContact(o: Controller | ControllerRef | null | undefined, lang: Lang): string {
  if (!o || !('address' in o)) return ''
  return join([
    orgContact(o),
    o.representative ? `${TERMS.representative[lang]}: ${person(o.representative)}` : null,
    o.dataProtectionOfficer ? `${TERMS.dataProtectionOfficer[lang]}: ${person(o.dataProtectionOfficer)}` : null,
  ])
}

// --- cells shared by both records --------------------------------------------------------------

function transfers(c: CellContext): string {
  return join(list(c.activity.transfers).map((t) => {
    const to = t.recipient?.name ?? t.processor?.name
    return to ? `${transferDestination(t, c.lang)}: ${to}` : transferDestination(t, c.lang)
  }))
}

function transferSafeguards(c: CellContext): string {
  return join(list(c.activity.transfers).map((t) => {
    const mechanism = t.mechanism ? catalogueLabel(t.mechanism, c.lang) : TERMS.noMechanism[c.lang]
    const parts = [mechanism, t.safeguards, t.documentation ? `${words(c.lang, 'documentation', 'dokumentation')}: ${t.documentation}` : null]
    return `${t.country ?? t.internationalOrganisation}: ${parts.filter(Boolean).join(', ')}`
  }))
}

const names = (items: { name: string }[] | null | undefined): string => join(list(items).map((i) => i.name))
const list = <T>(v: T[] | null | undefined): T[] => v ?? []
const securityMeasures = (c: CellContext): string => names(c.activity.securityMeasures)
const lastChanged = (c: CellContext): string => (c.activity.updatedAt ? registerDate(new Date(c.activity.updatedAt), c.timeZone) : '')

/** Per purpose: `Purpose: A6-1-b Contract, SE-BFL-7-2 …` for the bases that `keep` selects. */
function basesPerPurpose(c: CellContext, keep: (kind: string) => boolean, whenNone: string | null): string {
  return join(list(c.activity.purposes).map((p) => {
    const bases = list(p.legalBases).filter((b) => keep(b.kind)).map((b) => catalogueLabel(b, c.lang))
    if (!bases.length) return whenNone === null ? null : `${p.purpose.name}: ${whenNone}`
    return `${p.purpose.name}: ${bases.join(', ')}`
  }))
}

// --- the controller record, Art. 30(1) ---------------------------------------------------------

export const CONTROLLER_COLUMNS: Column[] = [
  { ...TERMS.controller, cell: (c) => orgName(c.controller(c.activity.controller?.id)) },
  { en: 'Controller contact details', sv: 'Kontaktuppgifter till personuppgiftsansvarig', cell: (c) => orgContact(c.controller(c.activity.controller?.id)) },
  {
    en: 'Joint controllers', sv: 'Gemensamt personuppgiftsansvariga',
    cell: (c) => join(list(c.activity.jointControllers).map((j) => {
      const full = c.controller(j.id) ?? j
      const contact = orgContact(full)
      return contact ? `${orgName(full)}: ${contact.split(JOIN).join(', ')}` : orgName(full)
    })),
  },
  { ...TERMS.representative, cell: (c) => person(c.controller(c.activity.controller?.id)?.representative) },
  { ...TERMS.dataProtectionOfficer, cell: (c) => person(c.controller(c.activity.controller?.id)?.dataProtectionOfficer) },
  { ...TERMS.processingActivity, cell: (c) => c.activity.name },
  { ...TERMS.description, cell: (c) => c.activity.description ?? '' },
  { ...TERMS.purposes, cell: (c) => join(list(c.activity.purposes).map((p) => p.purpose.name)) },
  { ...TERMS.dataSubjectCategories, cell: (c) => names(c.activity.dataSubjectCategories) },
  { ...TERMS.dataCategories, cell: (c) => names(c.activity.dataCategories) },
  {
    en: 'Special categories and criminal-offence data', sv: 'Känsliga personuppgifter och uppgifter om lagöverträdelser',
    cell: (c) => join(list(c.activity.dataCategories).filter((d) => d.classification !== 'ordinary')
      .map((d) => `${d.name} (${classificationText(d, c.lang)})`)),
  },
  {
    en: 'Categories of recipients', sv: 'Kategorier av mottagare',
    cell: (c) => join(list(c.activity.recipients).map((r) => (r.country ? `${r.name} (${countryName(r.country, c.lang)})` : r.name))),
  },
  { ...TERMS.transfers, cell: transfers },
  { en: 'Transfer safeguards and documentation', sv: 'Skyddsåtgärder och dokumentation vid överföring', cell: transferSafeguards },
  {
    en: 'Time limits for erasure', sv: 'Tidsfrister för radering (gallring)',
    cell: (c) => join(list(c.activity.retention).map((r) => {
      const text = retentionText(r.retentionRule, c.lang)
      const categories = list(r.dataCategories).map((d) => d.name)
      return categories.length ? `${categories.join(', ')}: ${text}` : text
    })),
  },
  { ...TERMS.securityMeasures, cell: securityMeasures },
  {
    en: 'Legal basis per purpose', sv: 'Rättslig grund per ändamål',
    cell: (c) => basesPerPurpose(c, (k) => k === 'article-6' || k === 'national-law', words(c.lang, 'not recorded', 'ej angiven')),
  },
  {
    en: 'Conditions for special categories / criminal data', sv: 'Undantag för känsliga personuppgifter / lagöverträdelser',
    cell: (c) => basesPerPurpose(c, (k) => k === 'article-9' || k === 'article-10', null),
  },
  {
    en: 'Legitimate interests and assessment', sv: 'Berättigade intressen och intresseavvägning',
    cell: (c) => join(list(c.activity.purposes).filter((p) => p.legitimateInterest || p.liaReference).map((p) => {
      const lia = p.liaReference ? `${words(c.lang, 'assessment', 'intresseavvägning')}: ${p.liaReference}` : null
      return `${p.purpose.name}: ${[p.legitimateInterest, lia].filter(Boolean).join(', ')}`
    })),
  },
  {
    en: 'Processors and data processing agreements', sv: 'Personuppgiftsbiträden och biträdesavtal',
    cell: (c) => join(list(c.activity.processors).map((ref) => {
      const full = c.processor(ref.id)
      const dpa = full?.dataProcessingAgreement
      const agreement = dpa
        ? [words(c.lang, 'data processing agreement', 'biträdesavtal'), dpa.signedAt, dpa.reference, dpa.url].filter(Boolean).join(' ')
        : words(c.lang, 'no data processing agreement recorded', 'inget biträdesavtal registrerat')
      return `${(full ?? ref).name}${full?.service ? ` (${full.service})` : ''}: ${agreement}`
    })),
  },
  { en: 'Sources of the data', sv: 'Varifrån uppgifterna kommer', cell: (c) => join(c.activity.dataSources ?? []) },
  { en: 'Systems', sv: 'System', cell: (c) => join(c.activity.systems ?? []) },
  {
    en: 'Data protection impact assessment', sv: 'Konsekvensbedömning (DPIA)',
    cell: (c) => {
      const d = c.activity.dpia
      if (!d) return ''
      const required = d.required === true ? words(c.lang, 'Required', 'Krävs')
        : d.required === false ? words(c.lang, 'Not required', 'Krävs inte') : words(c.lang, 'Not decided', 'Ej bedömt')
      const decided = d.decidedBy || d.decidedAt
        ? `${words(c.lang, 'decided', 'beslutat')}${d.decidedBy ? ` ${words(c.lang, 'by', 'av')} ${d.decidedBy}` : ''}${d.decidedAt ? ` ${d.decidedAt}` : ''}`
        : null
      return join([required, d.status ? dpiaStatusWords(d.status, c.lang) : null, d.reference, d.justification, decided,
        d.dpoAdvice ? `${words(c.lang, 'DPO advice', 'Dataskyddsombudets råd')}: ${d.dpoAdvice}` : null])
    },
  },
  {
    // computed from the register (records/dpia-screening.ts); a version frozen before it existed has none
    en: 'DPIA screening', sv: 'Förhandsbedömning (DPIA)',
    cell: (c) => screeningWords(c.activity.dpiaScreening, c.lang) ?? '',
  },
  {
    en: 'Automated decision-making and profiling', sv: 'Automatiserat beslutsfattande och profilering',
    cell: (c) => (c.activity.automatedDecisionMaking
      ? `${words(c.lang, 'Yes', 'Ja')}: ${c.activity.automatedDecisionMakingDescription ?? ''}`
      : words(c.lang, 'No', 'Nej')),
  },
  { ...TERMS.status, cell: (c) => statusWords(c.activity.status, c.lang) },
  { en: 'Owner', sv: 'Ansvarig verksamhet', cell: (c) => c.activity.owner ?? '' },
  { en: 'Last reviewed', sv: 'Senast granskad', cell: (c) => c.activity.lastReviewedAt ?? '', date: true },
  { en: 'Next review', sv: 'Nästa granskning', cell: (c) => c.activity.nextReviewAt ?? '', date: true },
  { ...TERMS.lastChanged, cell: lastChanged, date: true },
]

// --- the processor record, Art. 30(2) ----------------------------------------------------------

export const PROCESSOR_COLUMNS: Column[] = [
  { ...TERMS.processor, cell: (c) => orgName(c.controller(c.activity.controller?.id)) },
  { en: 'Processor contact details', sv: 'Kontaktuppgifter till personuppgiftsbiträdet', cell: (c) => orgContact(c.controller(c.activity.controller?.id)) },
  { ...TERMS.representative, cell: (c) => person(c.controller(c.activity.controller?.id)?.representative) },
  { ...TERMS.dataProtectionOfficer, cell: (c) => person(c.controller(c.activity.controller?.id)?.dataProtectionOfficer) },
  { en: 'Controller (on whose behalf)', sv: 'Personuppgiftsansvarig (för vars räkning)', cell: (c) => orgName(c.client) },
  { en: 'Controller contact details', sv: 'Kontaktuppgifter till personuppgiftsansvarig', cell: (c) => clientContact(c.client, c.lang) },
  {
    en: 'Categories of processing', sv: 'Kategorier av behandling',
    cell: (c) => (c.activity.description ? `${c.activity.name}: ${c.activity.description}` : c.activity.name),
  },
  {
    en: 'Sub-processors', sv: 'Underbiträden',
    cell: (c) => join(list(c.activity.processors).map((p) => (p.country ? `${p.name} (${countryName(p.country, c.lang)})` : p.name))),
  },
  { ...TERMS.transfers, cell: transfers },
  { en: 'Transfer safeguards and documentation', sv: 'Skyddsåtgärder och dokumentation vid överföring', cell: transferSafeguards },
  { ...TERMS.securityMeasures, cell: securityMeasures },
  { ...TERMS.lastChanged, cell: lastChanged, date: true },
]

export const headers = (columns: Column[], lang: Lang): string[] => columns.map((c) => c[lang])
