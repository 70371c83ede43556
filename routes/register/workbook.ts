import { FastifyInstance } from 'fastify'
import { buildWorkbook } from '../../src/register/exchange/workbook'
import { importWorkbook } from '../../src/register/exchange/workbook-import'
import { XLSX_CONTENT_TYPE } from '../../src/register/exchange/xlsx'
import { registerToday } from '../../src/register/wording/dates'
import { errorResponses } from '../crud'
import { AppError } from '../../src/errors'
import type { Lang } from '../../src/register/wording/wording'

/** A workbook of 10,000 activities is about 10 MB. */
export const WORKBOOK_BODY_LIMIT = 30 * 1024 * 1024

const text = (description: string, example?: string) => ({ type: ['string', 'null'], description, ...(example ? { examples: [example] } : {}) })

const workbookReport = {
  type: 'object',
  description: 'Every change the workbook makes (on a dry run: would make), and every error and conflict that stops it',
  properties: {
    dryRun: { type: 'boolean' },
    changes: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          sheet: { type: 'string', examples: ['Behandlingar'] },
          row: { type: 'integer', description: 'The row number as the spreadsheet shows it', examples: [14] },
          recordType: { type: 'string', examples: ['processing-activity'] },
          id: { type: 'string', format: 'uuid' },
          operation: { type: 'string', enum: ['create', 'update', 'delete'] },
          fields: {
            type: 'array',
            description: 'The columns changed, with the cell as it read before and as the workbook has it',
            items: {
              type: 'object',
              properties: { field: { type: 'string', examples: ['Beskrivning'] }, before: text('As the record reads now; null: empty'), after: text('As the workbook has it; null: empty') },
              required: ['field', 'before', 'after'],
              additionalProperties: false,
            },
          },
        },
        required: ['sheet', 'row', 'recordType', 'id', 'operation', 'fields'],
        additionalProperties: false,
      },
    },
    errors: {
      type: 'array',
      description: 'Cells the register cannot take, in the workbook\'s language; any error: nothing is written',
      items: {
        type: 'object',
        properties: {
          sheet: { type: 'string', examples: ['Behandlingar'] },
          row: { type: 'integer', examples: [14] },
          column: { type: 'string', examples: ['Personuppgiftsansvarig'] },
          value: { type: 'string', examples: ['Okänt Bolag AB'] },
          message: { type: 'string', examples: ['Behandlingar rad 14, Personuppgiftsansvarig: "Okänt Bolag AB" finns inte'] },
        },
        required: ['sheet', 'row', 'column', 'value', 'message'],
        additionalProperties: false,
      },
    },
    conflicts: {
      type: 'array',
      description: 'Rows of records changed in the service since the workbook was downloaded (or deleted since: versionNow null); any conflict: nothing is written',
      items: {
        type: 'object',
        properties: {
          sheet: { type: 'string' },
          row: { type: 'integer' },
          recordType: { type: 'string' },
          id: { type: 'string', format: 'uuid' },
          versionInWorkbook: { type: ['integer', 'null'] },
          versionNow: { type: ['integer', 'null'] },
        },
        required: ['sheet', 'row', 'recordType', 'id', 'versionInWorkbook', 'versionNow'],
        additionalProperties: false,
      },
    },
  },
  required: ['dryRun', 'changes', 'errors', 'conflicts'],
  additionalProperties: false,
}

/** The register as an editable workbook, and that workbook brought back. */
export default async function workbookRoutes(app: FastifyInstance): Promise<void> {
  // the upload as bytes (this plugin's routes only), read by exceljs
  app.addContentTypeParser(XLSX_CONTENT_TYPE, { parseAs: 'buffer', bodyLimit: WORKBOOK_BODY_LIMIT }, (_request, body, done) => done(null, body))

  app.get<{ Querystring: { lang: Lang } }>('/api/v1/register/workbook', {
    config: { auth: 'reader', expensive: true },
    schema: {
      summary: 'Download the register as an editable workbook',
      description: [
        'An Excel workbook to edit the register in and bring back with POST /api/v1/register/workbook: a sheet per kind of record',
        '(Behandlingar, Personuppgiftsansvariga, … or Processing activities, Controllers, … for lang=en) and per list of an activity',
        '(its purposes with their legal bases, its transfers, its retention per data category). Every sheet\'s first columns are id and',
        'version; references read as the referenced record\'s name (legal bases by code, several separated by "; "), enumerations by their',
        'label, dates as dates, yes/no as Ja/Nej (Yes/No); drop-down lists for enumerations and single references; a Ta bort (Delete) column',
        'deletes a record; the first sheet explains it all.',
      ].join(' '),
      tags: ['Register'],
      security: [{ bearerAuth: [] }],
      operationId: 'downloadRegisterWorkbook',
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: { lang: { type: 'string', enum: ['sv', 'en'], default: 'sv', description: 'Language of the sheets, headers and labels' } },
      },
      response: {
        200: {
          description: 'The workbook, as an attachment with a dated file name',
          content: { [XLSX_CONTENT_TYPE]: { schema: { type: 'string', format: 'binary', description: 'Office Open XML workbook (.xlsx)' } } },
        },
        ...errorResponses(),
      },
    },
  }, async (request, reply) => {
    const { lang } = request.query
    const bytes = await buildWorkbook(app.db, request.principal.ws, lang)
    const name = `${lang === 'sv' ? 'registerforteckning' : 'register'}-${request.principal.ws}-${registerToday(app.config.registerTimeZone)}.xlsx`
    return reply
      .header('content-type', XLSX_CONTENT_TYPE)
      .header('content-disposition', `attachment; filename="${name.replace(/[^\w.-]/g, '_')}"`)
      .send(bytes)
  })

  app.post<{ Querystring: { dryRun: boolean }; Body: Buffer }>('/api/v1/register/workbook', {
    config: { auth: 'editor', expensive: true },
    bodyLimit: WORKBOOK_BODY_LIMIT,
    schema: {
      summary: 'Bring an edited workbook back',
      description: [
        'Takes the workbook of GET /api/v1/register/workbook, edited, as the request body (Content-Type',
        `${XLSX_CONTENT_TYPE}; in Swagger UI choose the file under "Try it out").`,
        'Each row is compared with the record as it is now: unchanged cells change nothing, also after Excel or LibreOffice saved the file.',
        'A row without an id creates a record; a mark in Ta bort / Delete deletes it; rows left out are left alone.',
        'A row whose version is not the record\'s now is a conflict (409): someone changed the record after the download, and nothing is',
        'written (download again and redo the change). A cell the register cannot take is an error naming the sheet, row, column and',
        'cell (400), and nothing is written. Otherwise (200) every change is written in one transaction, each with its history entry',
        'under your name. With dryRun=true nothing is written in any case: the answer lists every change with before and after.',
      ].join(' '),
      tags: ['Register'],
      security: [{ bearerAuth: [] }],
      operationId: 'importRegisterWorkbook',
      consumes: [XLSX_CONTENT_TYPE],
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: { dryRun: { type: 'boolean', default: true, description: 'Show the changes only; write nothing (the default: look first)' } },
      },
      body: { type: 'string', format: 'binary', description: 'The .xlsx file' },
      response: {
        200: { ...workbookReport, description: 'Applied (or, on a dry run, would apply): every change' },
        400: { ...workbookReport, description: 'Errors (a body that is not a workbook among them): nothing written' },
        409: { ...workbookReport, description: 'Conflicts: records changed since the download; nothing written' },
        ...Object.fromEntries(Object.entries(errorResponses(413, 415)).filter(([code]) => code !== '400')),
      },
    },
  }, async (request, reply) => {
    if (!Buffer.isBuffer(request.body)) throw new AppError(415, 'unsupported_media_type', `Send the workbook as the body with Content-Type ${XLSX_CONTENT_TYPE}`)
    const { status, report } = await importWorkbook(app.db, request.principal, request.body, request.query.dryRun)
    return reply.code(status).send(report)
  })
}
