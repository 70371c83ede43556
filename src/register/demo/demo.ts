import { v5 as uuidv5 } from 'uuid'
import { Database } from '../../db/database'
import demoDocument from './register.json'
import { SECTIONS } from '../exchange/export-document'
import { importRegister } from '../exchange/import'
import type { Principal } from '../../auth/principal'
import { openWorkspace } from '../records/workspaces'

/**
 * The demo register: what the five Swedish privacy policies in docs/seeds/ say, kept as an
 * export document (demo/register.json, the shape GET /api/v1/register/export?format=json gives
 * and POST /api/v1/register/import takes). Only what a policy states is recorded, in its own
 * words; where a policy is silent the field stays empty, so that the gap shows.
 * docs/demo-register.md lists what went where, every judgement and every gap kept.
 */

export const DEMO_WORKSPACE = 'demo'

/**
 * The id of a demo record by its key (`haltea.data.personnummer`): the name-based UUID (version 5)
 * the record was given when the demo was written, in a namespace of its own (not the catalogue's).
 * The document holds the ids; keys are how docs/demo-register.md, the tests and the API examples
 * name records.
 */
const DEMO_NAMESPACE = '0b7c3f5e-2a9d-4e8b-9c1f-6a3d5e7b2c40'
export const demoId = (key: string): string => uuidv5(key, DEMO_NAMESPACE)

/** A record of the document: an API view (see src/register/records/view-schemas.ts). */
export interface DemoRecord {
  id: string
  name: string
  [field: string]: unknown
}

export type DemoDocument = Record<string, unknown> & {
  controllers: DemoRecord[]
  processors: DemoRecord[]
  purposes: DemoRecord[]
  legalBases: DemoRecord[]
  dataSubjectCategories: DemoRecord[]
  dataCategories: DemoRecord[]
  recipients: DemoRecord[]
  retentionRules: DemoRecord[]
  securityMeasures: DemoRecord[]
  processingActivities: DemoRecord[]
}

/**
 * The whole demo register, records in the order the policies are numbered. Its legal-basis list
 * is empty on purpose: the activities refer to built-in legal bases, which every workspace has
 * under the same ids, and loading the demo must not touch a workspace's catalogue.
 */
export const DEMO = demoDocument as unknown as DemoDocument

export interface DemoLoadResult {
  /** Per kind of record the document holds: how many the import created, updated (they had changed) and left as they were. */
  counts: { type: string; titlePlural: string; created: number; updated: number; unchanged: number }[]
  controllers: { id: string; name: string }[]
}

/**
 * Loads the demo register into the principal's workspace through the import (one transaction,
 * the same validation as every import): each record is created under its id, or updated when it
 * is there but differs; a record that already says what the demo says is left alone, so loading
 * again changes nothing, not even versions. Other records are not touched.
 */
export async function loadDemo(db: Database, who: Principal, document: DemoDocument = DEMO): Promise<DemoLoadResult> {
  await openWorkspace(db, who.ws, true)
  const imported = await importRegister(db, who, document, false)
  return {
    counts: SECTIONS.filter((s) => (document[s.key] as unknown[]).length > 0).map((s) => ({
      type: s.def.type, titlePlural: s.def.titlePlural,
      created: imported.created[s.key], updated: imported.updated[s.key], unchanged: imported.unchanged[s.key],
    })),
    controllers: document.controllers.map((c) => ({ id: c.id, name: c.name })),
  }
}
