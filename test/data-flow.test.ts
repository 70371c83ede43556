import { expect } from 'chai'
import { buildTestApp, TestApp } from './helper'
import { buildRegister, Fixture } from './export-fixture'
import { DemoLoadResult, loadDemo } from '../src/register/demo/demo'
import { DataFlow, dataFlowSvg, FlowNode, MAX_SVG_NODES } from '../src/register/reading/data-flow'
import { largeFlow, smallFlow } from './flows'
import { FlowLayout, flowLayout } from '../src/register/reading/flow-layout'

type Row = Record<string, any>

/** The register as a data flow, checked against the activities read through the API, on the demo register and the export fixture. */
describe('register data flow (JSON and SVG)', function () {
  this.timeout(120_000)
  let t: TestApp
  let demo: DemoLoadResult
  let f: Fixture

  before(async () => {
    t = await buildTestApp()
    demo = await loadDemo(t.app.db, { sub: 'demo-loader', role: 'admin', ws: 'demo' })
    f = await buildRegister(t)
  })
  after(async () => t?.close())

  /** A reader's Authorization header in each workspace the tests read, signed once. */
  const readers: Record<string, string> = {}
  before(async () => { for (const ws of ['demo', 'test', 'markup']) readers[ws] = await t.auth('reader', ws) })
  const get = (path: string, ws = 'demo') => t.http.get(`/api/v1/${path}`).set('authorization', readers[ws])
  const svgOf = async (query: string, ws = 'demo'): Promise<string> => {
    const res = await get(`register/data-flow?format=svg&${query}`, ws).buffer(true).parse((r, cb) => {
      let s = ''
      r.setEncoding('utf8')
      r.on('data', (c: string) => { s += c })
      r.on('end', () => cb(null, s))
    })
    expect(res.status, String(res.body)).to.equal(200)
    expect(res.headers['content-type']).to.equal('image/svg+xml; charset=utf-8')
    return res.body as string
  }
  const unescape = (s: string): string => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, '\'').replace(/&amp;/g, '&')

  /** The text drawn in each node's box, by node id (lines joined; a recipient's or processor's kind line left out). */
  function drawnLabels(svg: string, nodes: FlowNode[]): Map<string, string> {
    const kinds = new Map(nodes.map((n) => [n.id, n.kind]))
    const out = new Map<string, string>()
    for (const m of svg.matchAll(/<g data-node="([^"]+)">([\s\S]*?)<\/g>/g)) {
      const id = unescape(m[1])
      const lines = [...m[2].matchAll(/<tspan[^>]*>([^<]*)<\/tspan>/g)].map((l) => unescape(l[1]))
      if (kinds.get(id) === 'recipient' || kinds.get(id) === 'processor') lines.pop()
      out.set(id, lines.join(' '))
    }
    return out
  }

  it('draws every seed controller\'s flow: its activities, their data subjects, recipients, processors and transfers', async () => {
    const activities = (await get('processing-activities?limit=500').expect(200)).body.items as Row[]
    expect(demo.controllers).to.have.length(6)
    for (const c of demo.controllers) {
      const res = await get(`register/data-flow?controllerId=${c.id}&lang=sv`).expect(200)
      const flow = res.body as DataFlow
      const mine = activities.filter((a) => a.status !== 'retired' && (a.controller.id === c.id || a.jointControllers.some((j: Row) => j.id === c.id)))
      expect(mine.length, c.name).to.be.greaterThan(0)
      const ids = (kind: string) => flow.nodes.filter((n) => n.kind === kind).map((n) => n.recordId).sort()
      const unique = (xs: string[]) => [...new Set(xs)].sort()
      expect(ids('processing-activity'), c.name).to.deep.equal(unique(mine.map((a) => a.id)))
      expect(ids('data-subject-category'), c.name).to.deep.equal(unique(mine.flatMap((a) => a.dataSubjectCategories.map((s: Row) => s.id))))
      expect(ids('recipient'), c.name).to.deep.equal(unique(mine.flatMap((a) => [...a.recipients, ...a.transfers.map((x: Row) => x.recipient).filter(Boolean)].map((r: Row) => r.id))))
      expect(ids('processor'), c.name).to.deep.equal(unique(mine.flatMap((a) => [...a.processors, ...a.transfers.map((x: Row) => x.processor).filter(Boolean)].map((p: Row) => p.id))))
      const has = (source: string, target: string, kind: string) => flow.links.some((l) => l.source === source && l.target === target && l.kind === kind)
      for (const a of mine) {
        for (const s of a.dataSubjectCategories) expect(has(`data-subject-category:${s.id}`, `processing-activity:${a.id}`, 'data-subjects'), `${a.name} ← ${s.name}`).to.equal(true)
        for (const r of a.recipients) expect(has(`processing-activity:${a.id}`, `recipient:${r.id}`, 'disclosure'), `${a.name} → ${r.name}`).to.equal(true)
        for (const p of a.processors) expect(has(`processing-activity:${a.id}`, `processor:${p.id}`, 'processing'), `${a.name} → ${p.name}`).to.equal(true)
      }
      // every link joins two nodes of the flow
      const nodeIds = new Set(flow.nodes.map((n) => n.id))
      for (const l of flow.links) expect(nodeIds.has(l.source) && nodeIds.has(l.target), JSON.stringify(l)).to.equal(true)

      const svg = await svgOf(`controllerId=${c.id}&lang=sv`)
      expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).to.equal(true)
      const drawn = drawnLabels(svg, flow.nodes)
      expect([...drawn.keys()].sort(), c.name).to.deep.equal([...nodeIds].sort())
      // lines wrap at spaces; a word longer than a line is split with a hyphen; after four lines the label is cut with an ellipsis
      const squash = (x: string): string => x.replace(/[\s-]/g, '')
      for (const n of flow.nodes) {
        const text = drawn.get(n.id)!
        if (text.endsWith('…')) expect(squash(n.label).startsWith(squash(text.slice(0, -1))), n.id).to.equal(true)
        else expect(squash(text), n.id).to.equal(squash(n.label))
      }
      const width = Number(/viewBox="0 0 (\d+) (\d+)"/.exec(svg)![1])
      expect(width, 'four columns fit the width of a landscape A4 page at 96 dpi, give or take').to.be.within(900, 1400)
    }
  })

  it('marks HALTEA\'s transfer to Google in the US, which has no transfer mechanism', async () => {
    const haltea = demo.controllers.find((c) => c.name === 'HALTEA AB')!
    const flow = (await get(`register/data-flow?controllerId=${haltea.id}&lang=sv`).expect(200)).body as DataFlow
    const google = flow.nodes.find((n) => n.label === 'Google')!
    const transfer = flow.links.find((l) => l.kind === 'transfer')!
    expect(transfer).to.include({ source: google.id, target: 'third-country:US', missingMechanism: true, recorded: true })
    expect(transfer.mechanism).to.equal(null)
    expect(flow.nodes.find((n) => n.id === 'third-country:US')!.label).to.equal('USA (US)')
    const svg = await svgOf(`controllerId=${haltea.id}&lang=sv`)
    expect(svg).to.contain('stroke-dasharray').and.to.contain('>ingen överföringsmekanism</text>')
  })

  it('puts the mechanism on a transfer link, and marks a third-country recipient whose transfer is not recorded', async () => {
    const flow = (await get('register/data-flow?lang=en', 'test').expect(200)).body as DataFlow
    const google = `processor:${f.processors.google.id}`
    const transfers = flow.links.filter((l) => l.kind === 'transfer')
    expect(transfers.find((l) => l.source === google && l.mechanism?.code === 'A46-2-c')).to.deep.include({
      target: 'third-country:US', missingMechanism: false, recorded: true, activityIds: [f.activities.records.id],
    })
    expect(transfers.find((l) => l.source === google && l.mechanism?.code === 'A45-3')!.activityIds).to.deep.equal([f.activities.hosting.id])
    const analytics = transfers.find((l) => l.source === `recipient:${flow.nodes.find((n) => n.label === 'Google Analytics')!.recordId}`)!
    expect(analytics).to.deep.include({ target: 'third-country:US', mechanism: null, missingMechanism: true, recorded: false })
    expect(flow.nodes.find((n) => n.id === 'third-country:US')!.label).to.equal('United States of America (US)')
    // status filters the activities; retired ones are left out unless asked for
    const drafts = (await get('register/data-flow?status=draft', 'test').expect(200)).body as DataFlow
    expect(drafts.nodes.filter((n) => n.kind === 'processing-activity').map((n) => n.label)).to.deep.equal(['Nyhetsbrev'])
    const svg = await svgOf('lang=en', 'test')
    expect(svg).to.contain('>A46-2-c</text>').and.to.contain('>A45-3</text>').and.to.contain('>transfer not recorded</text>')
  })

  it('escapes register text in the SVG', async () => {
    const editor = await t.auth('editor', 'markup')
    const c = await t.http.post('/api/v1/controllers').set('authorization', editor).send({ name: 'Evil & <Co>' }).expect(201)
    const s = await t.http.post('/api/v1/data-subject-categories').set('authorization', editor).send({ name: '"><script>alert(1)</script>' }).expect(201)
    await t.http.post('/api/v1/processing-activities').set('authorization', editor)
      .send({ name: 'A <b>bold</b> & \'quoted\' activity', role: 'controller', controllerId: c.body.id, dataSubjectCategoryIds: [s.body.id] }).expect(201)
    const flow = (await get('register/data-flow', 'markup').expect(200)).body as DataFlow
    expect(flow.nodes.map((n) => n.label).sort()).to.deep.equal(['"><script>alert(1)</script>', 'A <b>bold</b> & \'quoted\' activity'])
    const svg = await svgOf('', 'markup')
    expect(svg).to.not.contain('<script').and.to.not.contain('<b>')
    expect(svg).to.contain('&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;').and.to.contain('A &lt;b&gt;bold&lt;/b&gt; &amp; &#39;quoted&#39;')
  })

  it('answers bad parameters with 400 naming them', async () => {
    for (const [query, field] of [['format=png', 'format'], ['lang=de', 'lang'], ['status=gone', 'status'], ['controllerId=nope', 'controllerId'],
      ['controllerId=00000000-0000-4000-8000-000000000000', 'controllerId'], ['extra=1', 'extra']]) {
      const res = await get(`register/data-flow?${query}`)
      expect(res.status, query).to.equal(400)
      expect(JSON.stringify(res.body.details), query).to.contain(field)
    }
  })

  it(`refuses to draw more than ${MAX_SVG_NODES} nodes, with a 422 that says how to narrow it`, async () => {
    const nodes: FlowNode[] = Array.from({ length: MAX_SVG_NODES + 1 }, (_, i) => ({ id: `data-subject-category:${i}`, kind: 'data-subject-category', label: `S${i}` }))
    let error: any
    try {
      await dataFlowSvg({ nodes, links: [] }, 'en')
    } catch (err) {
      error = err
    }
    expect(error).to.include({ statusCode: 422, code: 'flow_too_large' })
    expect(error.message).to.contain('controllerId')
  })

  describe('the layout runs off the event loop', () => {
    const small = smallFlow

    it('answers GET /health while the whole demo register is drawn as SVG', async () => {
      let drawn = false
      const svg = get('register/data-flow?format=svg').buffer(true).then((res) => { drawn = true; return res })
      // wait until the layout is under way in the worker
      while (!flowLayout.busy && !drawn) await new Promise((resolve) => setTimeout(resolve, 5))
      expect(drawn, 'the layout took long enough to be seen under way').to.equal(false)
      const answered: boolean[] = []
      for (let i = 0; i < 3; i++) {
        await t.http.get('/health').expect(200)
        answered.push(!drawn)
      }
      expect(answered, 'health answered while the picture was still being drawn').to.deep.equal([true, true, true])
      const res = await svg
      expect(res.status).to.equal(200)
      expect(String(res.body)).to.contain('</svg>')
    })

    it('keeps the event loop turning while a large flow is laid out', async () => {
      let ticks = 0
      let longestGapMs = 0
      let last = performance.now()
      const timer = setInterval(() => {
        const now = performance.now()
        longestGapMs = Math.max(longestGapMs, now - last)
        last = now
        ticks++
      }, 10)
      const started = performance.now()
      try {
        const svg = await dataFlowSvg(largeFlow(), 'en')
        expect(svg).to.contain('data-node="recipient:29"')
      } finally {
        clearInterval(timer)
      }
      const tookMs = performance.now() - started
      // the worker does the layout: the timer kept firing throughout (on the event loop the layout would stall it for the whole time)
      expect(ticks, `${ticks} ticks in ${tookMs.toFixed(0)} ms, longest gap ${longestGapMs.toFixed(0)} ms`).to.be.greaterThan(tookMs / 10 / 4)
      expect(longestGapMs).to.be.lessThan(Math.max(tookMs / 2, 100))
    })

    it('answers a layout that takes too long with a 503 naming the way out, and draws again afterwards', async () => {
      const layout = new FlowLayout({ timeoutMs: 20, perWorkspace: 1, threads: 1 })
      try {
        let error: any
        await dataFlowSvg(largeFlow(), 'en', { workspace: 'a' }, layout).catch((err) => { error = err })
        expect(error).to.include({ statusCode: 503, code: 'layout_timeout' })
        expect(error.retryAfterSeconds).to.be.within(1, 60)
        expect(error.message).to.contain('format=json')
        // a new worker takes the next layout
        layout.options.timeoutMs = 60_000
        const svg = await dataFlowSvg(small('Customers'), 'en', { workspace: 'a' }, layout)
        expect(svg).to.contain('>Customers</tspan>')
      } finally {
        await layout.close()
      }
    })

    it('refuses more layouts than a workspace may have with a 503, and draws the ones it took and another workspace\'s', async () => {
      const layout = new FlowLayout({ timeoutMs: 60_000, perWorkspace: 2, threads: 1 })
      try {
        // the first goes to the worker at once, the second waits, the third finds the workspace's share full; another workspace's is taken
        const a = { workspace: 'a' }
        const results = await Promise.allSettled([dataFlowSvg(small('First'), 'en', a, layout), dataFlowSvg(small('Second'), 'en', a, layout), dataFlowSvg(small('Third'), 'en', a, layout),
          dataFlowSvg(small('Other'), 'en', { workspace: 'b' }, layout)])
        expect(results.map((r) => r.status)).to.deep.equal(['fulfilled', 'fulfilled', 'rejected', 'fulfilled'])
        expect((results[1] as PromiseFulfilledResult<string>).value).to.contain('>Second</tspan>')
        expect((results[3] as PromiseFulfilledResult<string>).value).to.contain('>Other</tspan>')
        expect((results[2] as PromiseRejectedResult).reason).to.include({ statusCode: 503, code: 'layout_busy' })
      } finally {
        await layout.close()
      }
    })

    it('answers the API request with the one error shape when the layout times out', async () => {
      const before = flowLayout.options.timeoutMs
      flowLayout.options.timeoutMs = 1
      try {
        const res = await get('register/data-flow?format=svg')
        expect(res.status).to.equal(503)
        expect(res.body).to.include({ statusCode: 503, code: 'layout_timeout' })
        expect(Number(res.headers['retry-after'])).to.be.within(1, 60)
        expect(res.body.message).to.contain('controllerId')
        expect(res.body.requestId).to.be.a('string')
      } finally {
        flowLayout.options.timeoutMs = before
      }
      // and draws again at the usual timeout
      expect(await svgOf('lang=en', 'test')).to.contain('</svg>')
    })
  })
})
