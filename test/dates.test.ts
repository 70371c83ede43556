import { expect } from 'chai'
import { ConfigError, loadConfig } from '../src/config'
import { registerDate, registerToday } from '../src/register/wording/dates'
import { CONTROLLER_COLUMNS } from '../src/register/exchange/export-columns'
import { exportFileName } from '../src/register/exchange/export'
import { registerFindings } from '../src/register/review/register-findings'
import { privacyNotice } from '../src/register/review/privacy-notice'
import { buildTestApp, TestApp } from './helper'
import type { ProcessingActivity } from '../src/generated/view-types'

// 00:30 on 15 March in Stockholm (CET, UTC+1), still 14 March in UTC
const AFTER_MIDNIGHT_WINTER = new Date('2026-03-14T23:30:00Z')
// 01:45 on 1 July in Stockholm (CEST, UTC+2), still 30 June in UTC
const AFTER_MIDNIGHT_SUMMER = new Date('2026-06-30T23:45:00Z')

describe('date-only values in the register\'s time zone', () => {
  it('REGISTER_TIMEZONE defaults to Europe/Stockholm, takes an IANA zone, and names itself when wrong', () => {
    expect(loadConfig({ NODE_ENV: 'test', JWT_SECRET: 'x'.repeat(40) }).registerTimeZone).to.equal('Europe/Stockholm')
    expect(loadConfig({ NODE_ENV: 'test', JWT_SECRET: 'x'.repeat(40), REGISTER_TIMEZONE: 'Europe/Helsinki' }).registerTimeZone).to.equal('Europe/Helsinki')
    expect(() => loadConfig({ NODE_ENV: 'test', JWT_SECRET: 'x'.repeat(40), REGISTER_TIMEZONE: 'Europe/Östersund' })).to.throw(ConfigError, /REGISTER_TIMEZONE/)
  })

  it('dates work done between 00:00 and 02:00 in Stockholm that day, not the UTC day before', () => {
    expect(registerDate(AFTER_MIDNIGHT_WINTER, 'Europe/Stockholm')).to.equal('2026-03-15')
    expect(registerDate(AFTER_MIDNIGHT_SUMMER, 'Europe/Stockholm')).to.equal('2026-07-01')
    expect(registerDate(AFTER_MIDNIGHT_WINTER, 'UTC')).to.equal('2026-03-14')
    expect(registerToday('Europe/Stockholm', AFTER_MIDNIGHT_SUMMER)).to.equal('2026-07-01')
  })

  it('names export files and fills "Last changed" with the Stockholm date', () => {
    const q = { format: 'csv', record: 'controller', lang: 'sv' } as const
    expect(exportFileName(q, AFTER_MIDNIGHT_WINTER, 'Europe/Stockholm')).to.equal('registerforteckning-2026-03-15.csv')
    expect(exportFileName({ ...q, lang: 'en', format: 'json' }, AFTER_MIDNIGHT_SUMMER, 'Europe/Stockholm')).to.equal('register-of-processing-activities-2026-07-01.json')
    const lastChanged = CONTROLLER_COLUMNS.find((c) => c.en === 'Last changed')!
    const cell = (timeZone: string) => lastChanged.cell({
      lang: 'sv', timeZone, activity: { updatedAt: AFTER_MIDNIGHT_WINTER.toISOString() } as ProcessingActivity, controller: () => null, processor: () => null,
    })
    expect(cell('Europe/Stockholm')).to.equal('2026-03-15')
    expect(cell('UTC')).to.equal('2026-03-14')
  })

  describe('in the notice and the findings', () => {
    let t: TestApp
    let controllerId: string
    before(async () => {
      t = await buildTestApp()
      const editor = await t.auth('editor')
      const c = await t.http.post('/api/v1/controllers').set('authorization', editor).send({ name: 'Wellnesskliniken i Östersund AB', email: 'info@wellness.se' }).expect(201)
      controllerId = c.body.id
      // due on 14 March: overdue from 00:00 on 15 March in Stockholm
      await t.http.post('/api/v1/processing-activities').set('authorization', editor).send({
        name: 'Tidsbokning', role: 'controller', controllerId, lastReviewedAt: '2025-03-14', nextReviewAt: '2026-03-14',
      }).expect(201)
    })
    after(async () => t.close())

    it('dates the privacy notice in Stockholm', async () => {
      const notice = await privacyNotice(t.app.db, 'test', controllerId, 'sv', 'markdown', AFTER_MIDNIGHT_WINTER, t.config.registerTimeZone)
      expect(notice.body).to.contain('2026-03-15')
      expect(notice.body).to.not.contain('2026-03-14')
    })

    it('finds a review overdue from Stockholm midnight', async () => {
      const rules = async (at: Date, zone: string) => (await registerFindings(t.app.db, 'test', { rule: 'review-overdue' }, at, zone)).items.map((f) => f.record.name)
      expect(await rules(AFTER_MIDNIGHT_WINTER, t.config.registerTimeZone)).to.deep.equal(['Tidsbokning'])
      expect(await rules(AFTER_MIDNIGHT_WINTER, 'UTC')).to.deep.equal([])
    })
  })
})
