import { expect } from 'chai'
import { compareNames, searchFold, sortKey } from '../src/register/wording/collation'
import { buildTestApp, TestApp } from './helper'
import { fillLookupColumns } from '../migrations/lookup-columns'
import { loadDemo } from '../src/register/demo/demo'
import { classificationWords, countryName, dpiaStatusWords, durationWords, roleWords, specialCategoryWords, statusWords } from '../src/register/wording/wording'

type Row = Record<string, any>

/** Decomposed (NFD) form, as macOS keyboards and some web forms send å, ä and ö. */
const nfd = (s: string): string => s.normalize('NFD')

/** The controllers of the report, in the order a Swede expects them. */
const SWEDISH_ORDER = [
  'apotek Hjärtat i Kiruna',
  'Wellnesskliniken i Östersund AB',
  'Ystad Saltsjöbad AB',
  'Zebra Hundfrisör',
  'Åre Skidskola AB',
  'Ängelholms Tandvård',
  'Örebro Läns Hälsocenter',
]

describe('Swedish search and sort', () => {
  describe('the collation (src/register/wording/collation.ts)', () => {
    it('orders sort keys as the Swedish collator orders the names', () => {
      const names = [...SWEDISH_ORDER, 'Are', 'Ärla', 'Öland', 'Ohlsson', 'Vega', 'Wasa', 'Müller', 'Mueller', 'Étoile', 'Etage', 'Å', 'Zz', 'a-b', 'ab', 'a b', '123', 'Ørsta', 'Œuvre', 'Ōsaka', 'Straße']
      const collator = new Intl.Collator('sv')
      const byKey = [...names].sort((a, b) => compareNames({ name: a, id: a }, { name: b, id: b }, 'sv'))
      const byCollator = [...names].sort(collator.compare)
      expect(byKey).to.deep.equal(byCollator)
    })

    it('gives a name the same key in NFC and NFD, and in upper and lower case', () => {
      expect(sortKey(nfd('Östersund'), 'sv')).to.equal(sortKey('Östersund', 'sv'))
      expect(sortKey('ÅRE', 'sv')).to.equal(sortKey('åre', 'sv'))
      expect(sortKey('Åre', 'sv')).to.not.equal(sortKey('Are', 'sv'))
    })

    it('follows the locale: in German ä sorts with a, in Swedish after z', () => {
      const names = ['Äpfel', 'Zebra', 'Apfel']
      expect(sortKey('Äpfel', 'de')).to.equal(sortKey('Apfel', 'de'))
      expect([...names].sort((a, b) => compareNames({ name: a, id: a }, { name: b, id: b }, 'de'))).to.deep.equal(['Apfel', 'Äpfel', 'Zebra'])
      expect([...names].sort((a, b) => compareNames({ name: a }, { name: b }, 'sv'))).to.deep.equal(['Apfel', 'Zebra', 'Äpfel'])
    })

    it('folds case for all of Unicode and the normalisation form', () => {
      expect(searchFold('ÖREBRO')).to.equal(searchFold('örebro'))
      expect(searchFold(nfd('örebro'))).to.equal('örebro')
      expect(searchFold('STRASSE')).to.equal(searchFold('straße'))
      expect(searchFold('ΣΟΦΊΑ')).to.equal(searchFold('σοφία'))
    })
  })

  describe('lists', () => {
    let t: TestApp
    const ids: Record<string, string> = {}
    before(async () => {
      t = await buildTestApp()
      // created in byte order, so that neither creation order nor byte order is the Swedish one
      const bodies: Row[] = [...SWEDISH_ORDER].sort().map((name) => ({ name }))
      bodies.find((b) => b.name.startsWith('Zebra'))!.address = 'Årevägen 12, 837 52 Åre'
      bodies.find((b) => b.name.startsWith('Zebra'))!.name = 'Smultronsites AB'
      bodies.find((b) => b.name.startsWith('Ystad'))!.email = 'hudateljén@allavieclinic.com'
      // typed in decomposed form: still found by a precomposed search, and the other way round
      bodies.find((b) => b.name.startsWith('Örebro'))!.name = nfd('Örebro Läns Hälsocenter')
      bodies.find((b) => b.name.startsWith('Ängel'))!.dataProtectionOfficer = { name: 'Dataskyddsombud', email: 'dso@ängelholm.se' }
      for (const body of bodies) {
        const res = await t.http.post('/api/v1/controllers').set('authorization', await t.auth('editor')).send(body)
        expect(res.status, JSON.stringify(res.body)).to.equal(201)
        ids[body.name.normalize('NFC')] = res.body.id
      }
    })
    after(async () => t.close())

    const search = async (q: string, path = 'controllers'): Promise<string[]> => {
      const res = await t.http.get(`/api/v1/${path}?q=${encodeURIComponent(q)}&sort=name`).set('authorization', await t.auth('reader'))
      expect(res.status, JSON.stringify(res.body)).to.equal(200)
      return res.body.items.map((i: Row) => i.name.normalize('NFC'))
    }

    it('q=åre finds Smultronsites AB at Årevägen, and Åre Skidskola, in any case', async () => {
      for (const q of ['åre', 'ÅRE', 'Åre', nfd('åre')]) expect(await search(q), q).to.deep.equal(['Smultronsites AB', 'Åre Skidskola AB'])
    })

    it('q=östersund and an NFD-typed ö find Wellnesskliniken i Östersund AB', async () => {
      expect(await search('östersund')).to.deep.equal(['Wellnesskliniken i Östersund AB'])
      expect(await search(nfd('ÖSTERSUND'))).to.deep.equal(['Wellnesskliniken i Östersund AB'])
    })

    it('q=ÖREBRO finds a name stored in decomposed form', async () => {
      expect(await search('ÖREBRO')).to.deep.equal(['Örebro Läns Hälsocenter'])
      expect(await search(nfd('läns'))).to.deep.equal(['Örebro Läns Hälsocenter'])
    })

    it('searches contact e-mail addresses, the DPO\'s too', async () => {
      expect(await search('HUDATELJÉN@')).to.deep.equal(['Ystad Saltsjöbad AB'])
      expect(await search('ÄNGELHOLM.SE')).to.deep.equal(['Ängelholms Tandvård'])
    })

    it('a change of a record changes what finds it', async () => {
      const id = ids['Ängelholms Tandvård']
      const res = await t.http.patch(`/api/v1/controllers/${id}`).set('authorization', await t.auth('editor')).send({ dataProtectionOfficer: null, address: 'Storgatan 3, Luleå' })
      expect(res.status, JSON.stringify(res.body)).to.equal(200)
      expect(await search('ängelholm.se')).to.deep.equal([])
      expect(await search('LULEÅ')).to.deep.equal(['Ängelholms Tandvård'])
    })

    it('sort=name is the Swedish order, -name its reverse, ties by id', async () => {
      const expected = ['apotek Hjärtat i Kiruna', 'Smultronsites AB', 'Wellnesskliniken i Östersund AB', 'Ystad Saltsjöbad AB', 'Åre Skidskola AB', 'Ängelholms Tandvård', 'Örebro Läns Hälsocenter']
      const asc = await t.http.get('/api/v1/controllers?sort=name').set('authorization', await t.auth('reader'))
      expect(asc.body.items.map((i: Row) => i.name.normalize('NFC'))).to.deep.equal(expected)
      const desc = await t.http.get('/api/v1/controllers?sort=-name').set('authorization', await t.auth('reader'))
      expect(desc.body.items.map((i: Row) => i.name.normalize('NFC'))).to.deep.equal([...expected].reverse())
      // pages in that order: none skipped or repeated
      const pages: string[] = []
      for (let offset = 0; offset < expected.length; offset += 3) {
        const page = await t.http.get(`/api/v1/controllers?sort=name&limit=3&offset=${offset}`).set('authorization', await t.auth('reader'))
        pages.push(...page.body.items.map((i: Row) => i.name.normalize('NFC')))
      }
      expect(pages).to.deep.equal(expected)
    })

    it('names equal but for case and accents are ordered by id', async () => {
      const made: string[] = []
      for (const name of ['Café Åkersberga', 'CAFE ÅKERSBERGA', 'cafe åkersberga']) {
        const res = await t.http.post('/api/v1/purposes').set('authorization', await t.auth('editor')).send({ name })
        made.push(res.body.id)
      }
      const res = await t.http.get('/api/v1/purposes?sort=name&q=kersberga').set('authorization', await t.auth('reader'))
      expect(res.body.items.map((i: Row) => i.id)).to.deep.equal([...made].sort())
    })

    it('after a change of REGISTER_LOCALE, recomputing the keys (npm run sort-keys) sorts in the new collation', async () => {
      const made: Row[] = []
      for (const name of ['Äpfel', 'Zucker', 'Apfelsaft']) made.push((await t.http.post('/api/v1/recipients').set('authorization', await t.auth('editor')).send({ name })).body)
      const names = async (): Promise<string[]> => (await t.http.get('/api/v1/recipients?sort=name').set('authorization', await t.auth('reader'))).body.items.map((i: Row) => i.name)
      expect(await names()).to.deep.equal(['Apfelsaft', 'Zucker', 'Äpfel'])
      const before = process.env.REGISTER_LOCALE
      process.env.REGISTER_LOCALE = 'de'
      try {
        const ds = t.app.db.dataSource
        await ds.transaction((m) => fillLookupColumns(m, ds.options.type === 'postgres' ? (n) => `$${n}` : () => '?'))
      } finally {
        if (before === undefined) delete process.env.REGISTER_LOCALE
        else process.env.REGISTER_LOCALE = before
      }
      expect(await names()).to.deep.equal(['Äpfel', 'Apfelsaft', 'Zucker'])
      const ds = t.app.db.dataSource
      await ds.transaction((m) => fillLookupColumns(m, ds.options.type === 'postgres' ? (n) => `$${n}` : () => '?'))
      expect(await names()).to.deep.equal(['Apfelsaft', 'Zucker', 'Äpfel'])
    })

    it('an import (many records in one batch) is searched and sorted the same', async () => {
      const doc = await t.http.get('/api/v1/register/export?format=json').set('authorization', await t.auth('reader'))
      expect(doc.status).to.equal(200)
      const other = await buildTestApp()
      try {
        const res = await other.http.post('/api/v1/register/import').set('authorization', await other.auth('admin')).send(doc.body)
        expect(res.status, JSON.stringify(res.body)).to.equal(200)
        const found = await other.http.get(`/api/v1/controllers?q=${encodeURIComponent(nfd('ÖREBRO'))}`).set('authorization', await other.auth('reader'))
        expect(found.body.items.map((i: Row) => i.name.normalize('NFC'))).to.deep.equal(['Örebro Läns Hälsocenter'])
        const sorted = await other.http.get('/api/v1/controllers?sort=name').set('authorization', await other.auth('reader'))
        const here = await t.http.get('/api/v1/controllers?sort=name').set('authorization', await t.auth('reader'))
        expect(sorted.body.items.map((i: Row) => i.id)).to.deep.equal(here.body.items.map((i: Row) => i.id))
      } finally {
        await other.close()
      }
    })
  })
})

describe('wording (src/register/wording/wording.ts)', () => {
  it('names a country in one form per language, from i18n-iso-countries', () => {
    expect(countryName('US', 'sv')).to.equal('USA (US)')
    expect(countryName('US', 'en')).to.equal('United States of America (US)')
    expect(countryName('SE', 'sv')).to.equal('Sverige (SE)')
    expect(countryName('GB', 'sv')).to.equal('Storbritannien (GB)')
    expect(countryName('EU', 'sv')).to.equal('EU')
  })

  it('writes durations, categories, statuses and roles in words, one form per language', () => {
    expect(durationWords('P1Y6M', 'sv')).to.equal('1 år och 6 månader')
    expect(durationWords('P36M', 'en')).to.equal('36 months')
    expect(durationWords('P0D', 'sv')).to.equal('omedelbart')
    expect(classificationWords({ classification: 'special', specialCategory: 'health' }, 'sv')).to.equal('art. 9: hälsa')
    expect(specialCategoryWords('trade-union-membership', 'en')).to.equal('trade union membership')
    expect(statusWords('retired', 'sv')).to.equal('Avslutad')
    expect(dpiaStatusWords('in-progress', 'sv')).to.equal('pågår')
    expect(roleWords('processor', 'sv')).to.equal('Personuppgiftsbiträde')
  })
})

describe('the README\'s Swedish search on the demo register', () => {
  let t: TestApp
  before(async () => {
    t = await buildTestApp()
    await loadDemo(t.app.db, { sub: 'demo-loader', role: 'admin', ws: 'demo' })
  })
  after(async () => t.close())

  const names = async (query: string): Promise<string[]> => {
    const res = await t.http.get(`/api/v1/controllers?${query}`).set('authorization', await t.auth('reader', 'demo'))
    expect(res.status).to.equal(200)
    return res.body.items.map((i: Row) => i.name)
  }

  it('finds the clinic in Östersund and the guiding company at Årevägen, and lists the controllers by name', async () => {
    expect(await names(`q=${encodeURIComponent('östersund')}`)).to.deep.equal(['Wellnesskliniken i Östersund AB'])
    expect(await names(`q=${encodeURIComponent(nfd('östersund'))}`)).to.deep.equal(['Wellnesskliniken i Östersund AB'])
    expect(await names(`q=${encodeURIComponent('ÅRE')}&sort=name`)).to.deep.equal(['Smultronsites AB'])
    expect(await names('sort=name')).to.deep.equal(['Allavie AB', 'HALTEA AB', 'Hudateljén', 'Håkan Berggren – 5dportalen', 'Smultronsites AB', 'Wellnesskliniken i Östersund AB'])
  })
})
