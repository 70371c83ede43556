import { FastifyInstance } from 'fastify'
import { ACTIVITY_STATUSES } from '../../src/register/records/catalogue'
import { exportDocumentSchema } from '../../src/register/exchange/export-document'
import { asOfInstant, checkExportQuery, exportFrom } from '../../src/register/exchange/export'
import type { ExportQuery } from '../../src/register/exchange/export-document'
import { errorResponses, longAnswerResponses } from '../crud'
import { registerAt } from '../../src/register/accountability/history'
import { liveRegister } from '../../src/register/records/walk'
import { XLSX_CONTENT_TYPE } from '../../src/register/exchange/xlsx'
import { exportVersion } from '../../src/register/accountability/version-files'
import { ValidationFailed } from '../../src/errors'

const querystring = {
  type: 'object',
  additionalProperties: false,
  properties: {
    format: { type: 'string', enum: ['json', 'csv', 'xlsx'], default: 'json', description: 'json: the versioned export document (import takes it back); csv: one row per processing activity, for people and spreadsheets; xlsx: an Excel workbook with both records, the controllers and the open findings' },
    record: { type: 'string', enum: ['controller', 'processor'], description: 'controller (the default): the Art. 30(1) record (activities with role controller); processor: the Art. 30(2) record (role processor, one CSV row per client controller). An xlsx workbook holds both' },
    controllerId: { type: 'string', format: 'uuid', description: 'Only this controller\'s record; default: every controller in the workspace' },
    status: { type: 'string', enum: [...ACTIVITY_STATUSES], description: 'Only activities with this status' },
    lang: { type: 'string', enum: ['en', 'sv'], default: 'en', description: 'CSV and xlsx: language of the sheet names, headers and catalogue labels' },
    delimiter: { type: 'string', enum: ['comma', 'semicolon'], description: 'CSV: field delimiter; default: semicolon for lang=sv (as Excel with Swedish settings expects), comma for lang=en' },
    // the strict date-time format (src/schemas/formats.ts) refuses a leap second or 30 February with an example, as every other moment parameter
    asOf: {
      type: 'string', format: 'date-time', maxLength: 64, // no example value: Swagger UI would fill it in, and every export from it would be of that moment
      description: 'The register as it stood at this moment, read from the change history: an existing date and time with a time zone (ISO 8601 / RFC 3339 date-time, without leap seconds), e.g. 2026-06-30T23:59:59.999Z or 2026-07-01T01:59:59+02:00',
    },
    version: {
      type: 'string', pattern: '^([1-9][0-9]{0,8}|approved)$',
      description: 'A frozen register version (its number, or `approved`: the latest approved one), the same bytes on every download. JSON: the version\'s document of the whole register, whose SHA-256 is its contentHash (record, controllerId and status apply to CSV only)',
    },
  },
} as const

/** The register as a file: the JSON export document or an Art. 30 CSV, streamed as it is read. */
export default async function exportRoutes(app: FastifyInstance): Promise<void> {
  app.get<{ Querystring: Partial<ExportQuery> & { version?: string } }>('/api/v1/register/export', {
    config: { auth: 'reader', expensive: true },
    schema: {
      summary: 'Export the register (JSON, CSV or an Excel workbook)',
      description: [
        'The file to hand a supervisory authority (IMY) when it asks for the register (Art. 30(4)). Try:',
        '`format=csv&lang=sv` for the Swedish Art. 30(1) record to open in Excel or LibreOffice Calc (the "Download file" link saves it);',
        '`record=processor` for the Art. 30(2) record of processing done for clients; `format=json` for a full backup that import takes back.',
        '',
        'The register of processing activities as a supervisory authority asks for it (Art. 30(4)), streamed.',
        'CSV: UTF-8 with a byte-order mark, RFC 4180 quoting, headers in English or Swedish, columns in the order of',
        'Art. 30(1)(a)–(g) (or Art. 30(2) for record=processor); cells that a spreadsheet would run as a formula start with \'.',
        'JSON: the `gdpr-art30-register` document (openapi/register-export.schema.json), which POST /api/v1/register/import takes back.',
        'xlsx: a workbook with one sheet per part: the Art. 30(1) activities and the Art. 30(2) record (exactly the CSV\'s columns and',
        'rows, without the CSV\'s leading \' since no cell is ever a formula), the controllers with contact details, representative and',
        'DPO (all of them, or the one of controllerId), and the open findings of the exported activities (as GET /api/v1/register/findings).',
        'Header rows frozen with an autofilter, text wrapped, dates as dates; sheet names and headers in the chosen language.',
      ].join(' '),
      tags: ['Register'],
      security: [{ bearerAuth: [] }],
      operationId: 'exportRegister',
      querystring,
      response: {
        200: {
          description: 'The register, as an attachment (Content-Disposition) with a dated file name',
          content: {
            'application/json': { schema: exportDocumentSchema() },
            'text/csv': { schema: { type: 'string', description: 'CSV, UTF-8 with a byte-order mark' } },
            [XLSX_CONTENT_TYPE]: { schema: { type: 'string', format: 'binary', description: 'Office Open XML workbook (.xlsx)' } },
          },
        },
        ...errorResponses(404),
        ...longAnswerResponses({ spooled: true }),
      },
    },
  }, async (request, reply) => {
    const { ws } = request.principal
    const given = request.query
    const query = { ...given, record: given.record ?? 'controller' } as ExportQuery
    if (given.version !== undefined) {
      if (given.asOf) throw new ValidationFailed([{ field: 'query.asOf', message: 'asOf and version exclude each other: a version is already a fixed moment' }])
      const which = given.version === 'approved' ? 'approved' : Number(given.version)
      const file = await exportVersion(app.db, ws, which, { ...query, recordGiven: given.record !== undefined }, app.config.registerTimeZone)
      reply
        .header('content-type', file.contentType)
        .header('content-disposition', `attachment; filename="${file.fileName}"`)
        .header('x-register-version', String(file.version.number))
      // the JSON's SHA-256: the frozen one, or after a redaction the redacted document's
      if (file.etag) reply.header('etag', `"${file.etag}"`)
      return reply.send(file.stream)
    }
    let register = liveRegister(app.db, ws)
    if (query.asOf !== undefined) {
      // the register as it stood then, read from history's states a page at a time
      query.asOf = asOfInstant(query.asOf)
      register = registerAt(app.db, ws, query.asOf)
    }
    await checkExportQuery(register, ws, query)
    const file = exportFrom(register, query, new Date(), app.config.registerTimeZone)
    return reply
      .header('content-type', file.contentType)
      .header('content-disposition', `attachment; filename="${file.fileName}"`)
      .send(file.stream)
  })
}
