import type { DataFlow, FlowLink, FlowNode } from '../src/register/reading/data-flow'

/** A densely linked flow that takes ELK a second or more: 30 data subjects → 60 activities → 30 recipients. */
export function largeFlow(): DataFlow {
  const nodes: FlowNode[] = []
  const links: FlowLink[] = []
  for (let i = 0; i < 30; i++) nodes.push({ id: `data-subject-category:${i}`, kind: 'data-subject-category', label: `Data subjects ${i}` })
  for (let i = 0; i < 60; i++) nodes.push({ id: `processing-activity:${i}`, kind: 'processing-activity', label: `Activity number ${i} of the large register` })
  for (let i = 0; i < 30; i++) nodes.push({ id: `recipient:${i}`, kind: 'recipient', label: `Recipient ${i}`, country: 'SE' })
  for (let i = 0; i < 60; i++) {
    for (const k of [0, 7, 23]) links.push({ source: `data-subject-category:${(i + k) % 30}`, target: `processing-activity:${i}`, kind: 'data-subjects', activityIds: [] })
    for (const k of [0, 11, 31]) links.push({ source: `processing-activity:${i}`, target: `recipient:${(i * 3 + k) % 30}`, kind: 'disclosure', activityIds: [] })
  }
  return { nodes, links }
}

/** A flow of one node, drawn at once. */
export const smallFlow = (label: string): DataFlow => ({ nodes: [{ id: 'data-subject-category:1', kind: 'data-subject-category', label }], links: [] })
