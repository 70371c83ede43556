import { compareNames } from '../wording/collation'
import { countryName, specialCategoryWords, transferDestination } from '../wording/wording'
import { JsonSchema } from '../../schemas/json-schema'
import { screeningWords, unansweredWords } from '../records/dpia-screening'

import type { ActivityPurpose, Controller, DataCategoryRef, LegalBasisRef, ProcessingActivity, Processor, Transfer } from '../../generated/view-types'

/** A record the activities share, as a rule about it reads it: its full view where one was loaded, else its summary. */
type SharedRecord = { id: string; name: string } & Partial<Controller> & Partial<Processor> & Partial<DataCategoryRef>
/** What the shared-record rules keep of an activity. */
type ActivityName = { id: string; name: string }

/**
 * Accountability checks (Art. 5(2)): the register read back against what the regulation asks of
 * it. Each rule is one small function over the views clients read, with a stable id, a severity
 * and the article it rests on; it says what is missing in English and in Swedish, naming the
 * purpose, data category or country concerned. Retired activities are not checked.
 */

export type Severity = 'high' | 'medium' | 'low'
export const SEVERITIES: Severity[] = ['high', 'medium', 'low']

export type FindingRecordType = 'processing-activity' | 'processor' | 'controller' | 'data-category'

export interface Finding {
  rule: string
  severity: Severity
  article: string
  record: { type: FindingRecordType; id: string; name: string }
  /** The field of the record (as the API shows it) that is missing or wrong. */
  field?: string
  message: { en: string; sv: string }
}

/** What a rule reports about one record; the rule adds its id, severity and article. */
interface Gap {
  field?: string
  en: string
  sv: string
}

interface Context {
  /** YYYY-MM-DD, the date reviews are due against. */
  today: string
}

/** An activity with the data categories it refers to, for rules about a shared record. */
interface Use {
  record: SharedRecord
  activities: ActivityName[]
}

interface RuleBase {
  id: string
  severity: Severity
  article: string
  /** One line, for the API documentation. */
  summary: string
}
interface ActivityRule extends RuleBase {
  about: 'processing-activity'
  /** Art. 30(2) processor records have no purposes, legal bases or retention: some rules are the controller's only. */
  controllerRecordsOnly: boolean
  check(activity: ProcessingActivity, ctx: Context): Gap[]
}
interface SharedRecordRule extends RuleBase {
  about: 'processor' | 'controller' | 'data-category'
  check(use: Use): Gap[]
}
export type Rule = ActivityRule | SharedRecordRule

// ---------------------------------------------------------------------------------------------
// words

/** EU member states and Iceland, Liechtenstein, Norway: transfers between them are not Chapter V transfers. */
export const EEA_COUNTRIES = new Set([
  'AT', 'BE', 'BG', 'HR', 'CY', 'CZ', 'DK', 'EE', 'FI', 'FR', 'DE', 'GR', 'HU', 'IE', 'IT', 'LV', 'LT', 'LU', 'MT', 'NL',
  'PL', 'PT', 'RO', 'SK', 'SI', 'ES', 'SE', 'IS', 'LI', 'NO',
  'EL', // the EU's own code for Greece, in case a register uses it
])
export const isThirdCountry = (country: string | null | undefined): country is string => Boolean(country) && !EEA_COUNTRIES.has(country!)


const q = { en: (s: string): string => `"${s}"`, sv: (s: string): string => `”${s}”` }
const quoted = (names: string[], lang: 'en' | 'sv'): string => names.map(q[lang]).join(', ')
const blank = (v: unknown): boolean => v === null || v === undefined || (typeof v === 'string' && v.trim() === '')

const purposesOf = (a: ProcessingActivity): ActivityPurpose[] => a.purposes ?? []
const codesOf = (p: ActivityPurpose): string[] => (p.legalBases ?? []).filter(Boolean).map((l) => l.code)
const hasKind = (a: ProcessingActivity, kind: string): boolean => purposesOf(a).some((p) => (p.legalBases ?? []).some((l) => l?.kind === kind))
const dataOf = (a: ProcessingActivity, classification: string): { category: DataCategoryRef; index: number }[] =>
  (a.dataCategories ?? []).map((category, index) => ({ category, index })).filter((d) => d.category?.classification === classification)

// ---------------------------------------------------------------------------------------------
// rules over one processing activity

function purposeWithoutLegalBasis(a: ProcessingActivity): Gap[] {
  return purposesOf(a).flatMap((p, i) => (codesOf(p).length ? [] : [{
    field: `purposes[${i}].legalBases`,
    en: `Purpose "${p.purpose.name}" has no legal basis.`,
    sv: `Ändamålet ”${p.purpose.name}” saknar rättslig grund.`,
  }]))
}

function purposeWithoutArticle6Basis(a: ProcessingActivity): Gap[] {
  return purposesOf(a).flatMap((p, i) => {
    const bases: LegalBasisRef[] = (p.legalBases ?? []).filter(Boolean)
    if (!bases.length || bases.some((l) => l.kind === 'article-6')) return []
    const codes = bases.map((l) => l.code).join(', ')
    return [{
      field: `purposes[${i}].legalBases`,
      en: `Purpose "${p.purpose.name}" rests only on ${codes}; an Art. 9 or Art. 10 condition or a national law does not replace an Art. 6(1) basis.`,
      sv: `Ändamålet ”${p.purpose.name}” stöds bara av ${codes}; ett villkor enligt art. 9 eller 10 eller en nationell lag ersätter inte en rättslig grund enligt art. 6.1.`,
    }]
  })
}

function specialCategoryWithoutCondition(a: ProcessingActivity): Gap[] {
  if (hasKind(a, 'article-9')) return []
  return dataOf(a, 'special').map(({ category, index }) => ({
    field: `dataCategories[${index}]`,
    en: `Special-category data "${category.name}" (${specialCategoryWords(category.specialCategory, 'en')}) are processed, but no purpose of the activity has an Art. 9(2) condition.`,
    sv: `Känsliga personuppgifter ”${category.name}” (${specialCategoryWords(category.specialCategory, 'sv')}) behandlas, men inget ändamål i behandlingen har ett villkor enligt art. 9.2.`,
  }))
}

function criminalDataWithoutBasis(a: ProcessingActivity): Gap[] {
  if (hasKind(a, 'article-10')) return []
  return dataOf(a, 'criminal').map(({ category, index }) => ({
    field: `dataCategories[${index}]`,
    en: `Personal data relating to criminal convictions and offences ("${category.name}") are processed, but no purpose of the activity has an Art. 10 basis.`,
    sv: `Personuppgifter om lagöverträdelser (”${category.name}”) behandlas, men inget ändamål i behandlingen har stöd enligt art. 10.`,
  }))
}

function nationalIdWithoutJustification(a: ProcessingActivity): Gap[] {
  const held = dataOf(a, 'national-id').map((d) => d.category.name)
  if (!held.length || !blank(a.nationalIdJustification)) return []
  if (purposesOf(a).some((p) => codesOf(p).includes('SE-DSL-3-10'))) return []
  return [{
    field: 'nationalIdJustification',
    en: `Personal identity numbers (${quoted(held, 'en')}) are processed without a stated justification: say why (nationalIdJustification) or give the legal basis SE-DSL-3-10 (dataskyddslagen 3 kap. 10 §).`,
    sv: `Personnummer (${quoted(held, 'sv')}) behandlas utan angivet skäl: ange varför (nationalIdJustification) eller den rättsliga grunden SE-DSL-3-10 (dataskyddslagen 3 kap. 10 §).`,
  }]
}

const receiver = (t: Transfer): { name: string } | null => t.recipient ?? t.processor ?? null
const toWhom = (t: Transfer, lang: 'en' | 'sv'): string => {
  const r = receiver(t)
  return r ? (lang === 'en' ? ` to "${r.name}"` : ` till ”${r.name}”`) : ''
}

function transferWithoutMechanism(a: ProcessingActivity): Gap[] {
  // an international organisation is a Chapter V destination wherever it sits
  return (a.transfers ?? []).flatMap((t, i) => (!(t.internationalOrganisation || isThirdCountry(t.country)) || t.mechanism ? [] : [{
    field: `transfers[${i}].mechanism`,
    en: `The transfer to ${transferDestination(t, 'en')}${toWhom(t, 'en')} has no transfer mechanism (adequacy decision, appropriate safeguards or derogation).`,
    sv: `Överföringen till ${transferDestination(t, 'sv')}${toWhom(t, 'sv')} saknar överföringsmekanism (beslut om adekvat skyddsnivå, lämpliga skyddsåtgärder eller undantag).`,
  }]))
}

function exceptionalTransferWithoutSafeguards(a: ProcessingActivity): Gap[] {
  return (a.transfers ?? []).flatMap((t, i) => {
    if (t.mechanism?.code !== 'A49-1-second-subparagraph') return []
    const noSafeguards = blank(t.safeguards)
    const noDocumentation = blank(t.documentation)
    if (!noSafeguards && !noDocumentation) return []
    const missing = noSafeguards && noDocumentation
      ? { en: 'neither described nor documented', sv: 'varken beskrivna eller dokumenterade' }
      : noSafeguards ? { en: 'not described', sv: 'inte beskrivna' } : { en: 'not documented', sv: 'inte dokumenterade' }
    return [{
      field: `transfers[${i}].${noSafeguards ? 'safeguards' : 'documentation'}`,
      en: `The transfer to ${transferDestination(t, 'en')}${toWhom(t, 'en')} relies on compelling legitimate interests (Art. 49(1) second subparagraph), but the suitable safeguards are ${missing.en}.`,
      sv: `Överföringen till ${transferDestination(t, 'sv')}${toWhom(t, 'sv')} grundas på tvingande berättigade intressen (art. 49.1 andra stycket), men de lämpliga skyddsåtgärderna är ${missing.sv}.`,
    }]
  })
}

function retentionMissing(a: ProcessingActivity): Gap[] {
  const retention = a.retention ?? []
  if (!retention.length) {
    return [{
      field: 'retention',
      en: 'No retention period (time limit for erasure) is recorded for the activity.',
      sv: 'Ingen lagringstid (tidsgräns för radering) är angiven för behandlingen.',
    }]
  }
  // Rules for some data categories only: the categories none of them covers have no time limit.
  if (retention.some((r) => !(r.dataCategories ?? []).length)) return []
  const covered = new Set(retention.flatMap((r) => (r.dataCategories ?? []).map((c) => c?.id)))
  return (a.dataCategories ?? []).flatMap((c, i) => (!c || covered.has(c.id) ? [] : [{
    field: `dataCategories[${i}]`,
    en: `No retention period (time limit for erasure) is recorded for the data category "${c.name}".`,
    sv: `Ingen lagringstid (tidsgräns för radering) är angiven för personuppgiftskategorin ”${c.name}”.`,
  }]))
}

function retentionWithoutLimit(a: ProcessingActivity): Gap[] {
  return (a.retention ?? []).flatMap((r, i) => (!r.retentionRule || r.retentionRule.period ? [] : [{
    field: `retention[${i}].retentionRule`,
    en: `Retention rule "${r.retentionRule.name}" sets no fixed time limit; state the period, or at least the criteria that determine it.`,
    sv: `Lagringsregeln ”${r.retentionRule.name}” anger ingen fast tidsgräns; ange lagringstiden, eller åtminstone kriterierna som avgör den.`,
  }]))
}

const legitimateInterestPurposes = (a: ProcessingActivity): { p: ActivityPurpose; i: number }[] =>
  purposesOf(a).map((p, i) => ({ p, i })).filter(({ p }) => codesOf(p).includes('A6-1-f'))

function legitimateInterestNotStated(a: ProcessingActivity): Gap[] {
  return legitimateInterestPurposes(a).flatMap(({ p, i }) => (!blank(p.legitimateInterest) ? [] : [{
    field: `purposes[${i}].legitimateInterest`,
    en: `Purpose "${p.purpose.name}" rests on legitimate interests, but the interest pursued is not stated.`,
    sv: `Ändamålet ”${p.purpose.name}” grundas på berättigat intresse, men vilket intresse som eftersträvas anges inte.`,
  }]))
}

function legitimateInterestWithoutAssessment(a: ProcessingActivity): Gap[] {
  return legitimateInterestPurposes(a).flatMap(({ p, i }) => (!blank(p.liaReference) ? [] : [{
    field: `purposes[${i}].liaReference`,
    en: `Purpose "${p.purpose.name}" rests on legitimate interests, but no legitimate interests assessment (balancing test) is referenced.`,
    sv: `Ändamålet ”${p.purpose.name}” grundas på berättigat intresse, men ingen intresseavvägning hänvisas till.`,
  }]))
}

const CONSENT = ['A6-1-a', 'A9-2-a']
function consentWithoutWithdrawal(a: ProcessingActivity): Gap[] {
  return purposesOf(a).flatMap((p, i) => {
    const consent = codesOf(p).filter((c) => CONSENT.includes(c))
    if (!consent.length || !blank(p.consentWithdrawal)) return []
    return [{
      field: `purposes[${i}].consentWithdrawal`,
      en: `Purpose "${p.purpose.name}" rests on consent (${consent.join(', ')}), but how the data subject withdraws it is not noted.`,
      sv: `Ändamålet ”${p.purpose.name}” grundas på samtycke (${consent.join(', ')}), men hur den registrerade återkallar samtycket anges inte.`,
    }]
  })
}

/** A DPIA decided or under way: required: true, or "not required" with its justification, or a DPIA planned, in progress or done. */
function dpiaDecided(a: ProcessingActivity): boolean {
  const d = a.dpia
  if (!d) return false
  return d.required === true || (d.required === false && !blank(d.justification)) || ['planned', 'in-progress', 'completed'].includes(d.status ?? '')
}

function dpiaScreeningRequired(a: ProcessingActivity): Gap[] {
  const s = a.dpiaScreening
  if (s?.outcome !== 'required' || dpiaDecided(a)) return []
  const why = { en: screeningWords(s, 'en'), sv: screeningWords(s, 'sv') }
  const against = a.dpia?.required === false
  return [{
    field: against ? 'dpia.justification' : a.dpia ? 'dpia.required' : 'dpia',
    en: against
      ? `The DPIA screening finds a data protection impact assessment required (${why.en}), but the activity is marked "not required" without a justification.`
      : `The DPIA screening finds a data protection impact assessment required (${why.en}), but none is decided or in progress.`,
    sv: against
      ? `Förhandsbedömningen visar att en konsekvensbedömning krävs (${why.sv}), men behandlingen är markerad ”krävs inte” utan motivering.`
      : `Förhandsbedömningen visar att en konsekvensbedömning krävs (${why.sv}), men ingen är beslutad eller påbörjad.`,
  }]
}

function dpiaScreeningUndetermined(a: ProcessingActivity): Gap[] {
  const s = a.dpiaScreening
  if (s?.outcome !== 'undetermined' || a.dpia?.required === true) return []
  return [{
    field: s.unanswered[0] ?? 'riskFactors',
    en: `Whether a data protection impact assessment is required cannot be screened: answer ${unansweredWords(s.unanswered, 'en').join('; ')}.`,
    sv: `Om en konsekvensbedömning krävs kan inte förhandsbedömas: besvara ${unansweredWords(s.unanswered, 'sv').join('; ')}.`,
  }]
}

function reviewOverdue(a: ProcessingActivity, ctx: Context): Gap[] {
  if (!a.nextReviewAt || a.nextReviewAt >= ctx.today) return []
  return [{
    field: 'nextReviewAt',
    en: `The review was due on ${a.nextReviewAt} and is overdue.`,
    sv: `Granskningen skulle ha gjorts senast ${a.nextReviewAt} och är försenad.`,
  }]
}

function neverReviewed(a: ProcessingActivity): Gap[] {
  return a.lastReviewedAt ? [] : [{
    field: 'lastReviewedAt',
    en: 'The activity has never been reviewed.',
    sv: 'Behandlingen har aldrig granskats.',
  }]
}

function thirdCountryRecipientWithoutTransfer(a: ProcessingActivity): Gap[] {
  const transferred = new Set((a.transfers ?? []).map((t) => t.country))
  return (a.recipients ?? []).flatMap((r, i) => (!r || !isThirdCountry(r.country) || transferred.has(r.country) ? [] : [{
    field: `recipients[${i}]`,
    en: `Recipient "${r.name}" is in ${countryName(r.country, 'en')}, but no transfer to that country is recorded.`,
    sv: `Mottagaren ”${r.name}” finns i ${countryName(r.country, 'sv')}, men ingen överföring till det landet är registrerad.`,
  }]))
}

function activityWithoutSecurityMeasures(a: ProcessingActivity): Gap[] {
  return (a.securityMeasures ?? []).length ? [] : [{
    field: 'securityMeasures',
    en: 'No technical or organisational security measures are described for the activity.',
    sv: 'Inga tekniska eller organisatoriska säkerhetsåtgärder är beskrivna för behandlingen.',
  }]
}

// ---------------------------------------------------------------------------------------------
// rules over records the activities share

const activityNames = (activities: ActivityName[], lang: 'en' | 'sv'): string => quoted(activities.map((a) => a.name), lang)

function processorWithoutAgreement({ record: p, activities }: Use): Gap[] {
  return p.dataProcessingAgreement ? [] : [{
    field: 'dataProcessingAgreement',
    en: `No data processing agreement is recorded with processor "${p.name}", used in ${activityNames(activities, 'en')}.`,
    sv: `Inget personuppgiftsbiträdesavtal är registrerat med personuppgiftsbiträdet ”${p.name}”, som används i ${activityNames(activities, 'sv')}.`,
  }]
}

function specialCategoryUnspecified({ record: c, activities }: Use): Gap[] {
  return c.classification !== 'special' || (c.specialCategory && c.specialCategory !== 'unspecified') ? [] : [{
    field: 'specialCategory',
    en: `Which kind of special-category data "${c.name}" is (Art. 9(1)) is not stated, so the right Art. 9(2) condition cannot be chosen; used in ${activityNames(activities, 'en')}.`,
    sv: `Vilken sorts känsliga personuppgifter ”${c.name}” är (art. 9.1) anges inte, så rätt villkor enligt art. 9.2 kan inte väljas; används i ${activityNames(activities, 'sv')}.`,
  }]
}

function controllerWithoutContact({ record: c }: Use): Gap[] {
  return [c.email, c.phone, c.address].some((v) => !blank(v)) ? [] : [{
    field: 'email',
    en: `No contact details (e-mail, phone or address) are recorded for controller "${c.name}".`,
    sv: `Inga kontaktuppgifter (e-post, telefon eller adress) är registrerade för den personuppgiftsansvarige ”${c.name}”.`,
  }]
}

function controllerWithoutDpo({ record: c }: Use): Gap[] {
  return c.dataProtectionOfficer ? [] : [{
    field: 'dataProtectionOfficer',
    en: `No data protection officer is recorded for "${c.name}". Not every controller must appoint one (Art. 37(1)); if one is appointed, record the contact details.`,
    sv: `Inget dataskyddsombud är registrerat för ”${c.name}”. Alla personuppgiftsansvariga måste inte utse ett (art. 37.1); om ett är utsett, registrera kontaktuppgifterna.`,
  }]
}

// ---------------------------------------------------------------------------------------------
// the rules, in the order findings are listed within a severity

const onActivity = (controllerRecordsOnly: boolean) => ({ about: 'processing-activity' as const, controllerRecordsOnly })

export const RULES: Rule[] = [
  { id: 'purpose-without-legal-basis', severity: 'high', article: 'Art. 6(1); Art. 5(1)(a)', summary: 'A purpose has no legal basis', ...onActivity(true), check: purposeWithoutLegalBasis },
  { id: 'purpose-without-article-6-basis', severity: 'medium', article: 'Art. 6(1)', summary: 'A purpose has legal bases, but none under Art. 6(1)', ...onActivity(true), check: purposeWithoutArticle6Basis },
  { id: 'special-category-without-condition', severity: 'high', article: 'Art. 9(2)', summary: 'Special-category data without an Art. 9(2) condition on any purpose of the activity', ...onActivity(true), check: specialCategoryWithoutCondition },
  { id: 'special-category-unspecified', severity: 'medium', article: 'Art. 9(1)', summary: 'A special data category does not say which Art. 9(1) category it is', about: 'data-category', check: specialCategoryUnspecified },
  { id: 'criminal-data-without-basis', severity: 'high', article: 'Art. 10', summary: 'Criminal-offence data without an Art. 10 basis on any purpose', ...onActivity(true), check: criminalDataWithoutBasis },
  { id: 'national-id-without-justification', severity: 'medium', article: 'Art. 87; dataskyddslagen (2018:218) 3 kap. 10 §', summary: 'Personnummer without nationalIdJustification or the SE-DSL-3-10 basis', ...onActivity(true), check: nationalIdWithoutJustification },
  { id: 'transfer-without-mechanism', severity: 'high', article: 'Art. 44–49; Art. 30(1)(e)', summary: 'A transfer to a third country (outside the EEA) without a transfer mechanism', ...onActivity(false), check: transferWithoutMechanism },
  { id: 'exceptional-transfer-without-safeguards', severity: 'high', article: 'Art. 49(1) second subparagraph; Art. 30(1)(e)', summary: 'A transfer on compelling legitimate interests without described and documented safeguards', ...onActivity(false), check: exceptionalTransferWithoutSafeguards },
  { id: 'processor-without-agreement', severity: 'high', article: 'Art. 28(3)', summary: 'A processor used by an activity has no data processing agreement recorded', about: 'processor', check: processorWithoutAgreement },
  { id: 'retention-missing', severity: 'medium', article: 'Art. 30(1)(f); Art. 5(1)(e)', summary: 'No retention rule for the activity, or for some of its data categories', ...onActivity(true), check: retentionMissing },
  { id: 'retention-without-limit', severity: 'low', article: 'Art. 30(1)(f); Art. 5(1)(e)', summary: 'A retention rule with no fixed time limit (period null)', ...onActivity(true), check: retentionWithoutLimit },
  { id: 'legitimate-interest-not-stated', severity: 'medium', article: 'Art. 6(1)(f); Art. 13(1)(d)', summary: 'Legitimate interests (A6-1-f) without the interest stated', ...onActivity(true), check: legitimateInterestNotStated },
  { id: 'legitimate-interest-without-assessment', severity: 'low', article: 'Art. 6(1)(f); Art. 5(2)', summary: 'Legitimate interests (A6-1-f) without a reference to the balancing test (LIA)', ...onActivity(true), check: legitimateInterestWithoutAssessment },
  { id: 'consent-without-withdrawal', severity: 'medium', article: 'Art. 7(3)', summary: 'Consent (A6-1-a, A9-2-a) without a noted way to withdraw it', ...onActivity(true), check: consentWithoutWithdrawal },
  { id: 'dpia-screening-required', severity: 'high', article: 'Art. 35(1), (3), (4); WP248 rev.01', summary: 'The DPIA screening finds a DPIA required, but none is decided or in progress', ...onActivity(true), check: dpiaScreeningRequired },
  { id: 'dpia-screening-undetermined', severity: 'low', article: 'Art. 35(1); WP248 rev.01', summary: 'The DPIA screening cannot decide: facts it needs are not answered', ...onActivity(true), check: dpiaScreeningUndetermined },
  { id: 'controller-without-contact', severity: 'high', article: 'Art. 30(1)(a); Art. 13(1)(a)', summary: 'A controller or joint controller without e-mail, phone or address', about: 'controller', check: controllerWithoutContact },
  { id: 'controller-without-dpo', severity: 'low', article: 'Art. 37; Art. 30(1)(a)', summary: 'A controller or joint controller without a data protection officer recorded (not every one must appoint one)', about: 'controller', check: controllerWithoutDpo },
  { id: 'review-overdue', severity: 'medium', article: 'Art. 5(2); Art. 24(1)', summary: 'The next review date has passed', ...onActivity(false), check: reviewOverdue },
  { id: 'never-reviewed', severity: 'low', article: 'Art. 5(2); Art. 24(1)', summary: 'The activity has never been reviewed (lastReviewedAt empty)', ...onActivity(false), check: neverReviewed },
  { id: 'third-country-recipient-without-transfer', severity: 'medium', article: 'Art. 30(1)(d)–(e); Art. 44', summary: 'A recipient outside the EEA with no transfer recorded to its country', ...onActivity(false), check: thirdCountryRecipientWithoutTransfer },
  { id: 'activity-without-security-measures', severity: 'medium', article: 'Art. 30(1)(g); Art. 32', summary: 'An activity without security measures', ...onActivity(false), check: activityWithoutSecurityMeasures },
]

export const RULE_IDS = RULES.map((r) => r.id)

// ---------------------------------------------------------------------------------------------
// running the rules

/** Collects the records the activities share, each with the activities that use it. */
class Uses {
  private readonly byId = new Map<string, Use>()
  add(record: SharedRecord | null | undefined, activity: ActivityName): void {
    if (!record?.id) return
    const use = this.byId.get(record.id) ?? { record, activities: [] }
    if (!use.activities.includes(activity)) use.activities.push(activity)
    this.byId.set(record.id, use)
  }

  ids(): string[] {
    return [...this.byId.keys()]
  }

  /** The uses, with the full view of each record where one was loaded. */
  withViews(views?: Map<string, SharedRecord>): Use[] {
    return [...this.byId.values()].map((u) => ({ ...u, record: views?.get(u.record.id) ?? u.record }))
  }
}

const activityRef = (a: ProcessingActivity): ActivityName => ({ id: a.id, name: a.name })

/** Finds what the rules find in a set of activity views; `fullViews` gives controllers and processors whole. */
export class FindingCollector {
  readonly findings: Finding[] = []
  private readonly uses = { controller: new Uses(), processor: new Uses(), 'data-category': new Uses() }

  constructor(private readonly ctx: Context, private readonly rules: Rule[] = RULES) {}

  addActivities(activities: ProcessingActivity[]): void {
    for (const a of activities) {
      if (a.status === 'retired') continue
      for (const rule of this.rules) {
        if (rule.about !== 'processing-activity' || (rule.controllerRecordsOnly && a.role !== 'controller')) continue
        for (const gap of rule.check(a, this.ctx)) this.push(rule, { type: 'processing-activity', id: a.id, name: a.name }, gap)
      }
      // Only names and ids of the activities are kept for the shared-record rules, not whole views.
      const ref = activityRef(a)
      for (const c of [a.controller, ...(a.jointControllers ?? [])]) this.uses.controller.add(c, ref)
      for (const p of a.processors ?? []) this.uses.processor.add(p, ref)
      for (const d of a.dataCategories ?? []) this.uses['data-category'].add(d, ref)
    }
  }

  /** Ids of the controllers and processors whose full views the shared-record rules need. */
  sharedIds(): { controllers: string[]; processors: string[] } {
    return { controllers: this.uses.controller.ids(), processors: this.uses.processor.ids() }
  }

  finish(fullViews: { controllers?: Map<string, Controller>; processors?: Map<string, Processor> } = {}): Finding[] {
    const views = { controller: fullViews.controllers, processor: fullViews.processors, 'data-category': undefined }
    for (const rule of this.rules) {
      if (rule.about === 'processing-activity') continue
      for (const use of this.uses[rule.about].withViews(views[rule.about])) {
        for (const gap of rule.check(use)) this.push(rule, { type: rule.about, id: use.record.id, name: use.record.name }, gap)
      }
    }
    return sortFindings(this.findings, this.rules)
  }

  private push(rule: Rule, record: Finding['record'], gap: Gap): void {
    this.findings.push({
      rule: rule.id, severity: rule.severity, article: rule.article, record,
      ...(gap.field ? { field: gap.field } : {}),
      message: { en: gap.en, sv: gap.sv },
    })
  }
}

function sortFindings(findings: Finding[], rules: Rule[]): Finding[] {
  const rank = new Map(rules.map((r, i) => [r.id, i]))
  return findings.sort((a, b) =>
    SEVERITIES.indexOf(a.severity) - SEVERITIES.indexOf(b.severity)
    || rank.get(a.rule)! - rank.get(b.rule)!
    || compareNames(a.record, b.record)
    || (a.field ?? '').localeCompare(b.field ?? '', 'en', { numeric: true }))
}

// ---------------------------------------------------------------------------------------------
// the register's findings (read by register-findings.ts)

export interface FindingsQuery {
  controllerId?: string
  severity?: Severity
  rule?: string
}

export interface FindingList {
  items: Finding[]
  total: number
  counts: Record<Severity, number>
}

// ---------------------------------------------------------------------------------------------
// response schemas (registered once, with the other shared schemas)

export function findingSchemas(): JsonSchema[] {
  const message = { type: 'string' }
  return [
    {
      $id: 'Finding',
      type: 'object',
      description: 'Something the register lacks or gets wrong, with the article it rests on',
      properties: {
        rule: { type: 'string', enum: RULE_IDS, description: 'Stable id of the rule' },
        severity: { type: 'string', enum: SEVERITIES },
        article: { type: 'string', description: 'The provision the rule rests on', examples: ['Art. 6(1); Art. 5(1)(a)'] },
        record: {
          type: 'object',
          description: 'The record concerned',
          properties: {
            type: { type: 'string', enum: ['processing-activity', 'processor', 'controller', 'data-category'] },
            id: { type: 'string', format: 'uuid' },
            name: { type: 'string' },
          },
          required: ['type', 'id', 'name'],
          additionalProperties: false,
        },
        field: { type: 'string', description: 'The field of the record concerned, as the API shows it', examples: ['purposes[0].legalBases'] },
        message: {
          type: 'object',
          description: 'What is missing, in English and in Swedish',
          properties: { en: message, sv: message },
          required: ['en', 'sv'],
          additionalProperties: false,
        },
      },
      required: ['rule', 'severity', 'article', 'record', 'message'],
      additionalProperties: false,
    },
    {
      $id: 'FindingList',
      type: 'object',
      description: 'The findings, most severe first',
      properties: {
        items: { type: 'array', items: { $ref: 'Finding#' } },
        total: { type: 'integer', minimum: 0, description: 'Findings in all pages' },
        limit: { type: 'integer' },
        offset: { type: 'integer' },
        counts: {
          type: 'object',
          description: 'Findings in all pages, per severity',
          properties: Object.fromEntries(SEVERITIES.map((s) => [s, { type: 'integer', minimum: 0 }])),
          required: SEVERITIES,
          additionalProperties: false,
        },
      },
      required: ['items', 'total', 'limit', 'offset', 'counts'],
      additionalProperties: false,
    },
  ]
}
