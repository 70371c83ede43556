import { registerDate } from '../wording/dates'
import { compareNames } from '../wording/collation'
import { countryName, durationWords, INTERNATIONAL_ORGANISATION, Lang, provisionWords, retentionCriteria, specialCategoryWords, TERMS, transferDestination } from '../wording/wording'
import { htmlText, pageStart, stylesheetOnlyPolicy } from './page'
import { Database } from '../../db/database'
import { NotFound } from '../../errors'
import { isThirdCountry } from './findings'
import { controllers, processors } from '../records/model'
import { getView } from '../records/reads'
import { activityPages, viewsById } from '../records/walk'

import type { ActivityPurpose, Contact, Controller, ControllerRef, DataCategoryRef, LegalBasisRef, ProcessingActivity, Processor, Retention } from '../../generated/view-types'
export type NoticeFormat = 'markdown' | 'html'

/**
 * The information a controller gives data subjects (Art. 13, and Art. 14 where data come from
 * elsewhere), written from its part of the register: the activities it keeps or is a joint
 * controller of that are in force (a draft is not yet done, so it is not told). Built once as a small document (headings, paragraphs, lists)
 * and rendered as Markdown or as a standalone HTML page; register text is escaped in both, so a
 * name like `<script>` is shown, never run. Where the register is silent (no legal basis, no
 * time limit) the notice says so instead of inventing.
 */

// --- the document ----------------------------------------------------------------------------

type Inline = string | { strong: string } | { link: string }
type Block =
  | { kind: 'heading'; level: 1 | 2 | 3; text: string }
  | { kind: 'paragraph'; parts: Inline[] }
  | { kind: 'list'; items: Inline[][] }

const heading = (level: 1 | 2 | 3, text: string): Block => ({ kind: 'heading', level, text })
const paragraph = (...parts: Inline[]): Block => ({ kind: 'paragraph', parts })
const list = (items: Inline[][]): Block => ({ kind: 'list', items })
/** A list item with a bold label: "**E-post:** info@…". */
const labelled = (label: string, ...parts: Inline[]): Inline[] => [{ strong: `${label}:` }, ' ', ...parts]

// --- words -----------------------------------------------------------------------------------

const IMY_URL = 'https://www.imy.se/'

const WORDS = {
  sv: {
    title: (name: string) => `Information om behandling av personuppgifter – ${name}`,
    intro: (name: string) => `Här beskriver ${name} hur vi behandlar dina personuppgifter och vilka rättigheter du har enligt dataskyddsförordningen (GDPR), artikel 13 och 14.`,
    controller: TERMS.controller.sv,
    name: 'Namn', organisationNumber: TERMS.organisationNumber.sv, address: TERMS.address.sv, email: TERMS.email.sv, phone: TERMS.phone.sv, website: TERMS.website.sv,
    jointControllers: TERMS.jointControllers.sv,
    jointIntro: 'Vi är gemensamt personuppgiftsansvariga med:',
    representative: 'Företrädare inom EU',
    dpo: TERMS.dataProtectionOfficer.sv,
    // the register being silent is not a decision not to appoint one (Art. 37): say what it holds
    noDpo: 'Uppgift om dataskyddsombud anges inte i registret.',
    processing: 'Hur vi behandlar dina personuppgifter',
    noActivities: 'Det finns inga behandlingar av personuppgifter registrerade.',
    together: 'Personuppgiftsansvariga för behandlingen',
    purposes: 'Ändamål och rättslig grund',
    legalBasis: 'rättslig grund',
    noLegalBasis: 'rättslig grund anges inte',
    legitimateInterest: 'Vårt berättigade intresse',
    legitimateInterestMissing: 'Vårt berättigade intresse: anges inte',
    withdraw: 'Du kan när som helst återkalla ditt samtycke',
    provisionUnknown: 'Om du måste lämna uppgifterna anges inte',
    ifNotProvided: 'Om du inte lämnar uppgifterna',
    subjects: TERMS.dataSubjectCategories.sv,
    data: TERMS.dataCategories.sv,
    special: (kind: string) => `känsliga personuppgifter: ${kind}`,
    criminal: 'personuppgifter om lagöverträdelser',
    nationalId: 'Varför vi behandlar personnummer',
    sources: 'Varifrån uppgifterna kommer',
    recipients: 'Mottagare',
    processors: 'Personuppgiftsbiträden som behandlar uppgifterna för vår räkning',
    retention: 'Lagringstid',
    noRetention: 'anges inte',
    noLimit: 'ingen fast tidsgräns',
    appliesTo: 'gäller',
    adm: 'Automatiserat beslutsfattande och profilering',
    transfers: 'Överföring till tredjeland',
    transfersAndOrganisations: 'Överföring till tredjeland och internationella organisationer',
    noTransfers: 'Registret anger ingen överföring av personuppgifter till länder utanför EU/EES.',
    transferIntro: 'Vi överför personuppgifter till länder utanför EU/EES (tredjeland):',
    transferOrganisationIntro: `Vi överför personuppgifter till länder utanför EU/EES (tredjeland) eller till en ${INTERNATIONAL_ORGANISATION.sv}:`,
    to: 'till',
    in: 'i behandlingen',
    mechanism: 'skyddsåtgärd',
    noMechanism: 'skyddsåtgärd anges inte',
    safeguards: 'Skyddsåtgärder',
    documentation: 'Skyddsåtgärderna finns dokumenterade här',
    askForCopy: 'Kontakta oss om du vill ha en kopia av skyddsåtgärderna.',
    rights: 'Dina rättigheter',
    rightsIntro: 'Du har rätt att:',
    rightList: [
      'få tillgång till dina personuppgifter (registerutdrag), art. 15',
      'få felaktiga personuppgifter rättade, art. 16',
      'få dina personuppgifter raderade, art. 17',
      'begära att behandlingen begränsas, art. 18',
      'invända mot behandling som grundas på berättigat intresse, och alltid mot direktmarknadsföring, art. 21',
    ],
    portability: (purposes: string) => `få ut de uppgifter du själv har lämnat i ett maskinläsbart format och föra över dem (dataportabilitet), art. 20; det gäller behandling som grundas på samtycke eller avtal: ${purposes}`,
    consentRight: 'när som helst återkalla ett samtycke, utan att det påverkar lagligheten av behandlingen innan samtycket återkallades, art. 7.3',
    howToWithdraw: 'Så återkallar du ditt samtycke',
    contactUs: 'Kontakta oss om du vill använda dina rättigheter:',
    complaint: 'Klagomål',
    complaintText: 'Om du anser att vi behandlar dina personuppgifter felaktigt har du rätt att lämna klagomål till Integritetsskyddsmyndigheten (IMY):',
    generated: (date: string) => `Informationen är sammanställd ur vår registerförteckning ${date}.`,
    and: 'och',
  },
  en: {
    title: (name: string) => `Privacy notice – ${name}`,
    intro: (name: string) => `This notice describes how ${name} processes your personal data and the rights you have under the General Data Protection Regulation (GDPR), Articles 13 and 14.`,
    controller: TERMS.controller.en,
    name: 'Name', organisationNumber: TERMS.organisationNumber.en, address: TERMS.address.en, email: TERMS.email.en, phone: 'Phone', website: TERMS.website.en,
    jointControllers: TERMS.jointControllers.en,
    jointIntro: 'We are joint controllers with:',
    representative: 'Representative in the EU',
    dpo: TERMS.dataProtectionOfficer.en,
    noDpo: 'No data protection officer is recorded in the register.',
    processing: 'How we process your personal data',
    noActivities: 'No processing of personal data is recorded.',
    together: 'Controllers of this processing',
    purposes: 'Purposes and legal basis',
    legalBasis: 'legal basis',
    noLegalBasis: 'legal basis not stated',
    legitimateInterest: 'Our legitimate interest',
    legitimateInterestMissing: 'Our legitimate interest: not stated',
    withdraw: 'You may withdraw your consent at any time',
    provisionUnknown: 'Whether you must provide the data is not stated',
    ifNotProvided: 'If you do not provide the data',
    subjects: TERMS.dataSubjectCategories.en,
    data: TERMS.dataCategories.en,
    special: (kind: string) => `special-category data: ${kind}`,
    criminal: 'data relating to criminal offences',
    nationalId: 'Why we process personal identity numbers',
    sources: 'Where the data come from',
    recipients: 'Recipients',
    processors: 'Processors acting on our behalf',
    retention: 'Retention',
    noRetention: 'not stated',
    noLimit: 'no fixed time limit',
    appliesTo: 'applies to',
    adm: 'Automated decision-making and profiling',
    transfers: 'Transfers to third countries',
    transfersAndOrganisations: 'Transfers to third countries and international organisations',
    noTransfers: 'The register records no transfer of personal data to countries outside the EU/EEA.',
    transferIntro: 'We transfer personal data to countries outside the EU/EEA (third countries):',
    transferOrganisationIntro: `We transfer personal data to countries outside the EU/EEA (third countries) or to an ${INTERNATIONAL_ORGANISATION.en}:`,
    to: 'to',
    in: 'in',
    mechanism: 'safeguard',
    noMechanism: 'safeguard not stated',
    safeguards: 'Safeguards',
    documentation: 'Where the safeguards are documented',
    askForCopy: 'Contact us for a copy of the safeguards.',
    rights: 'Your rights',
    rightsIntro: 'You have the right to:',
    rightList: [
      'access your personal data, Art. 15',
      'have inaccurate personal data rectified, Art. 16',
      'have your personal data erased, Art. 17',
      'have the processing restricted, Art. 18',
      'object to processing based on legitimate interests, and always to direct marketing, Art. 21',
    ],
    portability: (purposes: string) => `receive the data you have provided in a machine-readable format and have them transmitted (data portability), Art. 20; this applies to processing based on consent or a contract: ${purposes}`,
    consentRight: 'withdraw consent at any time, without affecting the lawfulness of processing before the withdrawal, Art. 7(3)',
    howToWithdraw: 'How to withdraw your consent',
    contactUs: 'Contact us to exercise your rights:',
    complaint: 'Complaints',
    complaintText: 'If you think we process your personal data wrongly, you have the right to lodge a complaint with the Swedish Authority for Privacy Protection (Integritetsskyddsmyndigheten, IMY):',
    generated: (date: string) => `Compiled from our register of processing activities on ${date}.`,
    and: 'and',
  },
}
type Words = typeof WORDS.sv

const lowerFirst = (s: string): string => s.charAt(0).toLocaleLowerCase('sv') + s.slice(1)
const present = (v: unknown): v is string => typeof v === 'string' && v.trim() !== ''
const joinWords = (items: string[], and: string): string =>
  items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} ${and} ${items[items.length - 1]}`

/** "avtal (art. 6.1 b)" / "contract (Art. 6(1)(b))"; national law by its name and statute. */
export function legalBasisWords(basis: Pick<LegalBasisRef, 'code' | 'kind' | 'name' | 'nameSv'> & { articleReference?: string | null }, lang: Lang): string {
  const name = lang === 'sv' ? basis.nameSv ?? basis.name : basis.name
  const gdpr = /^A(\d+)(?:-(\d+))?(?:-([a-z]))?$/.exec(basis.code ?? '')
  if (basis.kind !== 'national-law' && gdpr) {
    const [, art, para, point] = gdpr
    const ref = lang === 'sv'
      ? `art. ${art}${para ? `.${para}` : ''}${point ? ` ${point}` : ''}`
      : `Art. ${art}${para ? `(${para})` : ''}${point ? `(${point})` : ''}`
    return `${lowerFirst(name)} (${ref})`
  }
  return basis.kind === 'national-law' ? `${name} (${basis.articleReference})` : `${lowerFirst(name)} (${basis.articleReference})`
}


/**
 * "36 månader efter senaste besök (Kunddata)", or without a fixed period the criteria that decide it
 * (Art. 13(2)(a)): "ingen fast tidsgräns, kriterier: Inte längre än … – Policyn: …"; with reason and scope.
 */
export function retentionWords(entry: Retention, lang: Lang): string {
  const w = WORDS[lang]
  const rule = entry.retentionRule ?? {}
  let text: string
  if (rule.period) {
    const main = `${durationWords(rule.period, lang)}${present(rule.trigger) ? ` ${rule.trigger}` : ''}`
    text = present(rule.name) && rule.name.trim().toLowerCase() !== main.toLowerCase() ? `${main} (${rule.name})` : main
  } else {
    text = [w.noLimit, retentionCriteria(rule, lang)].filter(Boolean).join(', ')
  }
  const scope = (entry.dataCategories ?? []).map((c) => c.name)
  if (scope.length) text += ` – ${w.appliesTo} ${scope.join(', ')}`
  if (present(rule.legalReference)) text += ` – ${rule.legalReference}`
  return text
}

/** Who to reach and how: an organisation's or a person's contact details, as far as recorded (a summary has none). */
type Reachable = Pick<Contact, 'name'> & Partial<Pick<Contact, 'email' | 'phone' | 'address'>>

function contactLine(c: Reachable | null | undefined, w: Words): string {
  if (!c) return ''
  return [c.name, present(c.email) && `${lowerFirst(w.email)} ${c.email}`, present(c.phone) && `${lowerFirst(w.phone)} ${c.phone}`, c.address]
    .filter(present).join(', ')
}

// --- writing the notice ------------------------------------------------------------------------

export interface NoticeRegister {
  controller: Controller
  activities: ProcessingActivity[]
  /** Full views of the other controllers named on the activities. */
  controllers: Map<string, Controller>
  processors: Map<string, Processor>
}

function controllerSection(reg: NoticeRegister, w: Words): Block[] {
  const c = reg.controller
  const fields: [string, unknown][] = [
    [w.name, c.name], [w.organisationNumber, c.organisationNumber], [w.address, c.address], [w.email, c.email], [w.phone, c.phone], [w.website, c.website],
  ]
  const blocks: Block[] = [
    heading(2, w.controller),
    list(fields.filter(([, v]) => present(v)).map(([label, v]) => labelled(label, v as string))),
  ]
  const joint = new Map<string, Controller | ControllerRef>()
  for (const a of reg.activities) {
    for (const other of [a.controller, ...(a.jointControllers ?? [])]) {
      if (other && other.id !== c.id) joint.set(other.id, reg.controllers.get(other.id) ?? other)
    }
  }
  if (joint.size) {
    blocks.push(heading(3, w.jointControllers), paragraph(w.jointIntro), list([...joint.values()].map((j) => [contactLine(j, w) || j.name])))
  }
  if (c.representative) blocks.push(heading(3, w.representative), paragraph(contactLine(c.representative, w)))
  blocks.push(heading(3, w.dpo), paragraph(c.dataProtectionOfficer ? contactLine(c.dataProtectionOfficer, w) : w.noDpo))
  return blocks
}

function purposeItem(p: ActivityPurpose, lang: Lang, w: Words): Inline[] {
  const bases: LegalBasisRef[] = (p.legalBases ?? []).filter(Boolean)
  const basis = bases.length ? `${w.legalBasis}: ${joinWords(bases.map((b) => legalBasisWords(b, lang)), w.and)}` : w.noLegalBasis
  const parts: Inline[] = [{ strong: p.purpose.name }, ` – ${basis}.`]
  const codes = bases.map((b) => b.code)
  if (codes.includes('A6-1-f')) parts.push(` ${present(p.legitimateInterest) ? `${w.legitimateInterest}: ${p.legitimateInterest}` : w.legitimateInterestMissing}.`)
  if (codes.includes('A6-1-a') || codes.includes('A9-2-a')) parts.push(` ${w.withdraw}${present(p.consentWithdrawal) ? `: ${p.consentWithdrawal}` : ''}.`)
  // Art. 13(2)(e): whether the person must provide the data, and what follows if not
  parts.push(` ${p.provisionRequirement ? provisionWords(p.provisionRequirement, lang) : w.provisionUnknown}.`)
  if (present(p.provisionConsequences)) parts.push(` ${w.ifNotProvided}: ${p.provisionConsequences.trim().replace(/\.$/, '')}.`)
  return parts
}

function dataCategoryWords(d: DataCategoryRef, lang: Lang, w: Words): string {
  if (d.classification === 'special') return `${d.name} (${w.special(specialCategoryWords(d.specialCategory, lang))})`
  if (d.classification === 'criminal') return `${d.name} (${w.criminal})`
  return d.name
}

function activitySection(a: ProcessingActivity, reg: NoticeRegister, lang: Lang, w: Words): Block[] {
  const blocks: Block[] = [heading(3, a.name)]
  const items: Inline[][] = []
  if ((a.jointControllers ?? []).length) {
    items.push(labelled(w.together, joinWords([a.controller, ...a.jointControllers].filter(Boolean).map((c) => c.name), w.and)))
  }
  const named = (label: string, values: string[]): void => {
    if (values.length) items.push(labelled(label, values.join('; ')))
  }
  named(w.subjects, (a.dataSubjectCategories ?? []).filter(Boolean).map((s) => s.name))
  named(w.data, (a.dataCategories ?? []).filter(Boolean).map((d) => dataCategoryWords(d, lang, w)))
  if (present(a.nationalIdJustification)) items.push(labelled(w.nationalId, a.nationalIdJustification))
  named(w.sources, (a.dataSources ?? []).filter(present))
  named(w.recipients, (a.recipients ?? []).filter(Boolean).map((r) => (r.country ? `${r.name} (${countryName(r.country, lang)})` : r.name)))
  named(w.processors, (a.processors ?? []).filter(Boolean).map((p) => {
    const service = reg.processors.get(p.id)?.service
    return present(service) && service !== p.name ? `${p.name} (${service})` : p.name
  }))
  const retention: Retention[] = a.retention ?? []
  items.push(labelled(w.retention, retention.length ? retention.map((r) => retentionWords(r, lang)).join('; ') : w.noRetention))
  if (a.automatedDecisionMaking) items.push(labelled(w.adm, a.automatedDecisionMakingDescription ?? ''))

  const purposes: ActivityPurpose[] = (a.purposes ?? []).filter((p) => p?.purpose)
  if (purposes.length) blocks.push(paragraph({ strong: `${w.purposes}:` }), list(purposes.map((p) => purposeItem(p, lang, w))))
  blocks.push(list(items))
  return blocks
}

function transferSection(reg: NoticeRegister, lang: Lang, w: Words): Block[] {
  const items: Inline[][] = []
  let organisations = false
  for (const a of reg.activities) {
    for (const t of a.transfers ?? []) {
      if (!t.internationalOrganisation && !isThirdCountry(t.country)) continue
      if (t.internationalOrganisation) organisations = true
      const receiver = t.recipient ?? t.processor
      const activity = lang === 'sv' ? `”${a.name}”` : `"${a.name}"`
      const head = `${transferDestination(t, lang)}${receiver ? ` ${w.to} ${receiver.name}` : ''} (${w.in} ${activity})`
      const mechanism = t.mechanism ? `${w.mechanism}: ${lang === 'sv' ? t.mechanism.nameSv : t.mechanism.name}` : w.noMechanism
      const parts: Inline[] = [{ strong: head }, ` – ${mechanism}.`]
      if (present(t.safeguards)) parts.push(` ${w.safeguards}: ${t.safeguards}.`)
      parts.push(` ${present(t.documentation) ? `${w.documentation}: ${t.documentation}.` : w.askForCopy}`)
      items.push(parts)
    }
  }
  if (organisations) return [heading(2, w.transfersAndOrganisations), paragraph(w.transferOrganisationIntro), list(items)]
  return [heading(2, w.transfers), ...(items.length ? [paragraph(w.transferIntro), list(items)] : [paragraph(w.noTransfers)])]
}

function rightsSection(reg: NoticeRegister, w: Words): Block[] {
  const resting = (codes: string[]): ActivityPurpose[] => reg.activities.flatMap((a) => (a.purposes ?? []).filter((p) =>
    (p?.legalBases ?? []).some((l) => l && codes.includes(l.code))))
  const consent = resting(['A6-1-a', 'A9-2-a'])
  // Art. 20(1)(a): portability only where the processing rests on consent or on a contract
  const portable = [...new Set(resting(['A6-1-a', 'A9-2-a', 'A6-1-b']).map((p) => p.purpose.name))]
  const rights = [
    ...w.rightList,
    ...(portable.length ? [w.portability(joinWords(portable, w.and))] : []),
    ...(consent.length ? [w.consentRight] : []),
  ]
  const blocks: Block[] = [heading(2, w.rights), paragraph(w.rightsIntro), list(rights.map((r) => [r]))]
  const how = consent.filter((p) => present(p.consentWithdrawal))
  if (how.length) blocks.push(paragraph({ strong: `${w.howToWithdraw}:` }), list(how.map((p) => [{ strong: p.purpose.name }, `: ${p.consentWithdrawal}`])))
  const c = reg.controller
  const contact: [string, unknown][] = [[w.email, c.email], [w.phone, c.phone], [w.address, c.address]]
  const reachable = contact.filter(([, v]) => present(v))
  if (reachable.length) blocks.push(paragraph(w.contactUs), list(reachable.map(([label, v]) => labelled(label, v as string))))
  blocks.push(heading(2, w.complaint), paragraph(w.complaintText, ' ', { link: IMY_URL }))
  return blocks
}

export function noticeDocument(reg: NoticeRegister, lang: Lang, at: Date, timeZone: string): Block[] {
  const w = WORDS[lang]
  const activities = [...reg.activities].sort(compareNames)
  const sorted = { ...reg, activities }
  return [
    heading(1, w.title(reg.controller.name)),
    paragraph(w.intro(reg.controller.name)),
    ...controllerSection(sorted, w),
    heading(2, w.processing),
    ...(activities.length ? activities.flatMap((a) => activitySection(a, sorted, lang, w)) : [paragraph(w.noActivities)]),
    ...transferSection(sorted, lang, w),
    ...rightsSection(sorted, w),
    paragraph(w.generated(registerDate(at, timeZone))),
  ]
}

// --- rendering -------------------------------------------------------------------------------

/** Register text may hold line breaks; in a notice each value stays on its line. */
const oneLine = (s: string): string => s.replace(/\s+/g, ' ')

/** Register text in Markdown: punctuation that could start markup or HTML is backslash-escaped. */
export function markdownText(s: string): string {
  return oneLine(s)
    .replace(/[\\`*_{}[\]<>#|~&!]/g, (c) => `\\${c}`)
    // a list marker or ordered-list number at the start of a list item
    .replace(/^([-+])/, '\\$1')
    .replace(/^(\d+)([.)])/, '$1\\$2')
}

function markdownInline(parts: Inline[]): string {
  return parts.map((p) => {
    if (typeof p === 'string') return markdownText(p)
    if ('strong' in p) return `**${markdownText(p.strong)}**`
    return `<${p.link}>`
  }).join('')
}

function htmlInline(parts: Inline[]): string {
  return parts.map((p) => {
    if (typeof p === 'string') return htmlText(oneLine(p))
    if ('strong' in p) return `<strong>${htmlText(oneLine(p.strong))}</strong>`
    return `<a href="${htmlText(p.link)}">${htmlText(p.link)}</a>`
  }).join('')
}

export function renderMarkdown(doc: Block[]): string {
  return doc.map((b, i) => {
    if (b.kind === 'heading') return `${'#'.repeat(b.level)} ${markdownText(b.text.trim())}`
    if (b.kind === 'paragraph') return markdownInline(b.parts)
    // A list right after another would join it; another bullet character starts a new one.
    const bullet = doc[i - 1]?.kind === 'list' ? '*' : '-'
    return b.items.map((item) => `${bullet} ${markdownInline(item)}`).join('\n')
  }).join('\n\n') + '\n'
}

/** The HTML notice's one stylesheet: constant, so that the route's CSP allows it by hash (NOTICE_CSP). */
const NOTICE_CSS = 'body{font-family:system-ui,sans-serif;line-height:1.5;max-width:46rem;margin:2rem auto;padding:0 1rem}'

/** Policy of the HTML notice: its stylesheet and nothing else (no style attribute, script or fetch in the page). */
export const NOTICE_CSP = stylesheetOnlyPolicy(NOTICE_CSS)

export function renderHtml(doc: Block[], lang: Lang): string {
  const title = doc.find((b): b is Extract<Block, { kind: 'heading' }> => b.kind === 'heading')?.text ?? ''
  const body = doc.map((b) => {
    if (b.kind === 'heading') return `<h${b.level}>${htmlText(oneLine(b.text))}</h${b.level}>`
    if (b.kind === 'paragraph') return `<p>${htmlInline(b.parts)}</p>`
    return `<ul>\n${b.items.map((item) => `  <li>${htmlInline(item)}</li>`).join('\n')}\n</ul>`
  }).join('\n')
  return [
    ...pageStart(lang, oneLine(title), NOTICE_CSS),
    '<main>',
    body,
    '</main>',
    '</body>',
    '</html>',
    '',
  ].join('\n')
}

// --- reading the register ----------------------------------------------------------------------

/** The controller's part of the register; 404 when the workspace has no such controller. */
export async function loadNoticeRegister(db: Database, ws: string, controllerId: string): Promise<NoticeRegister> {
  const series = await db.snapshot()
  try {
    const controller = await series.read((m) => getView(m, ws, controllers, controllerId)) as Controller | null
    if (!controller) throw new NotFound('controller', controllerId)
    const activities: ProcessingActivity[] = []
    // what is in force: a draft is not yet done, and a retired activity no longer happens
    for await (const page of activityPages(series, ws, { controllerId, role: 'controller', statuses: ['active'] })) activities.push(...page)
    const controllerIds = activities.flatMap((a) => [a.controller?.id, ...(a.jointControllers ?? []).map((c) => c?.id)]).filter((id) => id && id !== controllerId)
    const processorIds = activities.flatMap((a) => (a.processors ?? []).map((p) => p?.id)).filter(Boolean)
    const others = await series.read(async (m) => ({
      controllers: await viewsById<Controller>(m, ws, controllers, controllerIds),
      processors: await viewsById<Processor>(m, ws, processors, processorIds),
    }))
    return { controller, activities, ...others }
  } finally {
    await series.close()
  }
}

export interface PrivacyNotice {
  body: string
  contentType: string
}

export async function privacyNotice(db: Database, ws: string, controllerId: string, lang: Lang, format: NoticeFormat, at: Date, timeZone: string): Promise<PrivacyNotice> {
  const doc = noticeDocument(await loadNoticeRegister(db, ws, controllerId), lang, at, timeZone)
  return format === 'html'
    ? { body: renderHtml(doc, lang), contentType: 'text/html; charset=utf-8' }
    : { body: renderMarkdown(doc), contentType: 'text/markdown; charset=utf-8' }
}
