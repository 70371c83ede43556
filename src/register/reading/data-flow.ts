import type { ElkExtendedEdge, ElkNode } from 'elkjs'
import { Database } from '../../db/database'
import { AppError } from '../../errors'
import { JsonSchema } from '../../schemas/json-schema'
import { catalogueLabel } from '../exchange/export-columns'
import { countryName, Lang, TERMS, transferDestination } from '../wording/wording'
import { isThirdCountry } from '../review/findings'
import { FlowLayout, flowLayout, LayoutRequest } from './flow-layout'
import { activityPages } from '../records/walk'

import type { ProcessingActivity, ProcessorRef, RecipientRef } from '../../generated/view-types'

/**
 * The register as a flow of personal data: categories of data subjects → processing activities →
 * recipients and processors → third countries, with the transfer mechanism on each transfer and
 * transfers without one marked. Read from the activity views (src/register/records/walk.ts), drawn as SVG
 * from the same graph with ELK's layered layout (one layer per kind, in that order).
 */

export type FlowNodeKind = 'data-subject-category' | 'processing-activity' | 'recipient' | 'processor' | 'third-country'
export type FlowLinkKind = 'data-subjects' | 'disclosure' | 'processing' | 'transfer'

export interface FlowNode {
  /** `<kind>:<record id>`, or `third-country:<ISO code>` */
  id: string
  kind: FlowNodeKind
  label: string
  /** The register record (absent for a country). */
  recordId?: string
  /** ISO 3166-1 code: a recipient's or processor's country, or the third country itself. */
  country?: string | null
  /** Processing activities: the controller (or, for an Art. 30(2) record, the processor organisation) and status. */
  controller?: string
  role?: 'controller' | 'processor'
  status?: string
}

export interface FlowLink {
  source: string
  target: string
  kind: FlowLinkKind
  /** Transfers: the Chapter V mechanism (code and label), null when none is recorded. */
  mechanism?: { code: string; label: string } | null
  /** Transfers: no mechanism recorded (Art. 44–49 need one). */
  missingMechanism?: boolean
  /** Transfers: false where a recipient or processor sits in a third country but no activity records the transfer. */
  recorded?: boolean
  /** The activities this link comes from. */
  activityIds: string[]
}

export interface DataFlow {
  nodes: FlowNode[]
  links: FlowLink[]
}

export interface DataFlowQuery {
  controllerId?: string
  status?: string
  lang: Lang
}

/** Column of each kind in the picture, left to right. */
const LAYER: Record<FlowNodeKind, number> = {
  'data-subject-category': 0, 'processing-activity': 1, recipient: 2, processor: 2, 'third-country': 3,
}

/** Builds the graph from activity views; nodes and links are kept once each however many activities share them. */
export class FlowBuilder {
  private readonly nodes = new Map<string, FlowNode>()
  private readonly links = new Map<string, FlowLink>()

  constructor(private readonly lang: Lang) {}

  private node(n: FlowNode): string {
    if (!this.nodes.has(n.id)) this.nodes.set(n.id, n)
    return n.id
  }

  private link(l: Omit<FlowLink, 'activityIds'>, ...activityIds: string[]): void {
    const key = [l.source, l.target, l.kind, l.mechanism?.code ?? ''].join('\u0000')
    const found = this.links.get(key) ?? { ...l, activityIds: [] }
    for (const id of activityIds) if (!found.activityIds.includes(id)) found.activityIds.push(id)
    this.links.set(key, found)
  }

  private party(kind: 'recipient' | 'processor', r: RecipientRef | ProcessorRef): string {
    return this.node({ id: `${kind}:${r.id}`, kind, label: r.name, recordId: r.id, country: r.country ?? null })
  }

  private country(code: string): string {
    return this.node({ id: `third-country:${code}`, kind: 'third-country', label: countryName(code, this.lang), country: code })
  }

  addActivities(activities: ProcessingActivity[]): void {
    for (const a of activities) {
      const activity = this.node({
        id: `processing-activity:${a.id}`, kind: 'processing-activity', label: a.name, recordId: a.id,
        controller: a.controller?.name, role: a.role, status: a.status,
      })
      for (const s of a.dataSubjectCategories ?? []) {
        const subject = this.node({ id: `data-subject-category:${s.id}`, kind: 'data-subject-category', label: s.name, recordId: s.id })
        this.link({ source: subject, target: activity, kind: 'data-subjects' }, a.id)
      }
      for (const r of a.recipients ?? []) this.link({ source: activity, target: this.party('recipient', r), kind: 'disclosure' }, a.id)
      for (const p of a.processors ?? []) this.link({ source: activity, target: this.party('processor', p), kind: 'processing' }, a.id)
      for (const t of a.transfers ?? []) {
        // A transfer names the recipient or processor that receives the data; without one, it leaves the activity.
        let from = activity
        if (t.recipient) {
          from = this.party('recipient', t.recipient)
          this.link({ source: activity, target: from, kind: 'disclosure' }, a.id)
        } else if (t.processor) {
          from = this.party('processor', t.processor)
          this.link({ source: activity, target: from, kind: 'processing' }, a.id)
        }
        const mechanism = t.mechanism ? { code: t.mechanism.code, label: catalogueLabel(t.mechanism, this.lang) } : null
        const destination = t.internationalOrganisation
          ? this.node({ id: `international-organisation:${t.internationalOrganisation}`, kind: 'third-country', label: transferDestination(t, this.lang) })
          : this.country(t.country ?? '')
        this.link({ source: from, target: destination, kind: 'transfer', mechanism, missingMechanism: !mechanism, recorded: true }, a.id)
      }
    }
  }

  finish(): DataFlow {
    // A recipient or processor in a third country with no transfer recorded from it: drawn, and marked.
    const transferring = new Set([...this.links.values()].filter((l) => l.kind === 'transfer').map((l) => l.source))
    for (const n of [...this.nodes.values()]) {
      if ((n.kind === 'recipient' || n.kind === 'processor') && isThirdCountry(n.country) && !transferring.has(n.id)) {
        const activityIds = [...this.links.values()].filter((l) => l.target === n.id).flatMap((l) => l.activityIds)
        this.link({ source: n.id, target: this.country(n.country), kind: 'transfer', mechanism: null, missingMechanism: true, recorded: false }, ...activityIds)
      }
    }
    const collator = new Intl.Collator(this.lang)
    const nodes = [...this.nodes.values()].sort((a, b) => LAYER[a.kind] - LAYER[b.kind] || collator.compare(a.label, b.label) || a.id.localeCompare(b.id))
    return { nodes, links: [...this.links.values()] }
  }
}

/** The flow of the activities in scope: a controller's (kept or joint), one status, or every activity that is not retired. */
export async function dataFlow(db: Database, ws: string, q: DataFlowQuery): Promise<DataFlow> {
  const builder = new FlowBuilder(q.lang)
  const series = await db.snapshot()
  try {
    for await (const page of activityPages(series, ws, { controllerId: q.controllerId, statuses: q.status ? [q.status] : ['draft', 'active'] })) {
      builder.addActivities(page)
    }
  } finally {
    await series.close()
  }
  return builder.finish()
}

// --- the picture -------------------------------------------------------------------------------

/**
 * Larger flows are refused as SVG (the JSON has no limit): the layout takes seconds beyond this,
 * and the picture is no longer legible on a page anyway.
 */
export const MAX_SVG_NODES = 250

const FONT_SIZE = 11
const LINE_HEIGHT = 14
/** Average advance of a character of an 11 px sans-serif font, for sizing boxes and labels. */
const CHAR_WIDTH = 6.2
const NODE_WIDTH = 190
const CHARS_PER_LINE = Math.floor((NODE_WIDTH - 16) / CHAR_WIDTH)
const HEADING_HEIGHT = 28
const LEGEND_HEIGHT = 56
const MARGIN = 12

const STYLE: Record<FlowNodeKind, { fill: string; stroke: string }> = {
  'data-subject-category': { fill: '#e8f1fb', stroke: '#4a7ab5' },
  'processing-activity': { fill: '#fff4e0', stroke: '#b07a12' },
  recipient: { fill: '#e9f6ea', stroke: '#3c8d40' },
  processor: { fill: '#f1eafa', stroke: '#7a52a8' },
  'third-country': { fill: '#fdeceb', stroke: '#b3261e' },
}
const MISSING = '#c62828'

const WORDS = {
  en: {
    title: TERMS.dataFlow.en, layers: ['Data subjects', 'Processing activities', 'Recipients and processors', 'Third countries'],
    recipient: 'Recipient', processor: TERMS.processor.en, noMechanism: 'no transfer mechanism', notRecorded: 'transfer not recorded',
    transfer: 'transfer with its mechanism', empty: TERMS.noActivitiesSelected.en,
  },
  sv: {
    title: TERMS.dataFlow.sv, layers: ['Registrerade', 'Behandlingar', 'Mottagare och biträden', 'Tredjeland'],
    recipient: 'Mottagare', processor: TERMS.processor.sv, noMechanism: 'ingen överföringsmekanism', notRecorded: 'överföring ej registrerad',
    transfer: 'överföring med mekanism', empty: TERMS.noActivitiesSelected.sv,
  },
}

/** Text for XML: markup characters escaped, characters XML 1.0 forbids left out. */
export function xmlText(s: string): string {
  return s
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '')
    .replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;')
}

/** Words to lines of at most `width` characters; a longer word is cut. At most `maxLines`, the last one ending in "…". */
export function wrap(text: string, width: number, maxLines = 4): string[] {
  const lines: string[] = []
  let line = ''
  for (let word of text.split(/\s+/).filter(Boolean)) {
    while (word.length > width) {
      if (line) { lines.push(line); line = '' }
      lines.push(word.slice(0, width - 1) + '-')
      word = word.slice(width - 1)
    }
    if (!line) line = word
    else if (line.length + 1 + word.length <= width) line += ' ' + word
    else { lines.push(line); line = word }
  }
  if (line) lines.push(line)
  if (lines.length > maxLines) {
    const kept = lines.slice(0, maxLines)
    kept[maxLines - 1] = kept[maxLines - 1].slice(0, width - 1) + '…'
    return kept
  }
  return lines.length ? lines : ['']
}

const nodeLines = (n: FlowNode, lang: Lang): string[] => {
  const lines = wrap(n.label, CHARS_PER_LINE)
  if (n.kind === 'recipient' || n.kind === 'processor') {
    lines.push(`${WORDS[lang][n.kind]}${n.country ? `, ${n.country}` : ''}`)
  }
  return lines
}

const transferLabel = (l: FlowLink, lang: Lang): string =>
  l.mechanism ? l.mechanism.code : l.recorded === false ? WORDS[lang].notRecorded : WORDS[lang].noMechanism

/**
 * Lays the flow out (ELK layered, left to right, one layer per kind) and draws it as a standalone SVG.
 * The layout runs in the layout pool (flow-layout.ts), so other requests go on meanwhile; `request` says
 * whose workspace's share it takes, and stops it when the client has gone away.
 */
export async function dataFlowSvg(flow: DataFlow, lang: Lang, request: LayoutRequest = { workspace: '' }, layout: FlowLayout = flowLayout): Promise<string> {
  if (flow.nodes.length > MAX_SVG_NODES) {
    throw new AppError(422, 'flow_too_large', `The flow has ${flow.nodes.length} nodes, more than the ${MAX_SVG_NODES} a picture can show legibly; choose a controllerId or a status, or ask for format=json`)
  }
  const words = WORDS[lang]
  const lines = new Map(flow.nodes.map((n) => [n.id, nodeLines(n, lang)]))
  const graph: ElkNode = {
    id: 'flow',
    layoutOptions: {
      'elk.algorithm': 'layered',
      'elk.direction': 'RIGHT',
      'elk.partitioning.activate': 'true',
      // one picture with four columns, not one per group of connected records
      'elk.separateConnectedComponents': 'false',
      'elk.layered.spacing.nodeNodeBetweenLayers': '90',
      'elk.spacing.nodeNode': '14',
      'elk.spacing.edgeLabel': '2',
      'elk.edgeRouting': 'ORTHOGONAL',
      'elk.edgeLabels.placement': 'CENTER',
    },
    children: flow.nodes.map((n) => ({
      id: n.id,
      width: NODE_WIDTH,
      height: lines.get(n.id)!.length * LINE_HEIGHT + 12,
      layoutOptions: { 'elk.partitioning.partition': String(LAYER[n.kind]) },
    })),
    edges: flow.links.map((l, i): ElkExtendedEdge => ({
      id: `link${i}`,
      sources: [l.source],
      targets: [l.target],
      labels: l.kind === 'transfer' ? [{ id: `label${i}`, text: transferLabel(l, lang), width: transferLabel(l, lang).length * CHAR_WIDTH * 0.9 + 6, height: LINE_HEIGHT }] : [],
    })),
  }
  const laid = await layout.layout(graph, request)
  const width = Math.max(4 * NODE_WIDTH + 3 * 90, laid.width ?? 0) + 2 * MARGIN
  const top = HEADING_HEIGHT + MARGIN
  const height = Math.max(laid.height ?? 0, LINE_HEIGHT * 3) + top + LEGEND_HEIGHT + MARGIN
  const at = (x: number, y: number): string => `${(x + MARGIN).toFixed(1)},${(y + top).toFixed(1)}`
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width.toFixed(0)} ${height.toFixed(0)}" width="${width.toFixed(0)}" height="${height.toFixed(0)}" role="img" aria-labelledby="flow-title" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="${FONT_SIZE}">`,
    `<title id="flow-title">${xmlText(words.title)}</title>`,
    '<defs>',
    '<marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker>',
    `<marker id="arrow-missing" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="${MISSING}"/></marker>`,
    '</defs>',
    `<rect x="0" y="0" width="${width.toFixed(0)}" height="${height.toFixed(0)}" fill="#ffffff"/>`,
  ]
  // column headings over the layers that have nodes
  const byId = new Map((laid.children ?? []).map((c) => [c.id, c]))
  for (let layer = 0; layer < words.layers.length; layer++) {
    const xs = flow.nodes.filter((n) => LAYER[n.kind] === layer).map((n) => byId.get(n.id)!.x ?? 0)
    if (!xs.length) continue
    out.push(`<text x="${(Math.min(...xs) + MARGIN).toFixed(1)}" y="${(MARGIN + 12).toFixed(1)}" font-weight="bold" font-size="12" fill="#222">${xmlText(words.layers[layer])}</text>`)
  }
  if (!flow.nodes.length) out.push(`<text x="${MARGIN}" y="${top + LINE_HEIGHT}" fill="#444">${xmlText(words.empty)}</text>`)
  // links under the nodes
  for (const [i, edge] of (laid.edges ?? []).entries()) {
    const link = flow.links[i]
    const missing = link.kind === 'transfer' && link.missingMechanism
    const colour = missing ? MISSING : link.kind === 'transfer' ? STYLE['third-country'].stroke : '#777'
    for (const s of edge.sections ?? []) {
      const points = [s.startPoint, ...(s.bendPoints ?? []), s.endPoint].map((p) => at(p.x, p.y)).join(' ')
      out.push(`<polyline points="${points}" fill="none" stroke="${colour}" stroke-width="${link.kind === 'transfer' ? 1.6 : 1}"${missing ? ' stroke-dasharray="5 3"' : ''} marker-end="url(#${missing ? 'arrow-missing' : 'arrow'})"/>`)
    }
    for (const label of edge.labels ?? []) {
      const x = (label.x ?? 0) + MARGIN
      const y = (label.y ?? 0) + top
      out.push(`<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${(label.width ?? 0).toFixed(1)}" height="${(label.height ?? 0).toFixed(1)}" fill="#ffffff" opacity="0.9"/>`)
      out.push(`<text x="${(x + 3).toFixed(1)}" y="${(y + 11).toFixed(1)}" font-size="10" fill="${missing ? MISSING : '#333'}"${missing ? ' font-weight="bold"' : ''}>${xmlText(label.text ?? '')}</text>`)
    }
  }
  for (const n of flow.nodes) {
    const box = byId.get(n.id)!
    const style = STYLE[n.kind]
    const x = (box.x ?? 0) + MARGIN
    const y = (box.y ?? 0) + top
    out.push(`<g data-node="${xmlText(n.id)}">`)
    out.push(`<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${NODE_WIDTH}" height="${(box.height ?? 0).toFixed(1)}" rx="4" fill="${style.fill}" stroke="${style.stroke}"/>`)
    // one <text> without whitespace between its lines, each line but the last ending in a space, so that the
    // label reads as one text (search, copy, screen readers) while drawn on several lines
    const text = lines.get(n.id)!
    const tspans = text.map((line, k) => {
      const sub = (n.kind === 'recipient' || n.kind === 'processor') && k === text.length - 1
      return `<tspan x="${(x + 8).toFixed(1)}" dy="${LINE_HEIGHT}"${sub ? ' font-size="9" fill="#555"' : ''}>${xmlText(line)}${k < text.length - 1 ? ' ' : ''}</tspan>`
    })
    out.push(`<text x="${(x + 8).toFixed(1)}" y="${(y + 6).toFixed(1)}" fill="#111">${tspans.join('')}</text>`, '</g>')
  }
  // legend
  const ly = height - LEGEND_HEIGHT + 8
  let lx = MARGIN
  for (const kind of ['data-subject-category', 'processing-activity', 'recipient', 'processor', 'third-country'] as FlowNodeKind[]) {
    const label = kind === 'recipient' ? words.recipient : kind === 'processor' ? words.processor : words.layers[LAYER[kind]]
    out.push(`<rect x="${lx}" y="${ly}" width="14" height="10" fill="${STYLE[kind].fill}" stroke="${STYLE[kind].stroke}"/>`)
    out.push(`<text x="${lx + 18}" y="${ly + 9}" font-size="10" fill="#333">${xmlText(label)}</text>`)
    lx += 18 + label.length * CHAR_WIDTH + 18
  }
  const ly2 = ly + 22
  out.push(`<line x1="${MARGIN}" y1="${ly2}" x2="${MARGIN + 30}" y2="${ly2}" stroke="${STYLE['third-country'].stroke}" stroke-width="1.6"/>`)
  out.push(`<text x="${MARGIN + 36}" y="${ly2 + 4}" font-size="10" fill="#333">${xmlText(words.transfer)}</text>`)
  const mx = MARGIN + 36 + words.transfer.length * CHAR_WIDTH + 24
  out.push(`<line x1="${mx}" y1="${ly2}" x2="${mx + 30}" y2="${ly2}" stroke="${MISSING}" stroke-width="1.6" stroke-dasharray="5 3"/>`)
  out.push(`<text x="${mx + 36}" y="${ly2 + 4}" font-size="10" fill="${MISSING}" font-weight="bold">${xmlText(`${words.noMechanism} / ${words.notRecorded}`)}</text>`)
  out.push('</svg>')
  return out.join('\n') + '\n'
}

// --- response schema ---------------------------------------------------------------------------

export function dataFlowSchema(): JsonSchema {
  return {
    type: 'object',
    description: 'The register as a flow: categories of data subjects → processing activities → recipients and processors → third countries',
    properties: {
      nodes: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            id: { type: 'string', description: '`<kind>:<record id>`, or `third-country:<ISO code>`', examples: ['third-country:US'] },
            kind: { type: 'string', enum: ['data-subject-category', 'processing-activity', 'recipient', 'processor', 'third-country'] },
            label: { type: 'string', description: 'The record\'s name; a country as its code and name in the chosen language' },
            recordId: { type: 'string', format: 'uuid' },
            country: { type: ['string', 'null'], description: 'ISO 3166-1 alpha-2' },
            controller: { type: 'string', description: 'Processing activities: the name of the controller (processor organisation for an Art. 30(2) record)' },
            role: { type: 'string', enum: ['controller', 'processor'] },
            status: { type: 'string', enum: ['draft', 'active', 'retired'] },
          },
          required: ['id', 'kind', 'label'],
          additionalProperties: false,
        },
      },
      links: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            source: { type: 'string', description: 'Node id' },
            target: { type: 'string', description: 'Node id' },
            kind: { type: 'string', enum: ['data-subjects', 'disclosure', 'processing', 'transfer'], description: 'data-subjects: whose data the activity processes; disclosure: to a recipient; processing: by a processor; transfer: to a third country' },
            mechanism: {
              type: ['object', 'null'],
              description: 'Transfers: the Chapter V mechanism, null when none is recorded',
              properties: { code: { type: 'string', examples: ['A46-2-c'] }, label: { type: 'string' } },
              required: ['code', 'label'],
              additionalProperties: false,
            },
            missingMechanism: { type: 'boolean', description: 'Transfers: no transfer mechanism recorded' },
            recorded: { type: 'boolean', description: 'Transfers: false for a recipient or processor in a third country whose transfer no activity records' },
            activityIds: { type: 'array', items: { type: 'string', format: 'uuid' }, description: 'The activities the link comes from' },
          },
          required: ['source', 'target', 'kind', 'activityIds'],
          additionalProperties: false,
        },
      },
    },
    required: ['nodes', 'links'],
    additionalProperties: false,
  }
}
