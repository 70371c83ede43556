import { FastifyInstance } from 'fastify'
import { checkControllerFilter } from '../../src/register/records/walk'
import { FindingsQuery, RULES, RULE_IDS, SEVERITIES } from '../../src/register/review/findings'
import { registerFindings } from '../../src/register/review/register-findings'
import { errorResponses, json, longAnswerResponses } from '../crud'
import { PageQuery, pageParams } from '../../src/schemas/paging'

const querystring = {
  type: 'object',
  additionalProperties: false,
  properties: {
    controllerId: { type: 'string', format: 'uuid', description: 'Only the part of the register of this controller: the activities it keeps or is a joint controller of, and the records they use' },
    severity: { type: 'string', enum: SEVERITIES, description: 'Only findings of this severity' },
    rule: { type: 'string', enum: RULE_IDS, description: 'Only findings of this rule' },
    // paged as every list; a page holds the whole of most registers' findings unless asked for less
    limit: { ...pageParams.limit, default: 500 },
    offset: pageParams.offset,
  },
} as const

const ruleTable = [
  '| rule | severity | article | finds |',
  '|--|--|--|--|',
  ...RULES.map((r) => `| \`${r.id}\` | ${r.severity} | ${r.article} | ${r.summary} |`),
].join('\n')

/** Accountability: what the register lacks, rule by rule, each with the article it rests on. */
export default async function findingsRoutes(app: FastifyInstance): Promise<void> {
  app.get<{ Querystring: FindingsQuery & PageQuery }>('/api/v1/register/findings', {
    config: { auth: 'reader' },
    schema: {
      summary: 'Check the register: findings per rule, with the article each rests on',
      description: [
        'What the register still lacks before it would satisfy an authority, most serious first. Try `severity=high` for what to',
        'fix first, or `controllerId=…` for one organisation.',
        '',
        'Checks every processing activity that is not retired, and the controllers, joint controllers, processors and',
        'data categories those activities use. Each finding names its rule, severity, article, the record and field concerned,',
        'and says what is missing in English and Swedish. Most severe first, paged as every list (`limit`, default 500, and',
        '`offset`); `total` and `counts` count the findings of all pages.',
        '',
        ruleTable,
      ].join('\n'),
      tags: ['Register'],
      security: [{ bearerAuth: [] }],
      operationId: 'listFindings',
      querystring,
      response: { 200: json('The findings', 'FindingList'), ...errorResponses(), ...longAnswerResponses() },
    },
  }, async (request) => {
    const { ws } = request.principal
    const { limit, offset, ...query } = request.query
    await checkControllerFilter(app.db, ws, query.controllerId)
    const all = await registerFindings(app.db, ws, query, new Date(), app.config.registerTimeZone)
    return { ...all, items: all.items.slice(offset, offset + limit), limit, offset }
  })
}
