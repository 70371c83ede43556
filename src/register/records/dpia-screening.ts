import { JsonSchema } from '../../schemas/json-schema'

/**
 * The DPIA screening (Art. 35): computed from what the register records of an activity, never
 * entered by hand, each criterion with the fields it read and why it is met or not, in English and
 * Swedish. The rules and their sources are in docs/dpia-screening.md; the activity's view carries
 * the outcome (stored, so that `?dpiaScreening=` filters by an indexed column), GET
 * …/dpia-screening the whole of it, and the export, the report and the findings read them from here.
 *
 * It sits with the record model (not in review/) because the stored view is built here, and the
 * records room imports nothing to its left.
 *
 * Three-valued throughout: a fact is true, false or null (not yet answered). A criterion whose
 * answer depends on an unanswered fact is null, and an outcome that a null could change is
 * "undetermined": a silent register is never "not required".
 */

export type Met = boolean | null
export type Outcome = 'required' | 'not-required' | 'undetermined'
export const OUTCOMES: Outcome[] = ['required', 'not-required', 'undetermined']

interface Words { en: string; sv: string }

export interface Criterion {
  id: string
  met: Met
  because: Words
  /** The fields of the activity's view it read. */
  fields: string[]
}

export interface DpiaScreening {
  outcome: Outcome
  criteria: Criterion[]
  article35_3: Criterion[]
  /** Facts not yet answered that could change the outcome (fields of the activity's view). */
  unanswered: string[]
  explanation: Words
}

/** What the activity's view carries: the outcome and the ids met (criteria and Art. 35(3) cases). */
export interface DpiaScreeningSummary {
  outcome: Outcome
  met: string[]
  /** Ids met that recital 91 sets aside (an individual professional's patients or clients). */
  setAside: string[]
  unanswered: string[]
}

/** What the screening reads of an activity's view. */
export interface ScreenedActivity {
  dataSubjectCategories?: ({ name: string; vulnerable?: boolean | null } | null)[] | null
  dataCategories?: ({ name: string; classification: string; highlyPersonal?: boolean | null } | null)[] | null
  riskFactors?: Partial<Record<RiskFactor, boolean | null>> | null
  dataSubjectsApprox?: number | null
  individualProfessional?: boolean | null
  automatedDecisionMaking?: boolean | null
}

export type RiskFactor =
  | 'evaluationOrScoring' | 'automatedDecisionWithLegalEffect' | 'systematicMonitoring' | 'publiclyAccessibleArea'
  | 'largeScale' | 'matchingDatasets' | 'innovativeTechnology' | 'preventsRightOrService'

/** Each criterion and case: its name in both languages and the reference a reader checks it against. */
export const CRITERIA: Record<string, { en: string; sv: string; reference: string }> = {
  'WP248-1': { en: 'evaluation or scoring', sv: 'utvärdering eller poängsättning', reference: 'WP248-1' },
  'WP248-2': { en: 'automated decision-making with legal or similarly significant effect', sv: 'automatiserat beslutsfattande med rättsliga eller liknande betydande följder', reference: 'WP248-2' },
  'WP248-3': { en: 'systematic monitoring', sv: 'systematisk övervakning', reference: 'WP248-3' },
  'WP248-4': { en: 'sensitive or highly personal data', sv: 'känsliga eller mycket personliga uppgifter', reference: 'WP248-4' },
  'WP248-5': { en: 'large scale', sv: 'behandling i stor omfattning', reference: 'WP248-5' },
  'WP248-6': { en: 'matching or combining datasets', sv: 'matchning eller kombination av datamängder', reference: 'WP248-6' },
  'WP248-7': { en: 'vulnerable data subjects', sv: 'sårbara registrerade', reference: 'WP248-7' },
  'WP248-8': { en: 'innovative use or new technology', sv: 'innovativ användning eller ny teknik', reference: 'WP248-8' },
  'WP248-9': { en: 'prevents exercising a right or using a service or contract', sv: 'hindrar de registrerade från att utöva en rättighet eller använda en tjänst eller ett avtal', reference: 'WP248-9' },
  'A35-3-a': { en: 'systematic and extensive evaluation with legal or similarly significant effects', sv: 'systematisk och omfattande bedömning med rättsliga följder eller liknande betydande följder', reference: 'Art. 35(3)(a)' },
  'A35-3-b': { en: 'large-scale special-category or criminal-offence data', sv: 'känsliga personuppgifter eller uppgifter om lagöverträdelser i stor omfattning', reference: 'Art. 35(3)(b)' },
  'A35-3-c': { en: 'large-scale systematic monitoring of a publicly accessible area', sv: 'systematisk övervakning av en allmän plats i stor omfattning', reference: 'Art. 35(3)(c)' },
}

/** The criteria recital 91 concerns: an individual professional's patients' or clients' data, not large scale. */
const RECITAL_91 = ['WP248-4', 'WP248-5', 'WP248-7']

// ---------------------------------------------------------------------------------------------
// three-valued logic

const all = (values: Met[]): Met => (values.some((v) => v === false) ? false : values.every((v) => v === true) ? true : null)
const fact = (v: boolean | null | undefined): Met => (v === true ? true : v === false ? false : null)

const factWords: Record<RiskFactor, Words> = {
  evaluationOrScoring: { en: 'evaluation or scoring (profiling, predicting)', sv: 'utvärdering eller poängsättning (profilering, förutsägelser)' },
  automatedDecisionWithLegalEffect: { en: 'automated decisions with legal or similarly significant effect', sv: 'automatiserade beslut med rättsliga eller liknande betydande följder' },
  systematicMonitoring: { en: 'systematic monitoring', sv: 'systematisk övervakning' },
  publiclyAccessibleArea: { en: 'monitoring of a publicly accessible area', sv: 'övervakning av en allmän plats' },
  largeScale: { en: 'processing on a large scale', sv: 'behandling i stor omfattning' },
  matchingDatasets: { en: 'matching or combining datasets', sv: 'matchning eller kombination av datamängder' },
  innovativeTechnology: { en: 'innovative use or new technology', sv: 'innovativ användning eller ny teknik' },
  preventsRightOrService: { en: 'preventing data subjects from exercising a right or using a service', sv: 'att de registrerade hindras från att utöva en rättighet eller använda en tjänst' },
}

/** The facts beside the risk factors that a screening reads, in words (a finding asks for them so). */
const OTHER_FACT_WORDS: Record<string, Words> = {
  dataSubjectCategories: { en: 'whether the data subjects are vulnerable', sv: 'om de registrerade är sårbara' },
  dataCategories: { en: 'whether the data are highly personal', sv: 'om uppgifterna är av mycket personlig karaktär' },
  individualProfessional: { en: 'whether one professional processes their own patients\' or clients\' data (recital 91)', sv: 'om en enskild yrkesutövare behandlar sina egna patienters eller klienters uppgifter (skäl 91)' },
}

/** Unanswered facts (field paths, as `unanswered` names them) in words a person answers. */
export function unansweredWords(fields: string[], lang: 'en' | 'sv'): string[] {
  const words = fields.map((f) => {
    const risk = f.startsWith('riskFactors.') ? factWords[f.slice('riskFactors.'.length) as RiskFactor] : undefined
    // dataSubjectCategories[2].vulnerable → the question asked of every such category
    return (risk ?? OTHER_FACT_WORDS[f.replace(/[[.].*$/, '')])?.[lang] ?? f
  })
  return [...new Set(words)]
}

/** Whether the words are wanted: the view's summary (computed with every stored view) has none. */
let wordy = true
const NO_WORDS: Words = { en: '', sv: '' }

const said = (v: Met, w: Words): Words => (!wordy ? NO_WORDS : v === true
  ? { en: `The register records ${w.en}.`, sv: `Registret anger ${w.sv}.` }
  : v === false
    ? { en: `The register records no ${w.en}.`, sv: `Registret anger att det inte förekommer ${w.sv}.` }
    : { en: `Whether there is ${w.en} is not answered.`, sv: `Om det förekommer ${w.sv} är inte besvarat.` })

const q = { en: (s: string): string => `"${s}"`, sv: (s: string): string => `”${s}”` }
const names = (list: string[], lang: 'en' | 'sv'): string => (wordy ? list.map(q[lang]).join(', ') : '')

// ---------------------------------------------------------------------------------------------
// the screening

/**
 * Large scale as recital 91 reads it: not for an individual professional's own patients or clients.
 * The exception is claimed (individualProfessional: true), never presumed: unanswered, it sets nothing aside.
 */
function largeScaleOf(a: ScreenedActivity): { met: Met; fields: string[]; because: Words } {
  const large = fact(a.riskFactors?.largeScale)
  const individual = fact(a.individualProfessional)
  const approx = typeof a.dataSubjectsApprox === 'number'
    ? { en: ` (about ${a.dataSubjectsApprox} data subjects)`, sv: ` (omkring ${a.dataSubjectsApprox} registrerade)` }
    : { en: '', sv: '' }
  const fields = ['riskFactors.largeScale', 'individualProfessional', 'dataSubjectsApprox']
  if (individual === true) {
    return {
      met: false, fields,
      because: {
        en: `An individual physician's, health professional's or lawyer's processing of their own patients' or clients' data is not large scale (recital 91)${approx.en}.`,
        sv: `En enskild läkares, annan yrkesutövare inom hälso- och sjukvårdens eller advokats behandling av sina patienters eller klienters uppgifter är inte behandling i stor omfattning (skäl 91)${approx.sv}.`,
      },
    }
  }
  const base = said(large, factWords.largeScale)
  return { met: large, fields, because: { en: base.en.replace(/\.$/, `${approx.en}.`), sv: base.sv.replace(/\.$/, `${approx.sv}.`) } }
}

function fromFactor(id: string, factor: RiskFactor, a: ScreenedActivity): Criterion {
  const met = fact(a.riskFactors?.[factor])
  return { id, met, because: said(met, factWords[factor]), fields: [`riskFactors.${factor}`] }
}

function sensitiveOrHighlyPersonal(a: ScreenedActivity): Criterion {
  const categories = (a.dataCategories ?? []).map((c, i) => ({ c, i })).filter((x) => x.c)
  const fields = categories.flatMap(({ i }) => [`dataCategories[${i}].classification`, `dataCategories[${i}].highlyPersonal`])
  const sensitive = categories.filter(({ c }) => c!.classification === 'special' || c!.classification === 'criminal').map(({ c }) => c!.name)
  const highly = categories.filter(({ c }) => c!.highlyPersonal === true).map(({ c }) => c!.name)
  if (sensitive.length || highly.length) {
    const en: string[] = []
    const sv: string[] = []
    if (sensitive.length) {
      en.push(`special-category or criminal-offence data (Art. 9, 10: ${names(sensitive, 'en')})`)
      sv.push(`känsliga personuppgifter eller uppgifter om lagöverträdelser (art. 9, 10: ${names(sensitive, 'sv')})`)
    }
    if (highly.length) {
      en.push(`highly personal data (${names(highly, 'en')})`)
      sv.push(`mycket personliga uppgifter (${names(highly, 'sv')})`)
    }
    return { id: 'WP248-4', met: true, fields, because: { en: `The activity holds ${en.join(' and ')}.`, sv: `Behandlingen omfattar ${sv.join(' och ')}.` } }
  }
  if (!categories.length) {
    return { id: 'WP248-4', met: null, fields: ['dataCategories'], because: { en: 'No categories of personal data are recorded.', sv: 'Inga kategorier av personuppgifter är registrerade.' } }
  }
  const unanswered = categories.filter(({ c }) => c!.highlyPersonal !== false)
  if (unanswered.length) {
    const list = unanswered.map(({ c }) => c!.name)
    return {
      id: 'WP248-4', met: null, fields,
      because: {
        en: `No special-category or criminal-offence data; whether ${names(list, 'en')} are highly personal (location, financial, communications content, …) is not answered.`,
        sv: `Inga känsliga personuppgifter eller uppgifter om lagöverträdelser; om ${names(list, 'sv')} är mycket personliga (platsuppgifter, ekonomiska uppgifter, innehåll i kommunikation, …) är inte besvarat.`,
      },
    }
  }
  return {
    id: 'WP248-4', met: false, fields,
    because: { en: 'No special-category, criminal-offence or highly personal data are recorded.', sv: 'Inga känsliga, brottsrelaterade eller mycket personliga uppgifter är registrerade.' },
  }
}

function vulnerableSubjects(a: ScreenedActivity): Criterion {
  const categories = (a.dataSubjectCategories ?? []).map((c, i) => ({ c, i })).filter((x) => x.c)
  const fields = categories.map(({ i }) => `dataSubjectCategories[${i}].vulnerable`)
  const vulnerable = categories.filter(({ c }) => c!.vulnerable === true).map(({ c }) => c!.name)
  if (vulnerable.length) {
    return { id: 'WP248-7', met: true, fields, because: { en: `Vulnerable data subjects: ${names(vulnerable, 'en')}.`, sv: `Sårbara registrerade: ${names(vulnerable, 'sv')}.` } }
  }
  if (!categories.length) {
    return { id: 'WP248-7', met: null, fields: ['dataSubjectCategories'], because: { en: 'No categories of data subjects are recorded.', sv: 'Inga kategorier av registrerade är registrerade.' } }
  }
  const unanswered = categories.filter(({ c }) => c!.vulnerable !== false).map(({ c }) => c!.name)
  if (unanswered.length) {
    return {
      id: 'WP248-7', met: null, fields,
      because: { en: `Whether ${names(unanswered, 'en')} are vulnerable is not answered.`, sv: `Om ${names(unanswered, 'sv')} är sårbara är inte besvarat.` },
    }
  }
  return { id: 'WP248-7', met: false, fields, because: { en: 'None of the data subjects is recorded as vulnerable.', sv: 'Ingen av de registrerade är angiven som sårbar.' } }
}

function article35_3(a: ScreenedActivity, large: Met, largeFields: string[]): Criterion[] {
  const evaluation = fact(a.riskFactors?.evaluationOrScoring)
  const decisions = fact(a.riskFactors?.automatedDecisionWithLegalEffect)
  const monitoring = fact(a.riskFactors?.systematicMonitoring)
  const publicArea = fact(a.riskFactors?.publiclyAccessibleArea)
  const categories = (a.dataCategories ?? []).map((c, i) => ({ c, i })).filter((x) => x.c)
  const sensitive = categories.filter(({ c }) => c!.classification === 'special' || c!.classification === 'criminal').map(({ c }) => c!.name)
  // classification is always recorded; only an activity listing no data categories leaves it open
  const holdsSensitive: Met = sensitive.length ? true : categories.length ? false : null
  const aMet = all([evaluation, decisions])
  const bMet = all([holdsSensitive, large])
  const cMet = all([monitoring, publicArea, large])
  const state = (m: Met): Words => (m === true ? { en: 'met', sv: 'uppfyllt' } : m === false ? { en: 'not met', sv: 'inte uppfyllt' } : { en: 'open', sv: 'öppet' })
  return [
    {
      id: 'A35-3-a', met: aMet, fields: ['riskFactors.evaluationOrScoring', 'riskFactors.automatedDecisionWithLegalEffect'],
      because: {
        en: `Systematic evaluation on which decisions with legal or similarly significant effects are based (${state(aMet).en}): ${said(evaluation, factWords.evaluationOrScoring).en} ${said(decisions, factWords.automatedDecisionWithLegalEffect).en}`,
        sv: `Systematisk bedömning som ligger till grund för beslut med rättsliga eller liknande betydande följder (${state(aMet).sv}): ${said(evaluation, factWords.evaluationOrScoring).sv} ${said(decisions, factWords.automatedDecisionWithLegalEffect).sv}`,
      },
    },
    {
      id: 'A35-3-b', met: bMet,
      fields: [...categories.map(({ i }) => `dataCategories[${i}].classification`), ...largeFields],
      because: bMet === true
        ? { en: `Special-category or criminal-offence data (${names(sensitive, 'en')}) processed on a large scale.`, sv: `Känsliga personuppgifter eller uppgifter om lagöverträdelser (${names(sensitive, 'sv')}) behandlas i stor omfattning.` }
        : holdsSensitive === false
          ? { en: 'The activity holds no special-category or criminal-offence data.', sv: 'Behandlingen omfattar inga känsliga personuppgifter eller uppgifter om lagöverträdelser.' }
          : holdsSensitive === null
            ? { en: 'No categories of personal data are recorded.', sv: 'Inga kategorier av personuppgifter är registrerade.' }
            : large === false
              ? { en: `Special-category or criminal-offence data (${names(sensitive, 'en')}), but not on a large scale.`, sv: `Känsliga personuppgifter eller uppgifter om lagöverträdelser (${names(sensitive, 'sv')}), men inte i stor omfattning.` }
              : { en: `Special-category or criminal-offence data (${names(sensitive, 'en')}); whether on a large scale is not answered.`, sv: `Känsliga personuppgifter eller uppgifter om lagöverträdelser (${names(sensitive, 'sv')}); om behandlingen sker i stor omfattning är inte besvarat.` },
    },
    {
      id: 'A35-3-c', met: cMet, fields: ['riskFactors.systematicMonitoring', 'riskFactors.publiclyAccessibleArea', ...largeFields],
      because: {
        en: `Large-scale systematic monitoring of a publicly accessible area (${state(cMet).en}): ${said(monitoring, factWords.systematicMonitoring).en} ${said(publicArea, factWords.publiclyAccessibleArea).en} ${large === true ? 'On a large scale.' : large === false ? 'Not on a large scale.' : 'Whether on a large scale is not answered.'}`,
        sv: `Systematisk övervakning av en allmän plats i stor omfattning (${state(cMet).sv}): ${said(monitoring, factWords.systematicMonitoring).sv} ${said(publicArea, factWords.publiclyAccessibleArea).sv} ${large === true ? 'I stor omfattning.' : large === false ? 'Inte i stor omfattning.' : 'Om behandlingen sker i stor omfattning är inte besvarat.'}`,
      },
    },
  ]
}

/** The whole screening of an activity, from its view; `explained: false` leaves every `because` and the explanation empty (the view's summary has none). */
export function screenActivity(a: ScreenedActivity, explained = true): DpiaScreening {
  wordy = explained
  try {
    return screened(a, explained)
  } finally {
    wordy = true
  }
}

function screened(a: ScreenedActivity, explained: boolean): DpiaScreening {
  const large = largeScaleOf(a)
  const decisions = fromFactor('WP248-2', 'automatedDecisionWithLegalEffect', a)
  if (decisions.met === null && a.automatedDecisionMaking === true) {
    decisions.fields.push('automatedDecisionMaking')
    decisions.because = {
      en: 'The activity records automated decision-making (Art. 22); whether its decisions have legal or similarly significant effect is not answered.',
      sv: 'Behandlingen anger automatiserat beslutsfattande (art. 22); om besluten har rättsliga eller liknande betydande följder är inte besvarat.',
    }
  }
  const criteria: Criterion[] = [
    fromFactor('WP248-1', 'evaluationOrScoring', a),
    decisions,
    fromFactor('WP248-3', 'systematicMonitoring', a),
    sensitiveOrHighlyPersonal(a),
    { id: 'WP248-5', ...large },
    fromFactor('WP248-6', 'matchingDatasets', a),
    vulnerableSubjects(a),
    fromFactor('WP248-8', 'innovativeTechnology', a),
    fromFactor('WP248-9', 'preventsRightOrService', a),
  ]
  const cases = article35_3(a, large.met, large.fields)
  const individual = a.individualProfessional === true
  const counted = criteria.filter((c) => !(individual && RECITAL_91.includes(c.id)))
  const met = counted.filter((c) => c.met === true).length
  const open = counted.filter((c) => c.met === null).length
  let outcome: Outcome
  if (cases.some((c) => c.met === true) || met >= 2) outcome = 'required'
  else if (cases.some((c) => c.met === null) || open > 0) outcome = 'undetermined'
  else outcome = 'not-required'
  const unanswered = outcome === 'undetermined' ? unansweredFacts(a, [...counted, ...cases]) : []
  const explanation = explained ? explain(outcome, criteria, cases, individual, unanswered) : { en: '', sv: '' }
  return { outcome, criteria, article35_3: cases, unanswered, explanation }
}

/** The facts left unanswered by the open criteria and cases: the ones that could change the outcome. */
function unansweredFacts(a: ScreenedActivity, open: Criterion[]): string[] {
  const out = new Set<string>()
  for (const c of open) {
    if (c.met !== null) continue
    // how many data subjects there are informs the words, not the answer
    for (const f of c.fields) if (f !== 'dataSubjectsApprox' && valueAt(a, f) === null) out.add(f)
  }
  return [...out]
}

/** A field path's steps (`dataCategories[0].highlyPersonal` → dataCategories, 0, highlyPersonal): the same few paths recur. */
const steps = new Map<string, string[]>()
function stepsOf(path: string): string[] {
  let out = steps.get(path)
  if (!out) {
    out = path.split(/\.|\[(\d+)\]/).filter((p) => p !== undefined && p !== '')
    if (steps.size > 10000) steps.clear()
    steps.set(path, out)
  }
  return out
}

function valueAt(a: ScreenedActivity, path: string): unknown {
  let at: any = a
  for (const part of stepsOf(path)) {
    if (at === null || at === undefined) return null
    at = at[part]
  }
  if (Array.isArray(at)) return at.length ? at : null
  return at ?? null
}

function explain(outcome: Outcome, criteria: Criterion[], cases: Criterion[], individual: boolean, unanswered: string[]): Words {
  const metCases = cases.filter((c) => c.met === true).map((c) => CRITERIA[c.id].reference)
  const metCriteria = criteria.filter((c) => c.met === true).map((c) => c.id)
  const first: Words = outcome === 'required'
    ? metCases.length
      ? { en: `A DPIA is required: Art. 35(3) names the case this activity falls in (${metCases.join(', ')}).`, sv: `En konsekvensbedömning krävs: artikel 35.3 nämner fallet som behandlingen omfattas av (${metCases.join(', ')}).` }
      : { en: `A DPIA is required: the activity meets ${metCriteria.length} of the nine criteria of the EDPB's guidelines (WP248 rev.01: ${metCriteria.join(', ')}), and IMY's list under Art. 35(4) requires one where at least two are met.`, sv: `En konsekvensbedömning krävs: behandlingen uppfyller ${metCriteria.length} av de nio kriterierna i EDPB:s riktlinjer (WP248 rev.01: ${metCriteria.join(', ')}), och IMY:s förteckning enligt artikel 35.4 kräver en när minst två är uppfyllda.` }
    : outcome === 'not-required'
      ? { en: `No DPIA is required by the screening: no case of Art. 35(3) applies and fewer than two WP248 criteria are met${metCriteria.length ? ` (${metCriteria.join(', ')})` : ''}, below the two of IMY's list under Art. 35(4).`, sv: `Förhandsbedömningen kräver ingen konsekvensbedömning: inget fall i artikel 35.3 är tillämpligt och färre än två kriterier i WP248 är uppfyllda${metCriteria.length ? ` (${metCriteria.join(', ')})` : ''}, under de två som IMY:s förteckning enligt artikel 35.4 kräver.` }
      : { en: `The screening cannot decide: facts that could make a case of Art. 35(3) or a second WP248 criterion (IMY's list under Art. 35(4)) are not yet recorded (${unanswered.join(', ')}).`, sv: `Förhandsbedömningen kan inte avgöras: uppgifter som kan göra att ett fall i artikel 35.3 eller ett andra kriterium i WP248 (IMY:s förteckning enligt artikel 35.4) föreligger är ännu inte registrerade (${unanswered.join(', ')}).` }
  const recital: Words = individual
    ? { en: ' Recital 91: an individual physician\'s, health professional\'s or lawyer\'s processing of their own patients\' or clients\' data is not large scale, and a DPIA should then not be mandatory; the criteria it concerns (WP248-4, WP248-5, WP248-7) are not counted, as in WP248\'s own example.', sv: ' Skäl 91: en enskild läkares, annan yrkesutövare inom hälso- och sjukvårdens eller advokats behandling av sina patienters eller klienters uppgifter är inte behandling i stor omfattning, och en konsekvensbedömning bör då inte vara obligatorisk; kriterierna den avser (WP248-4, WP248-5, WP248-7) räknas inte, som i exemplet i WP248.' }
    : { en: '', sv: '' }
  const nuance: Words = outcome === 'required'
    ? { en: '', sv: '' }
    : { en: ' One criterion alone can still call for a DPIA where the risk is high (WP248 rev.01); the decision, with the DPO\'s advice (Art. 35(2)), stays with the controller.', sv: ' Ett enda kriterium kan ändå motivera en konsekvensbedömning när risken är hög (WP248 rev.01); beslutet, med dataskyddsombudets råd (artikel 35.2), fattas av den personuppgiftsansvarige.' }
  const decision: Words = outcome === 'required'
    ? { en: ' The DPIA is carried out before the processing starts, with the DPO\'s advice (Art. 35(2)).', sv: ' Konsekvensbedömningen görs innan behandlingen påbörjas, med dataskyddsombudets råd (artikel 35.2).' }
    : { en: '', sv: '' }
  return { en: first.en + recital.en + decision.en + nuance.en, sv: first.sv + recital.sv + decision.sv + nuance.sv }
}

/** What the activity's view carries of the screening. */
export function screeningSummary(s: DpiaScreening, individualProfessional: boolean | null | undefined): DpiaScreeningSummary {
  const met = [...s.criteria, ...s.article35_3].filter((c) => c.met === true).map((c) => c.id)
  return {
    outcome: s.outcome,
    met,
    setAside: individualProfessional === true ? met.filter((id) => RECITAL_91.includes(id)) : [],
    unanswered: s.unanswered,
  }
}

/** The summary the activity's view carries, from the rest of the view. */
export const dpiaScreeningOf = (a: ScreenedActivity): DpiaScreeningSummary => screeningSummary(screenActivity(a, false), a.individualProfessional)

/** The screening's summary in words with its references, as the CSV, workbook and report show it. */
export function screeningWords(s: DpiaScreeningSummary | null | undefined, lang: 'en' | 'sv'): string | null {
  if (!s) return null
  const outcome = { required: { en: 'Required', sv: 'Krävs' }, 'not-required': { en: 'Not required', sv: 'Krävs inte' }, undetermined: { en: 'Undetermined', sv: 'Kan inte avgöras' } }[s.outcome][lang]
  const counted = s.met.filter((id) => !s.setAside.includes(id))
  const parts = [outcome]
  if (counted.length) parts.push(`${lang === 'en' ? 'met' : 'uppfyllt'}: ${counted.map((id) => `${CRITERIA[id][lang]} (${CRITERIA[id].reference})`).join(', ')}`)
  if (s.setAside.length) parts.push(`${lang === 'en' ? 'not counted, recital 91' : 'räknas inte, skäl 91'}: ${s.setAside.map((id) => `${CRITERIA[id][lang]} (${CRITERIA[id].reference})`).join(', ')}`)
  if (s.unanswered.length) parts.push(`${lang === 'en' ? 'not answered' : 'obesvarat'}: ${s.unanswered.join(', ')}`)
  return parts.join('; ')
}

// ---------------------------------------------------------------------------------------------
// schemas

const words: JsonSchema = {
  type: 'object', properties: { en: { type: 'string' }, sv: { type: 'string' } }, required: ['en', 'sv'], additionalProperties: false,
}

const criterionIds = Object.keys(CRITERIA)

export const DPIA_SCREENING_SUMMARY_SCHEMA: JsonSchema = {
  $id: 'DpiaScreeningSummary',
  type: 'object',
  description: 'The DPIA screening computed from the register (GET /processing-activities/{id}/dpia-screening explains it): its outcome and what is met',
  properties: {
    outcome: { type: 'string', enum: OUTCOMES, description: 'required: an Art. 35(3) case or at least two WP248 criteria (IMY\'s list); not-required: every fact answered and neither holds; undetermined: an unanswered fact could change it' },
    met: { type: 'array', items: { type: 'string', enum: criterionIds }, description: 'The WP248 criteria and Art. 35(3) cases met', examples: [['WP248-3', 'WP248-7']] },
    setAside: { type: 'array', items: { type: 'string', enum: criterionIds }, description: 'Criteria met that recital 91 sets aside (an individual professional\'s own patients or clients)' },
    unanswered: { type: 'array', items: { type: 'string' }, description: 'Facts not yet answered that could change the outcome', examples: [['riskFactors.largeScale']] },
  },
  required: ['outcome', 'met', 'setAside', 'unanswered'],
  additionalProperties: false,
}

const criterionSchema: JsonSchema = {
  $id: 'DpiaCriterion',
  type: 'object',
  description: 'A WP248 criterion or an Art. 35(3) case: met (true), not met (false) or open (null, a fact it reads is not answered)',
  properties: {
    id: { type: 'string', enum: criterionIds },
    met: { type: ['boolean', 'null'] },
    because: { ...words, description: 'Why, in English and Swedish' },
    fields: { type: 'array', items: { type: 'string' }, description: 'The fields of the activity it read', examples: [['riskFactors.systematicMonitoring']] },
  },
  required: ['id', 'met', 'because', 'fields'],
  additionalProperties: false,
}

export const DPIA_SCREENING_SCHEMAS: JsonSchema[] = [
  criterionSchema,
  {
    $id: 'DpiaScreening',
    type: 'object',
    description: 'The DPIA screening of a processing activity, computed from the register and explained article by article (docs/dpia-screening.md)',
    properties: {
      outcome: DPIA_SCREENING_SUMMARY_SCHEMA.properties.outcome,
      criteria: { type: 'array', items: { $ref: 'DpiaCriterion#' }, description: 'The nine criteria of WP248 rev.01, WP248-1 … WP248-9' },
      article35_3: { type: 'array', items: { $ref: 'DpiaCriterion#' }, description: 'The cases of Art. 35(3): A35-3-a, A35-3-b, A35-3-c' },
      unanswered: DPIA_SCREENING_SUMMARY_SCHEMA.properties.unanswered,
      explanation: { ...words, description: 'One paragraph in English and Swedish, citing the articles, WP248 and IMY\'s list' },
    },
    required: ['outcome', 'criteria', 'article35_3', 'unanswered', 'explanation'],
    additionalProperties: false,
  },
]
