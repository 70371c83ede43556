import { expect } from 'chai'
import { randomUUID } from 'node:crypto'
import { Database } from '../src/db/database'
import { listHistory } from '../src/register/accountability/history'
import { controllers, processingActivities, ResourceDef } from '../src/register/records/model'
import { findRow, getView } from '../src/register/records/reads'
import { registerToday } from '../src/register/wording/dates'
import type { Principal } from '../src/auth/principal'
import { markReviewed, StoreItem, storeMany, validateWrite } from '../src/register/records/writes'
import { ValidationFailed } from '../src/errors'
import { buildRegister, Fixture } from './export-fixture'
import { buildTestApp, TestApp } from './helper'

type Row = Record<string, any>

/**
 * storeMany (the import's write path) builds each view from the rows it has just written instead
 * of reading them back: those views, and the history entries holding them, must be exactly what
 * getView returns afterwards.
 */
describe('batch writes (storeMany)', () => {
  let t: TestApp
  let f: Fixture
  let db: Database
  const who: Principal = { sub: 'batch-writer', role: 'admin', ws: 'test' }

  before(async () => {
    t = await buildTestApp()
    f = await buildRegister(t)
    db = (t.app as unknown as { db: Database }).db
  })
  after(async () => t.close())

  async function lastHistoryState(id: string): Promise<Row> {
    const { items, total } = await db.read((m) => listHistory(m, 'test', { recordId: id, limit: 1, offset: 0 }))
    const last = total > 1 ? (await db.read((m) => listHistory(m, 'test', { recordId: id, limit: 1, offset: total - 1 }))).items[0] : items[0]
    return last.state
  }

  async function expectViewsAsRead(def: ResourceDef, results: (Row | Error)[]): Promise<void> {
    for (const result of results) {
      expect(result).not.to.be.instanceOf(Error)
      const view = result as Row
      const read = await db.read((m) => getView(m, 'test', def, view.id))
      expect(view).to.deep.equal(read)
      expect(JSON.stringify(view)).to.equal(JSON.stringify(read)) // same keys in the same order
      expect(await lastHistoryState(view.id)).to.deep.equal(read)
    }
  }

  it('creates records whose views and history are what getView reads', async () => {
    const activities = Object.values(f.activities)
    const items: StoreItem[] = activities.map((a) => {
      const id = randomUUID()
      return { id, dto: validateWrite(processingActivities, { ...processingActivities.toWrite(a), name: `${a.name} (copy)` }, id), existing: null }
    })
    const results = await db.write((m) => storeMany(m, who, processingActivities, items))
    expect(results).to.have.length(activities.length)
    await expectViewsAsRead(processingActivities, results)
  })

  it('updates records, keeping stored columns no body carries (who reviewed)', async () => {
    const activities = Object.values(f.activities)
    await markReviewed(db, { ...who, sub: 'reviewer' }, activities[0].id, {}, registerToday('Europe/Stockholm'))
    const items: StoreItem[] = []
    for (const a of activities) {
      const current = (await db.read((m) => getView(m, 'test', processingActivities, a.id)))!
      const existing = await db.read((m) => findRow(m, 'test', processingActivities, a.id))
      const body = { ...processingActivities.toWrite(current), description: 'changed in a batch', dataCategoryIds: current.dataCategories.map((c: Row) => c.id) }
      items.push({ id: a.id, dto: validateWrite(processingActivities, body, a.id), existing })
    }
    const results = await db.write((m) => storeMany(m, who, processingActivities, items))
    await expectViewsAsRead(processingActivities, results)
    expect((results[0] as Row).lastReviewedBy).to.equal('reviewer')
    expect((results[0] as Row).version).to.be.greaterThan(1)
  })

  it('stores organisations with embedded contacts as getView reads them', async () => {
    const items: StoreItem[] = Object.values(f.controllers).map((c) => {
      const id = randomUUID()
      return { id, dto: validateWrite(controllers, { ...controllers.toWrite(c), name: `${c.name} II` }, id), existing: null }
    })
    await expectViewsAsRead(controllers, await db.write((m) => storeMany(m, who, controllers, items)))
  })

  it('refuses an item with a missing reference and writes the others', async () => {
    const [a, b] = Object.values(f.activities)
    const good = randomUUID()
    const bad = randomUUID()
    const missing = randomUUID()
    const results = await db.write((m) => storeMany(m, who, processingActivities, [
      { id: good, dto: validateWrite(processingActivities, processingActivities.toWrite(a), good), existing: null },
      { id: bad, dto: validateWrite(processingActivities, { ...processingActivities.toWrite(b), recipientIds: [missing] }, bad), existing: null },
    ]))
    expect(results[0]).not.to.be.instanceOf(Error)
    expect(results[1]).to.be.instanceOf(ValidationFailed)
    expect((results[1] as ValidationFailed).details).to.deep.equal([{ field: 'recipientIds[0]', message: `no recipient category with id ${missing} in this workspace` }])
    expect(await db.read((m) => findRow(m, 'test', processingActivities, bad))).to.equal(null)
    await expectViewsAsRead(processingActivities, [results[0]])
  })
})
