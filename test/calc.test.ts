import { expect } from 'chai'
import { buildTestApp, TestApp } from './helper'
import { openInCalc } from './libreoffice'
import { needTool, SOFFICE_TOOL } from './tools'
import { loadDemo } from '../src/register/demo/demo'

/**
 * The CSV a supervisory authority receives, opened the way it will be opened: in LibreOffice Calc
 * (Debian's libreoffice-calc-nogui), with the import settings a person picks for the file
 * (separator, ", UTF-8). Calc saves what it read as a workbook, and an independent reader
 * (exceljs) counts its rows and reads its cells. Our own CSV parser agreed with a file that Calc
 * split into extra rows wherever a description held a line break.
 */
describe('CSV export opened in LibreOffice Calc', function () {
  this.timeout(180000)
  const WS = 'demo'
  let t: TestApp
  let activities: { name: string; description: string | null }[]

  // CI installs LibreOffice (.ci/run) and must run this; elsewhere it is pending without it
  before(function () { needTool(this, SOFFICE_TOOL) })
  before(async () => {
    t = await buildTestApp()
    await loadDemo(t.app.db, { sub: 'demo-loader', role: 'admin', ws: WS })
    const doc = await t.http.get('/api/v1/register/export?format=json').set('authorization', await t.auth('reader', WS))
    expect(doc.status).to.equal(200)
    activities = doc.body.processingActivities
    // the point of the test: the demo holds descriptions with line breaks
    expect(activities.filter((a) => /\n/.test(a.description ?? '')).length).to.be.greaterThan(1)
  })
  after(async () => {
    await t?.close()
  })

  for (const lang of ['en', 'sv'] as const) {
    for (const delimiter of ['comma', 'semicolon'] as const) {
      it(`opens the demo's ${lang} export (${delimiter}) as one row per activity, line breaks inside their cells`, async () => {
        const res = await t.http.get(`/api/v1/register/export?format=csv&lang=${lang}&delimiter=${delimiter}`)
          .set('authorization', await t.auth('reader', WS))
          .buffer(true).parse((r, cb) => {
            const chunks: Buffer[] = []
            r.on('data', (c: Buffer) => chunks.push(c))
            r.on('end', () => cb(null, Buffer.concat(chunks)))
          })
        expect(res.status).to.equal(200)
        const rows = await openInCalc(res.body as Buffer, delimiter === 'comma' ? ',' : ';')

        expect(rows.length, 'rows: the header and one per activity').to.equal(1 + activities.length)
        const header = rows[0]
        expect(header).to.have.length(30)
        expect(header[0]).to.equal(lang === 'sv' ? 'Personuppgiftsansvarig' : 'Controller')
        const nameAt = header.indexOf(lang === 'sv' ? 'Behandling' : 'Processing activity')
        const descriptionAt = header.indexOf(lang === 'sv' ? 'Beskrivning' : 'Description')
        for (const [i, row] of rows.slice(1).entries()) {
          expect(row.length, `row ${i + 2} has no more cells than the header`).to.be.at.most(30)
          expect(row[nameAt], `row ${i + 2}`).to.equal(activities[i].name)
          expect(row[descriptionAt] ?? '', `row ${i + 2}`).to.equal(activities[i].description ?? '')
        }
      })
    }
  }
})
