import { shapeOf, type FieldShape } from '../../dto/shape'
import {
  ACTIVITY_ROLES, ACTIVITY_STATUSES, DATA_CLASSIFICATIONS, DPIA_STATUSES, LEGAL_BASIS_KINDS, PROVISION_REQUIREMENTS,
  SECURITY_MEASURE_CATEGORIES, SECURITY_MEASURE_TYPES, SPECIAL_CATEGORIES, TRANSFER_MECHANISMS, TRANSFER_MECHANISM_CODES,
} from '../records/catalogue'
import {
  controllers, dataCategories, dataSubjectCategories, legalBases, processingActivities, processors, purposes, recipients,
  retentionRules, securityMeasures, type ResourceDef, type Row,
} from '../records/model'
import type { RecordType } from '../../dto/shape'
import { dpiaStatusWords, type Lang, roleWords, specialCategoryWords, statusWords, TERMS } from '../wording/wording'

/**
 * The editable workbook's declaration: its sheets, their columns and how a value of a write body
 * is shown in a cell and read back. Columns come from the request classes (src/dto/register.ts),
 * so a field added there gets a column here; this file adds only what a person reads: the words
 * of each header and enumeration, in Swedish and English.
 */

type Words = { en: string; sv: string }
const w = (en: string, sv: string): Words => ({ en, sv })

export type CellKind = 'text' | 'number' | 'date' | 'flag' | 'enum' | 'ref' | 'refs' | 'strings'

export interface WorkbookColumn {
  /** Path in the write body: `name`, `representative.email`, `dpia.required`. */
  key: string
  header: Words
  kind: CellKind
  /** What a reference names. */
  to?: RecordType
  /** Enumerations: the codes and their labels. */
  values?: readonly string[]
  label?(code: string, lang: Lang): string
}

export interface WorkbookSheet {
  /** A record type (a sheet of records), or an activity's list field (purposes, transfers, retention). */
  key: string
  name: Words
  def: ResourceDef
  /** The activity's list this sheet holds, one row per item. */
  list?: string
  columns: WorkbookColumn[]
}

// --- words -------------------------------------------------------------------------------------

export const ID = 'id'
export const VERSION = 'version'
export const DELETE: Words = w('Delete', 'Ta bort')
export const YES: Words = w('Yes', 'Ja')
export const NO: Words = w('No', 'Nej')
/** The activity a row of a list sheet belongs to. */
export const OWNER: Words = TERMS.processingActivity
export const GUIDE_SHEET: Words = w('How it works', 'Så fungerar det')
export const LISTS_SHEET: Words = w('Lists', 'Listor')

const FIELD: Record<string, Words> = {
  name: w('Name', 'Namn'), description: TERMS.description, organisationNumber: TERMS.organisationNumber, address: TERMS.address,
  email: TERMS.email, phone: TERMS.phone, country: TERMS.country, website: TERMS.website, representative: TERMS.representative,
  dataProtectionOfficer: TERMS.dataProtectionOfficer, contact: w('Contact', 'Kontaktperson'), notes: w('Notes', 'Anteckningar'),
  service: w('Service', 'Tjänst'), dataProcessingAgreement: w('Data processing agreement', 'Biträdesavtal'), signedAt: w('Signed', 'Undertecknat'),
  reference: w('Reference', 'Referens'), url: w('Link', 'Länk'), subProcessorIds: w('Sub-processors', 'Underbiträden'),
  code: w('Code', 'Kod'), kind: w('Kind', 'Slag'), articleReference: w('Article or statute', 'Artikel eller författning'),
  nameSv: w('Name in Swedish', 'Namn på svenska'), vulnerable: w('Vulnerable', 'Sårbara'), classification: w('Classification', 'Klassificering'),
  specialCategory: w('Special category (Art. 9)', 'Särskild kategori (art. 9)'), highlyPersonal: w('Highly personal', 'Mycket personliga'),
  period: w('Period', 'Tidsfrist'), trigger: w('Runs from', 'Räknas från'), legalReference: w('Law or reason', 'Författning eller skäl'),
  type: w('Type', 'Typ'), category: w('Category', 'Kategori'), purposeId: w('Purpose', 'Ändamål'),
  legalBasisIds: w('Legal bases', 'Rättsliga grunder'), legitimateInterest: w('Legitimate interest', 'Berättigat intresse'),
  liaReference: w('LIA reference', 'Referens till intresseavvägning'), consentWithdrawal: w('Consent withdrawal', 'Återkallande av samtycke'),
  provisionRequirement: w('Provision requirement', 'Krav på att lämna uppgifter'),
  provisionConsequences: w('Consequences of not providing', 'Följder av att inte lämna uppgifter'),
  internationalOrganisation: w('International organisation', 'Internationell organisation'), recipientId: w('Recipient', 'Mottagare'),
  processorId: TERMS.processor, mechanism: w('Transfer mechanism', 'Överföringsmekanism'), safeguards: w('Safeguards', 'Skyddsåtgärder'),
  documentation: w('Documentation', 'Dokumentation'), retentionRuleId: w('Retention rule', 'Gallringsregel'),
  dataCategoryIds: TERMS.dataCategories, required: w('Required', 'Krävs'), status: TERMS.status, justification: w('Justification', 'Motivering'),
  dpoAdvice: w('DPO advice', 'Dataskyddsombudets råd'), decidedBy: w('Decided by', 'Beslutat av'), decidedAt: w('Decided', 'Beslutsdatum'),
  evaluationOrScoring: w('Evaluation or scoring', 'Utvärdering eller poängsättning'),
  automatedDecisionWithLegalEffect: w('Automated decision with legal effect', 'Automatiserat beslut med rättslig verkan'),
  systematicMonitoring: w('Systematic monitoring', 'Systematisk övervakning'), publiclyAccessibleArea: w('Publicly accessible area', 'Allmän plats'),
  largeScale: w('Large scale', 'Stor omfattning'), matchingDatasets: w('Matching datasets', 'Samkörning av uppgifter'),
  innovativeTechnology: w('Innovative technology', 'Ny teknik'), preventsRightOrService: w('Prevents a right or service', 'Hindrar rättighet eller tjänst'),
  role: w('Role', 'Roll'), controllerId: TERMS.controller, jointControllerIds: TERMS.jointControllers,
  onBehalfOfControllerIds: w('On behalf of controllers', 'För personuppgiftsansvariga'), dataSubjectCategoryIds: TERMS.dataSubjectCategories,
  nationalIdJustification: w('Personal identity number justification', 'Motivering för personnummer'), recipientIds: TERMS.recipientCategories,
  processorIds: w('Processors', 'Personuppgiftsbiträden'), securityMeasureIds: w('Security measures', 'Säkerhetsåtgärder'),
  dataSources: w('Data sources', 'Källor'), systems: w('Systems', 'System'), riskFactors: w('Risk factors', 'Riskfaktorer'),
  dataSubjectsApprox: w('Approx. number of data subjects', 'Ungefärligt antal registrerade'),
  individualProfessional: w('Individual professional', 'Enskild yrkesutövare'), dpia: w('DPIA', 'Konsekvensbedömning'),
  automatedDecisionMaking: w('Automated decision-making', 'Automatiserat beslutsfattande'),
  automatedDecisionMakingDescription: w('Automated decision-making described', 'Beskrivning av automatiserat beslutsfattande'),
  owner: w('Owner', 'Ansvarig funktion'), lastReviewedAt: w('Last reviewed', 'Senast granskad'), nextReviewAt: w('Next review', 'Nästa granskning'),
}

/** Headers that read otherwise on one sheet (a legal basis's `name` is its English name). */
const FIELD_ON: Record<string, Record<string, Words>> = {
  'legal-basis': { name: w('Name in English', 'Namn på engelska') },
}

const DATES = new Set(['signedAt', 'decidedAt', 'lastReviewedAt', 'nextReviewAt'])
const NUMBERS = new Set(['dataSubjectsApprox'])

const labelled = (table: Record<string, Words>) => (code: string, lang: Lang): string => table[code]?.[lang] ?? code

/** Enumerations by field: their codes and how each reads. */
const ENUMS: Record<string, { values: readonly string[]; label(code: string, lang: Lang): string }> = {
  role: { values: ACTIVITY_ROLES, label: roleWords },
  status: { values: ACTIVITY_STATUSES, label: statusWords },
  'dpia.status': { values: DPIA_STATUSES, label: dpiaStatusWords },
  classification: {
    values: DATA_CLASSIFICATIONS,
    label: labelled({
      ordinary: w('Ordinary', 'Vanliga'), special: w('Special (Art. 9)', 'Känsliga (art. 9)'),
      criminal: w('Criminal offences (Art. 10)', 'Lagöverträdelser (art. 10)'), 'national-id': w('Personal identity number', 'Personnummer'),
    }),
  },
  specialCategory: { values: SPECIAL_CATEGORIES, label: specialCategoryWords },
  kind: {
    values: LEGAL_BASIS_KINDS,
    label: labelled({ 'article-6': w('Art. 6', 'Art. 6'), 'article-9': w('Art. 9', 'Art. 9'), 'article-10': w('Art. 10', 'Art. 10'), 'national-law': w('National law', 'Nationell lag') }),
  },
  type: { values: SECURITY_MEASURE_TYPES, label: labelled({ technical: w('Technical', 'Teknisk'), organisational: w('Organisational', 'Organisatorisk') }) },
  category: {
    values: SECURITY_MEASURE_CATEGORIES,
    label: labelled({
      'access-control': w('Access control', 'Behörighetsstyrning'), logging: w('Logging', 'Loggning'), encryption: w('Encryption', 'Kryptering'),
      pseudonymisation: w('Pseudonymisation', 'Pseudonymisering'), backup: w('Backup', 'Säkerhetskopiering'),
      'software-protection': w('Software protection', 'Skydd av programvara'), 'network-security': w('Network security', 'Nätverkssäkerhet'),
      'physical-security': w('Physical security', 'Fysisk säkerhet'), 'processor-control': w('Processor control', 'Kontroll av biträden'),
      training: w('Training', 'Utbildning'), 'incident-management': w('Incident management', 'Incidenthantering'), policy: w('Policy', 'Styrdokument'),
      other: w('Other', 'Övrigt'),
    }),
  },
  provisionRequirement: {
    values: PROVISION_REQUIREMENTS,
    label: labelled({
      statutory: w('Statutory', 'Lagkrav'), contractual: w('Contractual', 'Avtalskrav'),
      'required-to-enter-contract': w('Required to enter a contract', 'Krävs för att ingå avtal'), voluntary: w('Voluntary', 'Frivilligt'),
    }),
  },
  mechanism: {
    values: TRANSFER_MECHANISM_CODES,
    label: (code, lang) => (TRANSFER_MECHANISMS[code] ? (lang === 'sv' ? TRANSFER_MECHANISMS[code].nameSv : TRANSFER_MECHANISMS[code].name) : code),
  },
}

// --- columns from the declarations -------------------------------------------------------------

function header(f: FieldShape, type: RecordType, parent?: FieldShape): Words {
  const own = (parent ? undefined : FIELD_ON[type]?.[f.name]) ?? FIELD[f.name] ?? w(f.name, f.name)
  if (!parent) return own
  const p = FIELD[parent.name] ?? w(parent.name, parent.name)
  return w(`${p.en}: ${own.en}`, `${p.sv}: ${own.sv}`)
}

function column(f: FieldShape, type: RecordType, parent?: FieldShape): WorkbookColumn {
  const key = parent ? `${parent.name}.${f.name}` : f.name
  const h = header(f, type, parent)
  if (f.kind === 'ref') return { key, header: h, kind: 'ref', to: f.to }
  if (f.kind === 'refs') return { key, header: h, kind: 'refs', to: f.to }
  if (f.kind === 'flag') return { key, header: h, kind: 'flag' }
  if (f.kind === 'strings') return { key, header: h, kind: 'strings' }
  // by the field's path: `status` is an activity's, `dpia.status` its DPIA's progress
  const e = ENUMS[key]
  if (e) return { key, header: h, kind: 'enum', values: e.values, label: e.label }
  if (DATES.has(f.name)) return { key, header: h, kind: 'date' }
  if (NUMBERS.has(f.name)) return { key, header: h, kind: 'number' }
  return { key, header: h, kind: 'text' }
}

/** A record's columns: its fields in declaration order, nested objects flattened, lists of objects left to sheets of their own. */
function recordColumns(def: ResourceDef): WorkbookColumn[] {
  const out: WorkbookColumn[] = []
  for (const f of shapeOf(def.writeClass)) {
    if (f.kind === 'nested' && f.each) continue
    if (f.kind === 'nested') {
      for (const g of shapeOf(f.nested!())) out.push(column(g, def.type, f))
    } else out.push(column(f, def.type))
  }
  return out
}

const SHEET_NAMES: Record<RecordType, Words> = {
  'processing-activity': TERMS.processingActivities,
  controller: TERMS.controllers,
  processor: w('Processors', 'Personuppgiftsbiträden'),
  purpose: w('Purposes', 'Ändamål'),
  'legal-basis': w('Legal bases', 'Rättsliga grunder'),
  'data-subject-category': TERMS.dataSubjectCategories,
  'data-category': TERMS.dataCategories,
  recipient: w('Recipients', 'Mottagare'),
  'retention-rule': w('Retention rules', 'Gallringsregler'),
  'security-measure': w('Security measures', 'Säkerhetsåtgärder'),
}

const LIST_SHEET_NAMES: Record<string, Words> = {
  purposes: w('Activity purposes', 'Behandlingarnas ändamål'),
  transfers: w('Activity transfers', 'Behandlingarnas överföringar'),
  retention: w('Activity retention', 'Behandlingarnas gallring'),
}

/** The sheets of records in the order they are written: what others refer to before what refers to it. */
export const RECORD_ORDER: ResourceDef[] = [
  controllers, processors, purposes, legalBases, dataSubjectCategories, dataCategories, recipients, retentionRules, securityMeasures,
  processingActivities,
]

let sheets: WorkbookSheet[] | undefined

/** The workbook's sheets of data, in the order a person reads them: activities and their lists first. */
export function workbookSheets(): WorkbookSheet[] {
  if (sheets) return sheets
  const records = new Map(RECORD_ORDER.map((def) => [def.type, { key: def.type, name: SHEET_NAMES[def.type], def, columns: recordColumns(def) } as WorkbookSheet]))
  const lists: WorkbookSheet[] = shapeOf(processingActivities.writeClass).filter((f) => f.kind === 'nested' && f.each).map((f) => ({
    key: f.name,
    name: LIST_SHEET_NAMES[f.name] ?? w(f.name, f.name),
    def: processingActivities,
    list: f.name,
    columns: shapeOf(f.nested!()).map((g) => column(g, 'processing-activity')),
  }))
  sheets = [records.get('processing-activity')!, ...lists, ...RECORD_ORDER.filter((d) => d !== processingActivities).map((d) => records.get(d.type)!)]
  return sheets
}

// --- a value as a cell's text, and back --------------------------------------------------------

/** A value at a dotted path of a write body. */
export function valueAt(body: Row, key: string): unknown {
  const dot = key.indexOf('.')
  return dot < 0 ? body[key] : (body[key.slice(0, dot)] as Row | null | undefined)?.[key.slice(dot + 1)]
}

/** Sets a value at a dotted path (a nested object is made when absent). */
export function setAt(body: Row, key: string, value: unknown): void {
  const [a, b] = key.split('.')
  if (b === undefined) {
    body[a] = value
    return
  }
  const nested: Row = { ...(body[a] as Row | null | undefined ?? {}) }
  nested[b] = value
  body[a] = nested
}

/** Names of records by id, per kind (legal bases by code): how references read in a cell. */
export type NamesById = Map<RecordType, Map<string, string>>

/** The text a person sees for a value (dates as yyyy-mm-dd; the cell itself holds a date). */
export function shownText(c: WorkbookColumn, value: unknown, lang: Lang, names: NamesById): string {
  if (value === null || value === undefined) return ''
  switch (c.kind) {
    case 'flag': return value ? YES[lang] : NO[lang]
    case 'enum': return c.label!(String(value), lang)
    case 'ref': return names.get(c.to!)?.get(String(value)) ?? String(value)
    case 'refs': return (value as string[]).map((id) => names.get(c.to!)?.get(id) ?? id).join('; ')
    case 'strings': return normalText((value as string[]).map(normalText).join('; '))
    default: return normalText(String(value))
  }
}

/** Text as compared: line ends of any system as \n, spaces at the ends dropped (spreadsheets trim or keep them). */
export const normalText = (s: string): string => s.replace(/\r\n?/g, '\n').trim()

/** A list of names or values in one cell: `a; b`, blanks left out. */
export const splitList = (s: string): string[] => s.split(';').map((x) => x.trim()).filter(Boolean)

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/

/** A spreadsheet's serial day number (1900 date system, as Excel and LibreOffice write it) → yyyy-mm-dd. */
export function serialDate(serial: number): string {
  return new Date(Math.round((serial - 25569) * 86400000)).toISOString().slice(0, 10)
}

/** A date written as the workbook writes it: a Date at midnight UTC. */
export function dateCell(iso: string): Date | string {
  const m = ISO_DATE.exec(iso)
  return m ? new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))) : iso
}

export { ISO_DATE }
