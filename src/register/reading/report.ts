import { compareNames, compareText } from '../wording/collation'
import { Database } from '../../db/database'
import { htmlText, pageStart, stylesheetOnlyPolicy } from '../review/page'
import { DataFlow, dataFlowSvg, FlowBuilder, MAX_SVG_NODES } from './data-flow'
import { catalogueLabel, CellContext, CONTROLLER_COLUMNS, person } from '../exchange/export-columns'
import { countryName, Lang, severityWords, TERMS, transferDestination } from '../wording/wording'
import { registerDate } from '../wording/dates'
import { Finding, FindingCollector } from '../review/findings'
import { controllers, processors } from '../records/model'
import { legalBasisWords, retentionWords } from '../review/privacy-notice'
import { activityPages, viewsById } from '../records/walk'

import type { Controller, ProcessingActivity, Processor } from '../../generated/view-types'

/**
 * The register as a printable report (HTML for A4): a cover with the controllers and their
 * contacts, representative and DPO; a table of contents; the data-flow picture; one section per
 * processing activity with every Art. 30(1)(a)–(g) item in words (a processor's record: the
 * Art. 30(2)(a)–(d) items); the open findings. Every date is a calendar date in the register's
 * time zone, as the findings and the exports have it.
 *
 * Self-contained: no script, no external fetch, no style attribute (the picture uses SVG
 * presentation attributes). Its one stylesheet is constant, so the route's Content-Security-Policy
 * allows exactly that stylesheet by its hash (REPORT_CSP) and nothing else.
 */

export interface ReportQuery {
  lang: Lang
  controllerId?: string
}

const CSS = [
  '@page{size:A4;margin:18mm 16mm 20mm;@bottom-center{content:counter(page) " / " counter(pages);font:9pt sans-serif;color:#555}}',
  'html{font:10.5pt/1.45 "DejaVu Sans",Helvetica,Arial,sans-serif;color:#111}',
  'body{margin:0 auto;max-width:190mm;padding:0 4mm}',
  'h1{font-size:20pt;margin:30mm 0 4mm}h2{font-size:14pt;margin:0 0 3mm;border-bottom:1px solid #999}h3{font-size:11pt;margin:4mm 0 1mm}',
  '.cover .generated{color:#444;margin-bottom:10mm}',
  '.controller{margin:0 0 6mm;break-inside:avoid}',
  '.toc,.flow,.activity,.findings{break-before:page}',
  'table{border-collapse:collapse;width:100%}th,td{text-align:left;vertical-align:top;padding:1.5mm 2mm;border-bottom:1px solid #ddd}',
  '.items th{width:34%;font-weight:600}.items .art{display:block;font-weight:400;color:#555;font-size:8.5pt}',
  'ul{margin:0;padding-left:5mm}li{margin:0 0 1mm}',
  '.missing{color:#b3261e;font-weight:600}.none{color:#555;font-style:italic}',
  '.flow svg{width:100%;height:auto;max-height:235mm}',
  'tr,li{break-inside:avoid}thead{display:table-header-group}',
  'a{color:inherit}',
].join('\n')

/** The route's policy: only the stylesheet above (by its hash); nothing to load, no script, no frames. */
export const REPORT_CSP = stylesheetOnlyPolicy(CSS)

const WORDS = {
  en: {
    title: 'Register of processing activities', subtitle: 'Article 30 of the General Data Protection Regulation (EU) 2016/679',
    generated: 'Generated', contents: 'Contents', flow: TERMS.dataFlow.en, findings: TERMS.openFindings.en, activities: TERMS.processingActivities.en,
    organisationNumber: TERMS.organisationNumber.en, address: TERMS.address.en, email: TERMS.email.en, phone: TERMS.phone.en, website: TERMS.website.en, country: TERMS.country.en,
    representative: 'Representative (Art. 27)', dpo: 'Data protection officer (Art. 37–39)', notRecorded: 'not recorded', none: 'none recorded',
    controller: TERMS.controller.en, jointControllers: TERMS.jointControllers.en, onBehalfOf: 'Controllers on whose behalf the processing is carried out',
    processorRecord: 'Processing as a processor (Art. 30(2))', description: TERMS.description.en, purposes: 'Purposes and legal bases',
    processor: TERMS.processor.en, categoriesOfProcessing: 'Categories of processing carried out for each controller', alsoRecorded: 'Also recorded',
    noLegalBasis: 'no legal basis recorded', legitimateInterest: 'legitimate interest', lia: 'balancing test (LIA)',
    subjects: TERMS.dataSubjectCategories.en, data: TERMS.dataCategories.en, recipients: TERMS.recipientCategories.en, processors: TERMS.processorsAndAgreements.en,
    transfers: TERMS.transfers.en, noTransfers: 'no transfers to third countries recorded',
    noMechanism: TERMS.noMechanism.en, safeguards: 'safeguards', documentation: 'documentation',
    retention: TERMS.retention.en, noRetention: 'no time limit recorded', security: TERMS.securityMeasures.en,
    status: TERMS.status.en, other: 'Also recorded', severity: TERMS.severity.en, article: TERMS.article.en, record: TERMS.record.en, finding: TERMS.finding.en, noFindings: 'No open findings.',
    noActivities: TERMS.noActivitiesSelected.en, flowTooLarge: `The flow has more nodes than a page can show (${MAX_SVG_NODES}); print the report per controller.`,
  },
  sv: {
    title: 'Registerförteckning', subtitle: 'Artikel 30 i dataskyddsförordningen (EU) 2016/679',
    generated: 'Skapad', contents: 'Innehåll', flow: TERMS.dataFlow.sv, findings: TERMS.openFindings.sv, activities: TERMS.processingActivities.sv,
    organisationNumber: TERMS.organisationNumber.sv, address: TERMS.address.sv, email: TERMS.email.sv, phone: TERMS.phone.sv, website: TERMS.website.sv, country: TERMS.country.sv,
    representative: 'Företrädare (art. 27)', dpo: 'Dataskyddsombud (art. 37–39)', notRecorded: 'ej angivet', none: 'inga angivna',
    controller: TERMS.controller.sv, jointControllers: TERMS.jointControllers.sv, onBehalfOf: 'Personuppgiftsansvariga för vars räkning behandlingen utförs',
    processorRecord: 'Behandling som personuppgiftsbiträde (art. 30.2)', description: TERMS.description.sv, purposes: 'Ändamål och rättslig grund',
    processor: TERMS.processor.sv, categoriesOfProcessing: 'Kategorier av behandling som utförs för varje personuppgiftsansvarig', alsoRecorded: 'Även angivet',
    noLegalBasis: 'ingen rättslig grund angiven', legitimateInterest: 'berättigat intresse', lia: 'intresseavvägning',
    subjects: TERMS.dataSubjectCategories.sv, data: TERMS.dataCategories.sv, recipients: TERMS.recipientCategories.sv, processors: TERMS.processorsAndAgreements.sv,
    transfers: TERMS.transfers.sv, noTransfers: 'inga överföringar till tredjeland angivna',
    noMechanism: TERMS.noMechanism.sv, safeguards: 'skyddsåtgärder', documentation: 'dokumentation',
    retention: TERMS.retention.sv, noRetention: 'ingen tidsfrist angiven', security: TERMS.securityMeasures.sv,
    status: TERMS.status.sv, other: 'Även angivet', severity: TERMS.severity.sv, article: TERMS.article.sv, record: TERMS.record.sv, finding: TERMS.finding.sv, noFindings: 'Inga öppna avvikelser.',
    noActivities: TERMS.noActivitiesSelected.sv, flowTooLarge: `Flödet har fler noder än en sida kan visa (${MAX_SVG_NODES}); skriv ut rapporten per personuppgiftsansvarig.`,
  },
}
type Words = typeof WORDS.en

const h = htmlText
const column = (en: string) => CONTROLLER_COLUMNS.find((c) => c.en === en)!
const OTHER_COLUMNS = ['Sources of the data', 'Systems', 'Data protection impact assessment', 'DPIA screening', 'Automated decision-making and profiling', 'Owner', 'Last reviewed', 'Next review', 'Last changed'].map(column)

const none = (w: Words, text = w.none): string => `<span class="none">${h(text)}</span>`
const list = (items: string[], w: Words, empty = w.none): string => (items.length ? `<ul>${items.map((i) => `<li>${i}</li>`).join('')}</ul>` : none(w, empty))

function item(label: string, article: string | null, body: string): string {
  return `<tr><th scope="row">${h(label)}${article ? `<span class="art">${h(article)}</span>` : ''}</th><td>${body}</td></tr>`
}

function controllerBlock(c: Controller, w: Words, lang: Lang): string {
  const rows: [string, string | null | undefined][] = [
    [w.organisationNumber, c.organisationNumber], [w.address, c.address], [w.email, c.email], [w.phone, c.phone], [w.website, c.website],
    [w.country, c.country ? countryName(c.country, lang) : null],
  ]
  return [
    `<div class="controller"><h3>${h(c.name)}</h3><table class="items">`,
    ...rows.filter(([, v]) => v).map(([k, v]) => item(k, null, h(v!))),
    item(w.representative, null, c.representative ? h(person(c.representative)) : none(w, w.notRecorded)),
    item(w.dpo, null, c.dataProtectionOfficer ? h(person(c.dataProtectionOfficer)) : none(w, w.notRecorded)),
    '</table></div>',
  ].join('\n')
}

const article = (lang: Lang, point: string): string => (lang === 'sv' ? `art. 30.1 ${point}` : `Art. 30(1)(${point})`)
const processorArticle = (lang: Lang, point: string): string => (lang === 'sv' ? `art. 30.2 ${point}` : `Art. 30(2)(${point})`)

/** An organisation in an Art. 30(2)(a) item: name, contact details, representative and DPO, as far as recorded. */
function organisationItem(c: Controller | { name: string }, w: Words): string {
  if (!('id' in c) || !('address' in c)) return h(c.name)
  const contact = [c.organisationNumber, c.address, c.email, c.phone, c.website].filter(Boolean).join(', ')
  return [
    `<strong>${h(c.name)}</strong>${contact ? `: ${h(contact)}` : ''}`,
    `${h(w.representative)}: ${c.representative ? h(person(c.representative)) : none(w, w.notRecorded)}`,
    `${h(w.dpo)}: ${c.dataProtectionOfficer ? h(person(c.dataProtectionOfficer)) : none(w, w.notRecorded)}`,
  ].join('<br>')
}

/**
 * A processor's record (Art. 30(2)): (a) the processor and each controller it acts for, with contact
 * details, representative and DPO; (b) the categories of processing carried out for each controller
 * (its purposes, whose legal basis is the controller's to record, so none is asked for here); (c) the
 * transfers; (d) the security measures. What else the record holds follows without an article.
 */
function processorRows(a: ProcessingActivity, ctx: CellContext, w: Words, lang: Lang, transfers: string[]): string[] {
  const names = (xs: { name: string }[]) => xs.map((x) => h(x.name))
  const self = ctx.controller(a.controller?.id) ?? a.controller
  const purposes = a.purposes.map((p) => {
    const bases = p.legalBases.map((b) => h(legalBasisWords(b, lang)))
    return `${h(p.purpose.name)}${bases.length ? `: ${bases.join(', ')}` : ''}`
  })
  const categories = [a.description ? `<p>${h(a.description)}</p>` : '', purposes.length ? list(purposes, w) : ''].join('') || none(w)
  const clients = a.onBehalfOfControllers.map((c) => organisationItem(ctx.controller(c.id) ?? c, w))
  return [
    item(w.processor, processorArticle(lang, 'a'), self ? organisationItem(self, w) : none(w, w.notRecorded)),
    item(w.onBehalfOf, processorArticle(lang, 'a'), list(clients, w)),
    item(w.categoriesOfProcessing, processorArticle(lang, 'b'), categories),
    item(w.transfers, `${processorArticle(lang, 'c')}; ${lang === 'sv' ? 'art. 44–49' : 'Art. 44–49'}`, list(transfers, w, w.noTransfers)),
    item(w.security, `${processorArticle(lang, 'd')}; ${lang === 'sv' ? 'art. 32' : 'Art. 32'}`, list(names(a.securityMeasures), w)),
    item(w.processors, lang === 'sv' ? 'art. 28.2, 28.4' : 'Art. 28(2), (4)', h(column('Processors and data processing agreements').cell(ctx)) || none(w)),
    ...([
      [w.subjects, names(a.dataSubjectCategories)],
      [w.data, a.dataCategories.map((d) => h(d.name))],
      [w.recipients, a.recipients.map((r) => h(r.country ? `${r.name} (${countryName(r.country, lang)})` : r.name))],
      [w.retention, a.retention.map((r) => h(retentionWords(r, lang)))],
    ] as [string, string[]][]).filter(([, values]) => values.length).map(([label, values]) => item(label, null, list(values, w))),
  ]
}

function activitySection(a: ProcessingActivity, ctx: CellContext, w: Words, lang: Lang): string {
  const names = (xs: { name: string }[]) => xs.map((x) => h(x.name))
  const purposes = a.purposes.map((p) => {
    const bases = p.legalBases.map((b) => h(legalBasisWords(b, lang)))
    const parts = [
      `<strong>${h(p.purpose.name)}</strong>: ${bases.length ? bases.join(', ') : `<span class="missing">${h(w.noLegalBasis)}</span>`}`,
      p.legitimateInterest ? `${h(w.legitimateInterest)}: ${h(p.legitimateInterest)}` : null,
      p.liaReference ? `${h(w.lia)}: ${h(p.liaReference)}` : null,
    ]
    return parts.filter(Boolean).join('; ')
  })
  const special = column('Special categories and criminal-offence data').cell(ctx)
  const data = a.dataCategories.map((d) => h(d.name))
  const transfers = a.transfers.map((t) => {
    const to = t.recipient?.name ?? t.processor?.name
    const mechanism = t.mechanism ? h(catalogueLabel(t.mechanism, lang)) : `<span class="missing">${h(w.noMechanism)}</span>`
    return [
      `<strong>${h(transferDestination(t, lang))}</strong>${to ? `: ${h(to)}` : ''}`, mechanism,
      t.safeguards ? `${h(w.safeguards)}: ${h(t.safeguards)}` : null, t.documentation ? `${h(w.documentation)}: ${h(t.documentation)}` : null,
    ].filter(Boolean).join(' — ')
  })
  const retention = a.retention.map((r) => h(retentionWords(r, lang)))
  const controller = ctx.controller(a.controller.id) ?? a.controller
  const rows = a.role === 'processor' ? processorRows(a, ctx, w, lang, transfers) : [
    item(w.controller, article(lang, 'a'), h(controller?.name ?? '')),
    item(w.jointControllers, article(lang, 'a'), list(names(a.jointControllers), w)),
    a.description ? item(w.description, null, h(a.description)) : '',
    item(w.purposes, `${article(lang, 'b')}; ${lang === 'sv' ? 'art. 6, 9, 10' : 'Art. 6, 9, 10'}`, list(purposes, w)),
    item(w.subjects, article(lang, 'c'), list(names(a.dataSubjectCategories), w)),
    item(w.data, article(lang, 'c'), list(data, w) + (special ? `<p>${h(special)}</p>` : '')),
    item(w.recipients, article(lang, 'd'), list(a.recipients.map((r) => h(r.country ? `${r.name} (${countryName(r.country, lang)})` : r.name)), w)),
    item(w.processors, lang === 'sv' ? 'art. 28' : 'Art. 28', h(column('Processors and data processing agreements').cell(ctx)) || none(w)),
    item(w.transfers, `${article(lang, 'e')}; ${lang === 'sv' ? 'art. 44–49' : 'Art. 44–49'}`, list(transfers, w, w.noTransfers)),
    item(w.retention, article(lang, 'f'), list(retention, w, w.noRetention)),
    item(w.security, `${article(lang, 'g')}; ${lang === 'sv' ? 'art. 32' : 'Art. 32'}`, list(names(a.securityMeasures), w)),
  ]
  rows.push(
    item(w.status, null, h(column('Status').cell(ctx))),
    ...OTHER_COLUMNS.map((c) => {
      const value = c.cell(ctx)
      return value ? item(c[lang], null, h(value)) : ''
    }),
  )
  return [`<section class="activity" id="activity-${h(a.id)}">`, `<h2>${h(a.name)}</h2>`, '<table class="items">', ...rows.filter(Boolean), '</table>', '</section>'].join('\n')
}

function findingsSection(findings: Finding[], w: Words, lang: Lang): string {
  const body = findings.length
    ? ['<table><thead><tr>', `<th>${h(w.severity)}</th><th>${h(w.article)}</th><th>${h(w.record)}</th><th>${h(w.finding)}</th>`, '</tr></thead><tbody>',
      ...findings.map((f) => `<tr><td>${h(severityWords(f.severity, lang))}</td><td>${h(f.article)}</td><td>${h(f.record.name)}</td><td>${h(f.message[lang])}</td></tr>`),
      '</tbody></table>'].join('\n')
    : `<p>${h(w.noFindings)}</p>`
  return `<section class="findings" id="findings"><h2>${h(w.findings)} (${findings.length})</h2>\n${body}\n</section>`
}

interface ReportRegister {
  activities: ProcessingActivity[]
  controllers: Map<string, Controller>
  processors: Map<string, Processor>
  flow: DataFlow
  findings: Finding[]
}

/** One walk of the activities in scope (not retired; a controller's kept or joint ones), with what the report shows of them. */
async function loadReport(db: Database, ws: string, q: ReportQuery, at: Date, timeZone: string): Promise<ReportRegister> {
  const flow = new FlowBuilder(q.lang)
  // "today" for the findings (a review overdue) is the register's, as GET /register/findings has it
  const collector = new FindingCollector({ today: registerDate(at, timeZone) })
  const activities: ProcessingActivity[] = []
  const series = await db.snapshot()
  try {
    for await (const page of activityPages(series, ws, { controllerId: q.controllerId, statuses: ['draft', 'active'] })) {
      activities.push(...page)
      flow.addActivities(page)
      collector.addActivities(page)
    }
    const controllerIds = new Set([...(q.controllerId ? [q.controllerId] : []), ...collector.sharedIds().controllers,
      ...activities.flatMap((a) => a.onBehalfOfControllers.map((c) => c.id))])
    const full = await series.read(async (m) => ({
      controllers: await viewsById<Controller>(m, ws, controllers, controllerIds),
      processors: await viewsById<Processor>(m, ws, processors, collector.sharedIds().processors),
    }))
    return { activities, ...full, flow: flow.finish(), findings: collector.finish(full) }
  } finally {
    await series.close()
  }
}

/** The history's head when the report was made, and the latest signed checkpoint (GET /api/v1/history/checkpoints). */
export interface ReportProof {
  entries: number
  head: string | null
  checkpoint: { seq: number; head: string; at: string; kid: string } | null
}

/** One line on the cover naming the history's head and its signed checkpoint, so a printed report can be matched to the chain. */
function proofLine(p: ReportProof, lang: 'en' | 'sv'): string {
  const sv = lang === 'sv'
  const head = p.head ? `${sv ? 'Ändringshistorikens senaste hash' : 'Change history head'} (${sv ? 'post' : 'entry'} ${p.entries}): ${p.head}` : (sv ? 'Ingen ändringshistorik' : 'No change history')
  if (!p.checkpoint) return head
  const c = p.checkpoint
  const signed = c.seq === p.entries && c.head === p.head
    ? (sv ? `signerad kontrollpunkt ${c.at}, nyckel ${c.kid}` : `signed checkpoint ${c.at}, key ${c.kid}`)
    : (sv ? `senaste signerade kontrollpunkt: post ${c.seq}, ${c.head}, ${c.at}, nyckel ${c.kid}` : `latest signed checkpoint: entry ${c.seq}, ${c.head}, ${c.at}, key ${c.kid}`)
  return `${head}; ${signed}`
}

/** The report as one HTML document; `signal`: the client has gone away (its picture is no longer drawn). */
export async function registerReport(db: Database, ws: string, q: ReportQuery, at: Date, timeZone: string, signal?: AbortSignal, proof?: ReportProof): Promise<string> {
  const { lang } = q
  const w = WORDS[lang]
  const reg = await loadReport(db, ws, q, at, timeZone)
  // the register's collation (src/register/wording/collation.ts), as lists, exports and the notice
  const activities = reg.activities.sort((a, b) => compareText(a.controller?.name, b.controller?.name) || compareNames(a, b))
  // the cover: the controller asked for first, then every controller and joint controller the activities name
  const cover = [...reg.controllers.values()].sort((a, b) => (a.id === q.controllerId ? -1 : b.id === q.controllerId ? 1 : compareNames(a, b)))
  const ctx = (activity: ProcessingActivity): CellContext => ({
    lang, timeZone, activity, controller: (id) => (id ? reg.controllers.get(id) ?? null : null), processor: (id) => reg.processors.get(id) ?? null,
  })
  const picture = reg.flow.nodes.length > MAX_SVG_NODES ? `<p>${h(w.flowTooLarge)}</p>` : await dataFlowSvg(reg.flow, lang, { workspace: ws, signal })
  const title = q.controllerId && cover[0] ? `${w.title}: ${cover[0].name}` : w.title
  return [
    ...pageStart(lang, title, CSS),
    '<header class="cover">',
    `<h1>${h(title)}</h1>`,
    `<p>${h(w.subtitle)}</p>`,
    `<p class="generated">${h(w.generated)}: ${h(registerDate(at, timeZone))}</p>`,
    ...(proof ? [`<p class="generated">${h(proofLine(proof, lang))}</p>`] : []),
    ...cover.map((c) => controllerBlock(c, w, lang)),
    '</header>',
    `<nav class="toc"><h2>${h(w.contents)}</h2><ol>`,
    `<li><a href="#flow">${h(w.flow)}</a></li>`,
    `<li>${h(w.activities)} (${activities.length})<ol>`,
    ...activities.map((a) => `<li><a href="#activity-${h(a.id)}">${h(a.name)}</a> — ${h(a.controller?.name ?? '')}</li>`),
    '</ol></li>',
    `<li><a href="#findings">${h(w.findings)} (${reg.findings.length})</a></li>`,
    '</ol></nav>',
    `<section class="flow" id="flow"><h2>${h(w.flow)}</h2>`,
    picture,
    '</section>',
    ...(activities.length ? activities.map((a) => activitySection(a, ctx(a), w, lang)) : [`<p>${h(w.noActivities)}</p>`]),
    findingsSection(reg.findings, w, lang),
    '</body>',
    '</html>',
    '',
  ].join('\n')
}
