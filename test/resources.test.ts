import { expect } from 'chai'
import { compareNames } from '../src/register/wording/collation'
import { buildTestApp, TestApp } from './helper'

/**
 * Every register resource: create, read, list (pagination, sort, search, filters), replace,
 * partial update, delete, and validation errors naming the offending fields.
 */
interface Case {
  path: string
  role: 'editor' | 'admin'
  /** Two valid bodies (create, then replace with) */
  first: Record<string, unknown>
  second: Record<string, unknown>
  /** The body PUT replaces the first with (default: the second body) */
  replacement?: Record<string, unknown>
  /** A field PATCH changes, and its new value */
  patch: Record<string, unknown>
  /** An invalid body and the fields the 400 must name */
  invalid: Record<string, unknown>
  invalidFields: string[]
  /** A filter that selects the first record and not the second */
  filter?: [string, string]
  /** Search text that finds only the second */
  search: string
}

const CASES: Case[] = [
  {
    path: 'controllers', role: 'editor',
    first: {
      name: 'HALTEA AB', organisationNumber: '556000-0001', address: 'Box 1, 831 00 Östersund', email: 'info@minupplevelse.se',
      phone: '+46 63 10 20 30', country: 'SE', website: 'https://www.minupplevelse.se',
      dataProtectionOfficer: { name: 'Dataskyddsombud', email: 'dpo@minupplevelse.se' },
      representative: null, notes: 'The policy names two contact e-mails',
    },
    second: { name: 'Allavie AB', country: 'NO', representative: { name: 'Rep i Sverige AB', address: 'Storgatan 1, Åre', phone: '0647-123 45' } },
    patch: { email: 'kontakt@allavie.se' },
    invalid: { name: '  ', email: 'not-an-email', country: 'Sweden', website: 'ftp://x', representative: { email: 'x' }, extra: 1 },
    invalidFields: ['name', 'email', 'country', 'website', 'representative.email', 'extra'],
    filter: ['country', 'SE'],
    search: 'allavie',
  },
  {
    path: 'processors', role: 'editor',
    first: {
      name: 'Klarna Bank AB', organisationNumber: '556737-0431', country: 'SE', service: 'Faktura och delbetalning',
      dataProcessingAgreement: { signedAt: '2024-03-01', reference: 'DPA-KLARNA', url: 'https://www.klarna.com/dpa' },
      contact: { email: 'privacy@klarna.com' },
    },
    second: { name: 'Fortnox AB', country: 'SE', service: 'Bokföringssystem', dataProcessingAgreement: null },
    patch: { service: 'Accounting system' },
    invalid: { name: 'X', dataProcessingAgreement: { signedAt: '2024-13-45' }, subProcessorIds: ['nope', 'nope'] },
    invalidFields: ['dataProcessingAgreement.signedAt', 'subProcessorIds'],
    search: 'fortnox',
  },
  {
    path: 'purposes', role: 'editor',
    first: { name: 'Fullgöra köpeavtal', description: 'Leverera bokningsbekräftelse, biljett och faktura' },
    second: { name: 'Marknadsföring' },
    patch: { description: 'Nyhetsbrev' },
    invalid: { description: 5 },
    invalidFields: ['name', 'description'],
    search: 'marknad',
  },
  {
    path: 'legal-bases', role: 'admin',
    first: { code: 'SE-LSO-5-1', kind: 'national-law', articleReference: 'Lag (2003:460) 5 kap.', name: 'Ethical review act', nameSv: 'Etikprövningslagen' },
    second: { code: 'SE-ARKL-3', kind: 'national-law', articleReference: 'Arkivlagen (1990:782) 3 §', name: 'Archives act' },
    replacement: { code: 'SE-LSO-5', kind: 'national-law', articleReference: 'Lag (2003:460)', name: 'Ethical review' },
    patch: { description: 'For research data' },
    invalid: { code: 'lower case', kind: 'article-99', articleReference: '', name: 'x' },
    invalidFields: ['code', 'kind', 'articleReference'],
    filter: ['code', 'SE-LSO-5-1'],
    search: 'archives act',
  },
  {
    path: 'data-subject-categories', role: 'editor',
    first: { name: 'Kunder', description: 'Personer som köper upplevelser' },
    second: { name: 'Presentkortsmottagare' },
    patch: { name: 'Mottagare av presentkort' },
    invalid: { name: 'x'.repeat(201) },
    invalidFields: ['name'],
    search: 'presentkort',
  },
  {
    path: 'data-categories', role: 'editor',
    first: { name: 'Personnummer', classification: 'national-id' },
    second: { name: 'Foton av huden', classification: 'special', specialCategory: 'health', description: 'Foton och anteckningar som du väljer att ge oss' },
    patch: { description: 'Hälsouppgifter' },
    invalid: { name: 'Hälsa', classification: 'special' },
    invalidFields: ['specialCategory'],
    filter: ['classification', 'national-id'],
    search: 'foton',
  },
  {
    path: 'recipients', role: 'editor',
    first: { name: 'Arrangörer', description: 'Arrangörer av upplevelser', country: 'SE' },
    second: { name: 'Google', country: 'US', description: 'Statistik' },
    patch: { description: 'Webbanalys' },
    invalid: { name: 'Google', country: 'usa' },
    invalidFields: ['country'],
    filter: ['country', 'SE'],
    search: 'google',
  },
  {
    path: 'retention-rules', role: 'editor',
    first: { name: 'Kunduppgifter', period: 'P36M', trigger: 'efter senaste besöket', legalReference: 'Patientdatalagen', description: '36 månader efter senaste besök' },
    second: { name: 'Så länge det är nödvändigt', period: null, description: 'Ingen fast tidsgräns' },
    patch: { period: 'P18M' },
    invalid: { name: 'Bokföring', period: '7 years' },
    invalidFields: ['period'],
    search: 'nödvändigt',
  },
  {
    path: 'security-measures', role: 'editor',
    first: { name: 'Behörighetsstyrning', type: 'organisational', category: 'access-control' },
    second: { name: 'TLS', type: 'technical', category: 'encryption', description: 'Krypterad överföring' },
    patch: { description: 'Endast behörig personal' },
    invalid: { name: 'TLS', type: 'magic', category: 'x' },
    invalidFields: ['type', 'category'],
    filter: ['type', 'organisational'],
    search: 'tls',
  },
]

describe('register resources', () => {
  let t: TestApp
  before(async () => { t = await buildTestApp() })
  after(async () => t.close())

  for (const c of CASES) {
    describe(`/api/v1/${c.path}`, () => {
      const base = `/api/v1/${c.path}`
      let first: Record<string, any>
      let second: Record<string, any>

      it('creates a record and answers 201 with id, version 1, timestamps, a Location and an ETag', async () => {
        const res = await t.http.post(base).set('authorization', await t.auth(c.role)).send(c.first)
        expect(res.status, JSON.stringify(res.body)).to.equal(201)
        first = res.body
        expect(first.id).to.match(/^[0-9a-f-]{36}$/)
        expect(first.version).to.equal(1)
        expect(first.createdAt).to.equal(first.updatedAt)
        expect(res.headers.location).to.equal(`${base}/${first.id}`)
        expect(res.headers.etag).to.equal('"1"')
        for (const [k, v] of Object.entries(c.first)) {
          if (v !== null && typeof v === 'object') expect(first[k]).to.deep.include(v as object)
          else expect(first[k]).to.deep.equal(v)
        }
        const s = await t.http.post(base).set('authorization', await t.auth(c.role)).send(c.second)
        expect(s.status, JSON.stringify(s.body)).to.equal(201)
        second = s.body
      })

      it('reads it back as stored', async () => {
        const res = await t.http.get(`${base}/${first.id}`).set('authorization', await t.auth('reader'))
        expect(res.status).to.equal(200)
        expect(res.body).to.deep.equal(first)
        expect(res.headers.etag).to.equal('"1"')
      })

      it('lists with total, limit and offset, pages through, sorts and searches', async () => {
        const all = await t.http.get(`${base}?limit=500`).set('authorization', await t.auth('reader'))
        expect(all.status).to.equal(200)
        const total = all.body.total
        expect(all.body.items.length).to.equal(total)
        expect(all.body.items.map((i: any) => i.id)).to.include.members([first.id, second.id])

        const page1 = await t.http.get(`${base}?limit=1&offset=0&sort=-createdAt`).set('authorization', await t.auth('reader'))
        const page2 = await t.http.get(`${base}?limit=1&offset=1&sort=-createdAt`).set('authorization', await t.auth('reader'))
        expect(page1.body).to.include({ total, limit: 1, offset: 0 })
        expect(page1.body.items).to.have.length(1)
        expect(page2.body).to.include({ total, limit: 1, offset: 1 })
        expect(page1.body.items[0].id).to.not.equal(page2.body.items[0].id)

        const byName = await t.http.get(`${base}?limit=500&sort=-name`).set('authorization', await t.auth('reader'))
        // in the register's collation (Swedish), ties by id; -name is its reverse
        const items = byName.body.items.map((i: any) => ({ name: i.name, id: i.id }))
        expect(items).to.deep.equal([...items].sort(compareNames).reverse())

        const found = await t.http.get(`${base}?q=${encodeURIComponent(c.search)}`).set('authorization', await t.auth('reader'))
        expect(found.body.items.map((i: any) => i.id)).to.deep.equal([second.id])
      })

      if (c.filter) {
        it(`filters by ${c.filter[0]}`, async () => {
          const res = await t.http.get(`${base}?${c.filter![0]}=${c.filter![1]}`).set('authorization', await t.auth('reader'))
          expect(res.status).to.equal(200)
          const ids = res.body.items.map((i: any) => i.id)
          expect(ids).to.include(first.id)
          expect(ids).to.not.include(second.id)
        })
      }

      it('replaces the record with PUT: fields left out are cleared, the version goes up', async () => {
        const replacement = c.replacement ?? c.second
        const res = await t.http.put(`${base}/${first.id}`).set('authorization', await t.auth(c.role)).send(replacement)
        expect(res.status, JSON.stringify(res.body)).to.equal(200)
        first = res.body
        expect(first.version).to.equal(2)
        expect(first.name).to.equal(replacement.name)
        for (const k of Object.keys(c.first)) {
          if (!(k in replacement) && k !== 'name') expect(first[k], k).to.satisfy((v: unknown) => v === null || (Array.isArray(v) && v.length === 0))
        }
      })

      it('updates only the given fields with PATCH', async () => {
        const before = (await t.http.get(`${base}/${second.id}`).set('authorization', await t.auth('reader'))).body
        const res = await t.http.patch(`${base}/${second.id}`).set('authorization', await t.auth(c.role)).send(c.patch)
        expect(res.status, JSON.stringify(res.body)).to.equal(200)
        expect(res.body).to.deep.include(c.patch)
        expect(res.body.version).to.equal(before.version + 1)
        for (const [k, v] of Object.entries(before)) {
          if (!(k in c.patch) && !['version', 'updatedAt'].includes(k)) expect(res.body[k], k).to.deep.equal(v)
        }
      })

      it('rejects an invalid body with 400 naming every offending field, and stores nothing', async () => {
        const count = (await t.http.get(base).set('authorization', await t.auth('reader'))).body.total
        const res = await t.http.post(base).set('authorization', await t.auth(c.role)).send(c.invalid)
        expect(res.status).to.equal(400)
        expect(res.body.code).to.equal('validation_failed')
        const fields = res.body.details.map((d: any) => d.field)
        for (const f of c.invalidFields) expect(fields, JSON.stringify(res.body.details)).to.include(f)
        const put = await t.http.put(`${base}/${second.id}`).set('authorization', await t.auth(c.role)).send(c.invalid)
        expect(put.status).to.equal(400)
        expect((await t.http.get(base).set('authorization', await t.auth('reader'))).body.total).to.equal(count)
      })

      it('deletes the record: 204, then 404', async () => {
        const res = await t.http.delete(`${base}/${second.id}`).set('authorization', await t.auth(c.role))
        expect(res.status).to.equal(204)
        const gone = await t.http.get(`${base}/${second.id}`).set('authorization', await t.auth('reader'))
        expect(gone.status).to.equal(404)
        expect(gone.body.code).to.equal('not_found')
        const again = await t.http.delete(`${base}/${second.id}`).set('authorization', await t.auth(c.role))
        expect(again.status).to.equal(404)
      })
    })
  }

  describe('list parameters', () => {
    it('rejects unknown parameters, bad limits and sorts by name', async () => {
      const res = await t.http.get('/api/v1/purposes?limit=0&offset=-1&sort=password&controlerId=x').set('authorization', await t.auth('reader'))
      expect(res.status).to.equal(400)
      expect(res.body.details.map((d: any) => d.field)).to.include.members(['limit', 'offset', 'sort', 'controlerId'])
    })

    it('treats % and _ in a search text literally', async () => {
      await t.http.post('/api/v1/purposes').set('authorization', await t.auth('editor')).send({ name: '100% rabatt' })
      await t.http.post('/api/v1/purposes').set('authorization', await t.auth('editor')).send({ name: '1000 rabatt' })
      const res = await t.http.get(`/api/v1/purposes?q=${encodeURIComponent('0%')}`).set('authorization', await t.auth('reader'))
      expect(res.body.items.map((i: any) => i.name)).to.deep.equal(['100% rabatt'])
    })

    it('answers 400 naming id for an id that is not a UUID', async () => {
      const res = await t.http.get('/api/v1/purposes/123').set('authorization', await t.auth('reader'))
      expect(res.status).to.equal(400)
      expect(res.body.details[0].field).to.equal('id')
    })
  })
})
