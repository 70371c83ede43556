import { demoId } from '../src/register/demo/demo'
import type { RecordType } from '../src/dto/shape'

/**
 * Request examples for Swagger UI's "Try it out": each one is accepted as it stands (in the demo
 * workspace, `npm run demo`, whose ids are fixed), and says which ids to replace elsewhere. Swagger
 * UI would otherwise pre-fill every field with "string" and placeholder UUIDs that contradict each
 * other. test/examples.test.ts sends each one.
 */
export interface RequestExample {
  summary: string
  description?: string
  value: Record<string, unknown>
}

const DEMO_NOTE = 'The ids are records of the demo register (workspace `demo`, loaded by `npm run demo`).'

export const CREATE_EXAMPLES: Record<RecordType, Record<string, RequestExample>> = {
  controller: {
    controller: {
      summary: 'An organisation with its contact details and DPO',
      value: {
        name: 'Exempel AB', organisationNumber: '556000-0000', address: 'Storgatan 1, 831 30 Östersund',
        email: 'info@exempel.se', phone: '+46 63 12 34 56', country: 'SE', website: 'https://exempel.se',
        dataProtectionOfficer: { name: 'Dataskyddsombud', email: 'dataskyddsombud@exempel.se' },
      },
    },
  },
  processor: {
    processor: {
      summary: 'A processor with its data processing agreement',
      value: {
        name: 'Klarna Bank AB', organisationNumber: '556737-0431', country: 'SE', website: 'https://www.klarna.com/se/',
        service: 'Faktura och delbetalning',
        dataProcessingAgreement: { reference: 'Klarna DPA', url: 'https://www.klarna.com/se/villkor/' },
      },
    },
  },
  purpose: {
    purpose: { summary: 'A purpose', value: { name: 'Fullgöra köpeavtal', description: 'Leverera beställda upplevelser, bokningsbekräftelse och faktura.' } },
  },
  'legal-basis': {
    custom: {
      summary: 'The workspace\'s own legal basis (admin)',
      description: 'The built-in catalogue already holds Art. 6(1)(a)–(f), Art. 9(2)(a)–(j), Art. 10 and common Swedish law: list it with GET /api/v1/legal-bases. Codes are unique in a workspace.',
      value: {
        code: 'SE-LSO-5-1', kind: 'national-law', articleReference: 'Offentlighets- och sekretesslag (2009:400) 25 kap. 1 §',
        name: 'Public Access to Information and Secrecy Act: health care secrecy', nameSv: 'Offentlighets- och sekretesslagen: hälso- och sjukvårdssekretess',
      },
    },
  },
  'data-subject-category': {
    customers: { summary: 'A category of data subjects', value: { name: 'Kunder', description: 'Den som beställer på webbplatsen.' } },
  },
  'data-category': {
    ordinary: { summary: 'Ordinary personal data', value: { name: 'E-postadress', classification: 'ordinary' } },
    special: { summary: 'Special-category data (Art. 9)', value: { name: 'Hälsouppgifter i journal', classification: 'special', specialCategory: 'health' } },
  },
  recipient: {
    recipient: { summary: 'A category of recipients', value: { name: 'Arrangörer av evenemang', description: 'Får namn och telefonnummer för att kunna nå deltagaren.', country: 'SE' } },
  },
  'retention-rule': {
    retention: {
      summary: 'A time limit for erasure',
      value: { name: 'Räkenskapsinformation', period: 'P7Y', trigger: 'efter utgången av det kalenderår då räkenskapsåret avslutades', legalReference: 'Bokföringslagen (1999:1078) 7 kap. 2 §' },
    },
  },
  'security-measure': {
    measure: { summary: 'A security measure', value: { name: 'Behörighetsstyrning', description: 'Åtkomst efter roll, granskas varje kvartal.', type: 'technical', category: 'access-control' } },
  },
  'processing-activity': {
    controllerActivity: {
      summary: 'A processing activity of the organisation as controller (Art. 30(1))',
      description: `${DEMO_NOTE} Elsewhere replace controllerId with your controller's id (GET /api/v1/controllers) and purposeId with your purpose's id (GET /api/v1/purposes). Legal bases may be given by code (A6-1-b) or id.`,
      value: {
        name: 'Nyhetsbrev till kunder', description: 'Utskick om nya upplevelser till kunder som har bett om det.',
        role: 'controller', status: 'draft', controllerId: demoId('haltea'),
        purposes: [{ purposeId: demoId('haltea.purposes.communication'), legalBasisIds: ['A6-1-a'], consentWithdrawal: 'Länken "avsluta prenumeration" i varje utskick.' }],
        dataSubjectCategoryIds: [demoId('haltea.subjects.customers')],
        dataCategoryIds: [demoId('haltea.data.name'), demoId('haltea.data.email')],
        owner: 'Marknad',
      },
    },
    processorRecord: {
      summary: 'Processing the organisation does as a processor for a client (Art. 30(2))',
      description: `${DEMO_NOTE} controllerId is the organisation itself acting as processor, onBehalfOfControllerIds the client controllers; elsewhere replace both with your controllers' ids (GET /api/v1/controllers).`,
      value: {
        name: 'Drift av bokningssida åt kund', description: 'Webbhotell och drift av kundens bokningssida.',
        role: 'processor', status: 'draft', controllerId: demoId('5d-portalen'), onBehalfOfControllerIds: [demoId('wellnesskliniken')],
      },
    },
  },
}

/** PATCH: change only what is given. */
export const UPDATE_EXAMPLES: Partial<Record<RecordType, Record<string, RequestExample>>> = {
  'processing-activity': {
    activate: { summary: 'Mark the activity active', value: { status: 'active' } },
    legalBasis: {
      summary: 'Give the purposes their legal bases, by code',
      description: 'A list given replaces the stored list whole: send every purpose the activity keeps. The ids are the demo\'s; replace them elsewhere.',
      value: { purposes: [{ purposeId: demoId('haltea.purposes.contract'), legalBasisIds: ['A6-1-b'] }] },
    },
  },
}
