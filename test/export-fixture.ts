import { expect } from 'chai'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import Ajv2020 from 'ajv/dist/2020'
import addFormats from 'ajv-formats'
import { TestApp } from './helper'
import { addIdnEmailFormat } from '../src/schemas/json-schema'

type Row = Record<string, any>

/**
 * A small register shaped like the seed policies (a clinic with a joint controller, a processor
 * organisation with two client controllers), with Swedish text and values a spreadsheet would run
 * as formulas. Built through the API, as users build it.
 */
export interface Fixture {
  controllers: Record<string, Row>
  processors: Record<string, Row>
  legalBases: Record<string, Row>
  activities: Record<string, Row>
}

export async function buildRegister(t: TestApp, ws = 'test'): Promise<Fixture> {
  const admin = await t.auth('admin', ws)
  const post = async (path: string, body: Row): Promise<Row> => {
    const res = await t.http.post(`/api/v1/${path}`).set('authorization', admin).send(body)
    expect(res.status, `${path}: ${JSON.stringify(res.body)}`).to.equal(201)
    return res.body
  }
  const bases = (await t.http.get('/api/v1/legal-bases?limit=500').set('authorization', admin)).body.items as Row[]
  const lb = Object.fromEntries(bases.map((b) => [b.code, b]))
  lb['SE-LSO-5-1'] = await post('legal-bases', { code: 'SE-LSO-5-1', kind: 'national-law', articleReference: 'Lag (2003:460) 5 kap. 1 §', name: 'Ethical review act', nameSv: 'Etikprövningslagen' })

  const clinic = await post('controllers', {
    name: 'Klinik Östersund AB', organisationNumber: '556000-0001', address: 'Storgatan 1, 831 30 Östersund', email: 'info@klinik.se', phone: '+46 63 12 34 56',
    country: 'SE', website: 'https://klinik.se', dataProtectionOfficer: { name: 'Åsa Öberg', email: 'dso@klinik.se' },
    representative: { name: 'Rep Ltd', email: 'rep@example.eu' },
  })
  const joint = await post('controllers', { name: 'Hudateljén AB', organisationNumber: '556000-0002', email: 'hej@hudateljen.se' })
  const itDrift = await post('controllers', { name: 'IT-Drift i Åre AB', organisationNumber: '556000-0003', address: 'Fjällvägen 2, Åre', dataProtectionOfficer: { name: 'Dan Dahl' } })
  const clientOne = await post('controllers', { name: 'Kund Ett AB', email: 'ett@kund.se', dataProtectionOfficer: { name: 'Ulla Ek', email: 'dpo@kund.se' } })
  const clientTwo = await post('controllers', { name: 'Kund Två AB', phone: '+46 8 123 45' })

  const google = await post('processors', { name: 'Google LLC', country: 'US', service: 'Statistik' })
  const klarna = await post('processors', { name: 'Klarna Bank AB', country: 'SE', service: 'Betalning', dataProcessingAgreement: { signedAt: '2025-03-01', reference: 'DPA-7' } })
  const books = await post('processors', { name: 'Bokföringssystem AB', country: 'SE', subProcessorIds: [google.id] })

  const care = await post('purposes', { name: 'Vård och behandling' })
  const billing = await post('purposes', { name: 'Fakturering' })
  const marketing = await post('purposes', { name: 'Marknadsföring' })
  const patients = await post('data-subject-categories', { name: 'Patienter' })
  const customers = await post('data-subject-categories', { name: 'Kunder' })
  const names = await post('data-categories', { name: 'Namn och kontaktuppgifter', classification: 'ordinary' })
  const health = await post('data-categories', { name: 'Hälsouppgifter', classification: 'special', specialCategory: 'health' })
  const pnr = await post('data-categories', { name: 'Personnummer', classification: 'national-id' })
  const ledger = await post('data-categories', { name: 'Bokföringsunderlag', classification: 'ordinary' })
  const organisers = await post('recipients', { name: 'Arrangörer' })
  const analytics = await post('recipients', { name: 'Google Analytics', country: 'US' })
  const journal = await post('retention-rules', { name: 'Journal', period: 'P10Y', trigger: 'efter senaste anteckning', legalReference: 'Patientdatalagen (2008:355) 3 kap. 17 §' })
  const accounts = await post('retention-rules', { name: 'Bokföring', period: 'P7Y', trigger: 'efter räkenskapsårets utgång', legalReference: 'Bokföringslagen 7 kap. 2 §' })
  const visits = await post('retention-rules', { name: 'Kunddata', period: 'P36M', trigger: 'efter senaste besök' })
  const open = await post('retention-rules', { name: 'Så länge det behövs', period: null })
  const access = await post('security-measures', { name: 'Behörighetsstyrning', type: 'technical', category: 'access-control' })
  const formula = await post('security-measures', { name: '@SUM(1+1)', type: 'organisational', category: 'policy' })
  await post('purposes', { name: 'Oanvänt ändamål' })

  const records = await post('processing-activities', {
    name: 'Patientjournal', description: 'Journalföring enligt patientdatalagen', role: 'controller', controllerId: clinic.id,
    jointControllerIds: [joint.id],
    purposes: [
      { purposeId: care.id, legalBasisIds: [lb['A6-1-c'].id, lb['A9-2-h'].id, lb['SE-PDL-3-17'].id] },
      { purposeId: billing.id, legalBasisIds: [lb['A6-1-b'].id, lb['SE-BFL-7-2'].id] },
    ],
    dataSubjectCategoryIds: [patients.id], dataCategoryIds: [names.id, health.id, pnr.id, ledger.id],
    recipientIds: [organisers.id, analytics.id], processorIds: [klarna.id, books.id],
    transfers: [{ country: 'US', processorId: google.id, mechanism: 'A46-2-c', safeguards: 'Kryptering', documentation: 'SCC 2021' }],
    retention: [
      { retentionRuleId: journal.id, dataCategoryIds: [health.id] },
      { retentionRuleId: accounts.id, dataCategoryIds: [ledger.id] },
      { retentionRuleId: visits.id },
    ],
    securityMeasureIds: [access.id, formula.id], dataSources: ['Patienten själv'], systems: ['Journalsystem'],
    dpia: { required: true, status: 'completed', reference: 'DPIA-2025-01' }, status: 'active', owner: 'Vården',
    lastReviewedAt: '2026-01-15', nextReviewAt: '2027-01-15',
  })
  const marketingActivity = await post('processing-activities', {
    name: 'Nyhetsbrev', description: '=HYPERLINK("http://example.com","klicka")', role: 'controller', controllerId: clinic.id,
    purposes: [{ purposeId: marketing.id, legalBasisIds: [lb['A6-1-f'].id], legitimateInterest: 'Att nå befintliga kunder', liaReference: 'LIA-2026-02' }],
    dataSubjectCategoryIds: [customers.id], dataCategoryIds: [names.id], retention: [{ retentionRuleId: open.id }],
    systems: ['\tTab-system'], automatedDecisionMaking: true, automatedDecisionMakingDescription: 'Segmentering efter köp',
    owner: '+46 63 99 99 99', status: 'draft',
  })
  const hosting = await post('processing-activities', {
    name: 'Drift av kundsystem', description: 'Drift och support', role: 'processor', controllerId: itDrift.id,
    onBehalfOfControllerIds: [clientOne.id, clientTwo.id], processorIds: [google.id],
    transfers: [{ country: 'US', processorId: google.id, mechanism: 'A45-3' }], securityMeasureIds: [access.id], status: 'active',
  })
  return {
    controllers: { clinic, joint, itDrift, clientOne, clientTwo },
    processors: { google, klarna, books },
    legalBases: lb,
    activities: { records, marketing: marketingActivity, hosting },
  }
}

/** A document without what changes on every export or write: generatedAt, createdAt, updatedAt, version. */
export function withoutTimestamps(doc: unknown): unknown {
  return JSON.parse(JSON.stringify(doc), (key, value) => (['generatedAt', 'createdAt', 'updatedAt', 'version'].includes(key) ? undefined : value))
}

/** Validates a document against the committed openapi/register-export.schema.json (JSON Schema 2020-12). */
export function exportValidator() {
  const ajv = new Ajv2020({ allErrors: true, strict: true, strictTypes: false, strictTuples: false })
  addFormats(ajv)
  addIdnEmailFormat(ajv)
  return ajv.compile(JSON.parse(readFileSync(join(__dirname, '..', '..', 'openapi', 'register-export.schema.json'), 'utf8')))
}
