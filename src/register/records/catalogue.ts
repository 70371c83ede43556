import { v5 as uuidv5 } from 'uuid'

/**
 * The catalogues the product ships with (domain.md, "Catalogues" and "Stable codes"). Legal bases
 * are copied into each workspace on its first use, so a workspace can add its own and edit the
 * description of a built-in one without affecting anyone else; the codes, names and ids stay fixed.
 */
export type LegalBasisKind = 'article-6' | 'article-9' | 'article-10' | 'national-law'
export const LEGAL_BASIS_KINDS: LegalBasisKind[] = ['article-6', 'article-9', 'article-10', 'national-law']

export interface BuiltInLegalBasis {
  code: string
  kind: LegalBasisKind
  articleReference: string
  name: string
  nameSv: string
  description: string
  url: string | null
}

const DPV = 'https://w3id.org/dpv/legal/eu/gdpr#'
const gdpr = (code: string, kind: LegalBasisKind, articleReference: string, name: string, nameSv: string, description: string): BuiltInLegalBasis =>
  ({ code, kind, articleReference, name, nameSv, description, url: code === 'A10' ? null : DPV + code })
const national = (code: string, articleReference: string, name: string, nameSv: string, description: string, url: string): BuiltInLegalBasis =>
  ({ code, kind: 'national-law', articleReference, name, nameSv, description, url })

export const BUILT_IN_LEGAL_BASES: BuiltInLegalBasis[] = [
  gdpr('A6-1-a', 'article-6', 'GDPR Art. 6(1)(a)', 'Consent', 'Samtycke', 'The data subject has given consent to the processing for one or more specific purposes.'),
  gdpr('A6-1-b', 'article-6', 'GDPR Art. 6(1)(b)', 'Contract', 'Avtal', 'Necessary for the performance of a contract with the data subject, or to take steps at their request before entering into one.'),
  gdpr('A6-1-c', 'article-6', 'GDPR Art. 6(1)(c)', 'Legal obligation', 'Rättslig förpliktelse', 'Necessary for compliance with a legal obligation to which the controller is subject.'),
  gdpr('A6-1-d', 'article-6', 'GDPR Art. 6(1)(d)', 'Vital interests', 'Grundläggande intressen', 'Necessary to protect the vital interests of the data subject or of another natural person.'),
  gdpr('A6-1-e', 'article-6', 'GDPR Art. 6(1)(e)', 'Public task or official authority', 'Allmänt intresse eller myndighetsutövning', 'Necessary for a task carried out in the public interest or in the exercise of official authority vested in the controller.'),
  gdpr('A6-1-f', 'article-6', 'GDPR Art. 6(1)(f)', 'Legitimate interests', 'Berättigat intresse', 'Necessary for the legitimate interests of the controller or a third party, unless overridden by the interests or rights of the data subject; document the balancing test (LIA).'),
  gdpr('A9-2-a', 'article-9', 'GDPR Art. 9(2)(a)', 'Explicit consent', 'Uttryckligt samtycke', 'The data subject has given explicit consent for one or more specified purposes.'),
  gdpr('A9-2-b', 'article-9', 'GDPR Art. 9(2)(b)', 'Employment, social security and social protection law', 'Arbetsrätt, social trygghet och socialt skydd', 'Necessary for obligations and rights in employment, social security and social protection law.'),
  gdpr('A9-2-c', 'article-9', 'GDPR Art. 9(2)(c)', 'Vital interests where consent is impossible', 'Grundläggande intressen när samtycke inte kan ges', 'Necessary to protect vital interests where the data subject is physically or legally incapable of giving consent.'),
  gdpr('A9-2-d', 'article-9', 'GDPR Art. 9(2)(d)', 'Not-for-profit bodies and their members', 'Ideella organisationer och deras medlemmar', 'Legitimate activities of a foundation, association or other not-for-profit body, relating to its members or regular contacts.'),
  gdpr('A9-2-e', 'article-9', 'GDPR Art. 9(2)(e)', 'Made manifestly public by the data subject', 'Offentliggjorda av den registrerade', 'The personal data have manifestly been made public by the data subject.'),
  gdpr('A9-2-f', 'article-9', 'GDPR Art. 9(2)(f)', 'Legal claims or courts acting in their judicial capacity', 'Rättsliga anspråk eller domstolar', 'Necessary for the establishment, exercise or defence of legal claims, or whenever courts act in their judicial capacity.'),
  gdpr('A9-2-g', 'article-9', 'GDPR Art. 9(2)(g)', 'Substantial public interest', 'Viktigt allmänintresse', 'Necessary for reasons of substantial public interest on the basis of Union or Member State law.'),
  gdpr('A9-2-h', 'article-9', 'GDPR Art. 9(2)(h)', 'Preventive or occupational medicine, diagnosis, health or social care', 'Förebyggande hälso- och sjukvård, diagnos, vård och behandling', 'Necessary for preventive or occupational medicine, medical diagnosis, health or social care or treatment, under the secrecy of Art. 9(3).'),
  gdpr('A9-2-i', 'article-9', 'GDPR Art. 9(2)(i)', 'Public health', 'Folkhälsa', 'Necessary for reasons of public interest in the area of public health.'),
  gdpr('A9-2-j', 'article-9', 'GDPR Art. 9(2)(j)', 'Archiving, scientific or historical research, statistics', 'Arkivändamål, forskning och statistik', 'Necessary for archiving in the public interest, scientific or historical research or statistical purposes, under Art. 89(1).'),
  gdpr('A10', 'article-10', 'GDPR Art. 10', 'Criminal convictions and offences under official authority or law', 'Lagöverträdelser under myndighets kontroll eller enligt lag', 'Personal data relating to criminal convictions and offences, processed only under the control of official authority or when authorised by Union or Member State law.'),
  national('SE-BFL-7-2', 'Bokföringslagen (1999:1078) 7 kap. 2 §', 'Swedish Accounting Act: retention of accounting records', 'Bokföringslagen: arkivering av räkenskapsinformation', 'Accounting records are kept for seven years after the end of the calendar year in which the financial year ended.', 'https://www.riksdagen.se/sv/dokument-och-lagar/dokument/svensk-forfattningssamling/bokforingslag-19991078_sfs-1999-1078/'),
  national('SE-DSL-3-10', 'Lag (2018:218) med kompletterande bestämmelser till EU:s dataskyddsförordning, 3 kap. 10 §', 'Swedish Data Protection Act: personal identity numbers', 'Dataskyddslagen: personnummer och samordningsnummer', 'A personal identity number may be processed without consent only when clearly justified by the purpose, the importance of secure identification or another considerable reason.', 'https://www.riksdagen.se/sv/dokument-och-lagar/dokument/svensk-forfattningssamling/lag-2018218-med-kompletterande-bestammelser_sfs-2018-218/'),
  national('SE-PDL', 'Patientdatalagen (2008:355)', 'Swedish Patient Data Act', 'Patientdatalagen', 'Processing of personal data in health care, including patient records.', 'https://www.riksdagen.se/sv/dokument-och-lagar/dokument/svensk-forfattningssamling/patientdatalag-2008355_sfs-2008-355/'),
  national('SE-PDL-3-17', 'Patientdatalagen (2008:355) 3 kap. 17 §', 'Swedish Patient Data Act: retention of patient records', 'Patientdatalagen: bevarande av patientjournal', 'A patient record is kept at least ten years after the last entry.', 'https://www.riksdagen.se/sv/dokument-och-lagar/dokument/svensk-forfattningssamling/patientdatalag-2008355_sfs-2008-355/'),
  national('SE-PTL-5-3', 'Lag (2017:630) om åtgärder mot penningtvätt och finansiering av terrorism, 5 kap. 3 §', 'Swedish Anti-Money Laundering Act: retention of due diligence records', 'Penningtvättslagen: bevarande av handlingar', 'Customer due diligence documents and information are kept for five years.', 'https://www.riksdagen.se/sv/dokument-och-lagar/dokument/svensk-forfattningssamling/lag-2017630-om-atgarder-mot-penningtvatt-och_sfs-2017-630/'),
]

/** Chapter V transfer mechanisms, by the stable codes of domain.md. */
export const TRANSFER_MECHANISMS: Record<string, { name: string; nameSv: string }> = {
  'A45-3': { name: 'Adequacy decision', nameSv: 'Beslut om adekvat skyddsnivå' },
  'A46-2-a': { name: 'Legally binding instrument between public authorities', nameSv: 'Rättsligt bindande instrument mellan myndigheter' },
  'A46-2-b': { name: 'Binding corporate rules', nameSv: 'Bindande företagsbestämmelser' },
  'A46-2-c': { name: 'Standard contractual clauses (Commission)', nameSv: 'Standardavtalsklausuler (kommissionen)' },
  'A46-2-d': { name: 'Standard contractual clauses (supervisory authority)', nameSv: 'Standardavtalsklausuler (tillsynsmyndighet)' },
  'A46-2-e': { name: 'Approved code of conduct', nameSv: 'Godkänd uppförandekod' },
  'A46-2-f': { name: 'Approved certification mechanism', nameSv: 'Godkänd certifieringsmekanism' },
  'A46-3-a': { name: 'Contractual clauses authorised by the supervisory authority', nameSv: 'Avtalsklausuler godkända av tillsynsmyndigheten' },
  'A46-3-b': { name: 'Administrative arrangements between public authorities', nameSv: 'Administrativa överenskommelser mellan myndigheter' },
  'A49-1-a': { name: 'Derogation: explicit consent', nameSv: 'Undantag: uttryckligt samtycke' },
  'A49-1-b': { name: 'Derogation: performance of a contract with the data subject', nameSv: 'Undantag: fullgörande av avtal med den registrerade' },
  'A49-1-c': { name: 'Derogation: contract in the interest of the data subject', nameSv: 'Undantag: avtal i den registrerades intresse' },
  'A49-1-d': { name: 'Derogation: important reasons of public interest', nameSv: 'Undantag: viktiga skäl som rör allmänintresset' },
  'A49-1-e': { name: 'Derogation: legal claims', nameSv: 'Undantag: rättsliga anspråk' },
  'A49-1-f': { name: 'Derogation: vital interests', nameSv: 'Undantag: grundläggande intressen' },
  'A49-1-g': { name: 'Derogation: public register', nameSv: 'Undantag: offentligt register' },
  'A49-1-second-subparagraph': { name: 'Compelling legitimate interests (Art. 49(1) second subparagraph)', nameSv: 'Tvingande berättigade intressen (art. 49.1 andra stycket)' },
}
export const TRANSFER_MECHANISM_CODES = Object.keys(TRANSFER_MECHANISMS)

/**
 * Art. 9(1) special categories, and `unspecified` for a notice that names "sensitive data" without
 * saying which kind: the register keeps that gap visible instead of guessing.
 */
export const SPECIAL_CATEGORIES = [
  'racial-or-ethnic-origin', 'political-opinions', 'religious-or-philosophical-beliefs', 'trade-union-membership',
  'genetic', 'biometric', 'health', 'sex-life-or-sexual-orientation', 'unspecified',
] as const

export const DATA_CLASSIFICATIONS = ['ordinary', 'special', 'criminal', 'national-id'] as const

export const SECURITY_MEASURE_TYPES = ['technical', 'organisational'] as const
/** Grouped as CNIL groups them, plus the usual extras. */
export const SECURITY_MEASURE_CATEGORIES = [
  'access-control', 'logging', 'encryption', 'pseudonymisation', 'backup', 'software-protection', 'network-security',
  'physical-security', 'processor-control', 'training', 'incident-management', 'policy', 'other',
] as const

export const ACTIVITY_ROLES = ['controller', 'processor'] as const
export const ACTIVITY_STATUSES = ['draft', 'active', 'retired'] as const
/** Art. 13(2)(e): whether providing the data is a statutory or contractual requirement, needed to enter a contract, or voluntary. */
export const PROVISION_REQUIREMENTS = ['statutory', 'contractual', 'required-to-enter-contract', 'voluntary'] as const
export const DPIA_STATUSES = ['not-assessed', 'not-required', 'planned', 'in-progress', 'completed'] as const

/** RFC 4122 name-based (SHA-1, version 5) UUID: built-in entries get the same id in every workspace and instance. */
const CATALOGUE_NAMESPACE = '6f1d4e0a-9b2c-4c1e-8f3a-2d5b7c9e1f20'
export const catalogueId = (code: string): string => uuidv5(code, CATALOGUE_NAMESPACE)
