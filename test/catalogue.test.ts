import { expect } from 'chai'
import { buildTestApp, TestApp } from './helper'
import { BUILT_IN_LEGAL_BASES, catalogueId } from '../src/register/records/catalogue'

describe('legal-basis catalogue', () => {
  let t: TestApp
  before(async () => { t = await buildTestApp() })
  after(async () => t.close())

  it('is filled on a workspace\'s first use with every Art. 6(1), Art. 9(2), Art. 10 and Swedish entry', async () => {
    const res = await t.http.get('/api/v1/legal-bases?limit=500&sort=code').set('authorization', await t.auth('reader'))
    expect(res.status).to.equal(200)
    const codes = res.body.items.map((i: any) => i.code)
    for (const c of ['A6-1-a', 'A6-1-b', 'A6-1-c', 'A6-1-d', 'A6-1-e', 'A6-1-f']) expect(codes).to.include(c)
    for (const l of 'abcdefghij') expect(codes).to.include(`A9-2-${l}`)
    for (const c of ['A10', 'SE-BFL-7-2', 'SE-DSL-3-10', 'SE-PDL-3-17']) expect(codes).to.include(c)
    expect(res.body.total).to.equal(BUILT_IN_LEGAL_BASES.length)
    expect(res.body.items.every((i: any) => i.builtIn === true)).to.equal(true)
  })

  it('finds one entry by its stable code, with kind, article reference and both names', async () => {
    const res = await t.http.get('/api/v1/legal-bases?code=A6-1-b').set('authorization', await t.auth('reader'))
    expect(res.body.total).to.equal(1)
    expect(res.body.items[0]).to.include({ code: 'A6-1-b', kind: 'article-6', articleReference: 'GDPR Art. 6(1)(b)', name: 'Contract', nameSv: 'Avtal' })
    const h = await t.http.get('/api/v1/legal-bases?code=A9-2-h').set('authorization', await t.auth('reader'))
    expect(h.body.items[0]).to.include({ kind: 'article-9' })
    const bfl = await t.http.get('/api/v1/legal-bases?code=SE-BFL-7-2').set('authorization', await t.auth('reader'))
    expect(bfl.body.items[0]).to.include({ kind: 'national-law' })
    expect(bfl.body.items[0].articleReference).to.contain('7 kap. 2 §')
  })

  it('gives built-in entries the same id in every workspace', async () => {
    const a = await t.http.get('/api/v1/legal-bases?code=A6-1-a').set('authorization', await t.auth('reader', 'ws-a'))
    const b = await t.http.get('/api/v1/legal-bases?code=A6-1-a').set('authorization', await t.auth('reader', 'ws-b'))
    expect(a.body.items[0].id).to.equal(b.body.items[0].id)
  })

  it('keeps the ids built-in entries have always had (name-based UUID v5 of the code)', async () => {
    // ids stored in every existing workspace and in exported documents: they must not change
    expect(catalogueId('A6-1-a')).to.equal('e55defec-52fc-5012-be4f-78b7b598cf9d')
    expect(catalogueId('SE-DSL-3-10')).to.equal('e613cc94-9e9e-539a-8b69-ac536484c8b4')
    const res = await t.http.get('/api/v1/legal-bases?code=A6-1-a').set('authorization', await t.auth('reader', 'ws-a'))
    expect(res.body.items[0].id).to.equal('e55defec-52fc-5012-be4f-78b7b598cf9d')
  })

  it('refuses to delete or rename a built-in entry, but lets an admin edit its description', async () => {
    const { body } = await t.http.get('/api/v1/legal-bases?code=A6-1-f').set('authorization', await t.auth('admin'))
    const entry = body.items[0]
    const del = await t.http.delete(`/api/v1/legal-bases/${entry.id}`).set('authorization', await t.auth('admin'))
    expect(del.status).to.equal(409)
    expect(del.body.code).to.equal('built_in_entry')
    const rename = await t.http.patch(`/api/v1/legal-bases/${entry.id}`).set('authorization', await t.auth('admin')).send({ name: 'Our interests' })
    expect(rename.status).to.equal(409)
    expect(rename.body.details.map((d: any) => d.field)).to.deep.equal(['name'])
    const recode = await t.http.patch(`/api/v1/legal-bases/${entry.id}`).set('authorization', await t.auth('admin')).send({ code: 'X-1' })
    expect(recode.status).to.equal(409)
    const describe = await t.http.patch(`/api/v1/legal-bases/${entry.id}`).set('authorization', await t.auth('admin')).send({ description: 'Balancing test in LIA-2026' })
    expect(describe.status).to.equal(200)
    expect(describe.body).to.include({ name: 'Legitimate interests', description: 'Balancing test in LIA-2026', builtIn: true })
  })

  it('lets an admin add a custom entry, rejects a duplicate code, and removes the entry while unused', async () => {
    const entry = { code: 'SE-LSO-5-1', kind: 'national-law', articleReference: 'Lag (2003:460) 5 kap. 1 §', name: 'Ethical review act', nameSv: 'Etikprövningslagen' }
    const editor = await t.http.post('/api/v1/legal-bases').set('authorization', await t.auth('editor')).send(entry)
    expect(editor.status).to.equal(403)
    const created = await t.http.post('/api/v1/legal-bases').set('authorization', await t.auth('admin')).send(entry)
    expect(created.status).to.equal(201)
    expect(created.body).to.include({ code: 'SE-LSO-5-1', builtIn: false })
    const dup = await t.http.post('/api/v1/legal-bases').set('authorization', await t.auth('admin')).send({ ...entry, code: 'A6-1-b' })
    expect(dup.status).to.equal(409)
    expect(dup.body.details[0].field).to.equal('code')
    const del = await t.http.delete(`/api/v1/legal-bases/${created.body.id}`).set('authorization', await t.auth('admin'))
    expect(del.status).to.equal(204)
    const gone = await t.http.get(`/api/v1/legal-bases/${created.body.id}`).set('authorization', await t.auth('admin'))
    expect(gone.status).to.equal(404)
  })

  it('refuses to remove a custom entry that an activity still uses, naming the activity', async () => {
    const admin = await t.auth('admin')
    const lb = await t.http.post('/api/v1/legal-bases').set('authorization', admin)
      .send({ code: 'SE-CUSTOM-1', kind: 'national-law', articleReference: 'Lag 1', name: 'A law' })
    const c = await t.http.post('/api/v1/controllers').set('authorization', admin).send({ name: 'Clinic AB' })
    const p = await t.http.post('/api/v1/purposes').set('authorization', admin).send({ name: 'Care' })
    const a = await t.http.post('/api/v1/processing-activities').set('authorization', admin)
      .send({ name: 'Patient records', role: 'controller', controllerId: c.body.id, purposes: [{ purposeId: p.body.id, legalBasisIds: [lb.body.id] }] })
    expect(a.status).to.equal(201)
    const del = await t.http.delete(`/api/v1/legal-bases/${lb.body.id}`).set('authorization', admin)
    expect(del.status).to.equal(409)
    expect(del.body.references).to.deep.equal([{ type: 'processing-activity', id: a.body.id, name: 'Patient records' }])
  })
})
