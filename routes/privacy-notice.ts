import { FastifyInstance } from 'fastify'
import { NOTICE_CSP, NoticeFormat, privacyNotice } from '../src/register/review/privacy-notice'
import type { Lang } from '../src/register/wording/wording'
import { registerDate } from '../src/register/wording/dates'
import { errorResponses, idParams } from './crud'

const querystring = {
  type: 'object',
  additionalProperties: false,
  properties: {
    lang: { type: 'string', enum: ['sv', 'en'], default: 'sv', description: 'Language of the notice; register text is given as recorded' },
    format: { type: 'string', enum: ['markdown', 'html'], default: 'markdown', description: 'markdown, or a standalone HTML page' },
  },
} as const

/** The Art. 13/14 information for data subjects, written from the register. */
export default async function privacyNoticeRoutes(app: FastifyInstance): Promise<void> {
  app.get<{ Params: { id: string }; Querystring: { lang: Lang; format: NoticeFormat } }>('/api/v1/controllers/:id/privacy-notice', {
    config: { auth: 'reader' },
    schema: {
      summary: 'Write the controller\'s privacy notice (Art. 13 and 14) from the register',
      description: [
        'A draft of the privacy notice for the controller\'s website, written from what the register holds. Try `lang=sv&format=html`',
        'for a page to read in the browser, or `lang=en` for Markdown in English.',
        'The information to give data subjects, from the activities (active or draft) the controller keeps or is a joint',
        'controller of: identity and contact details, joint controllers, representative and DPO; purposes with their legal',
        'bases and legitimate interests; categories of data and their sources; recipients and processors; transfers to third',
        'countries with their safeguards; retention; automated decision-making; the data subject\'s rights and the right to',
        'complain to IMY. Where the register is silent the notice says so. HTML is a standalone page; register text is escaped.',
      ].join(' '),
      tags: ['Controllers'],
      security: [{ bearerAuth: [] }],
      operationId: 'getPrivacyNotice',
      params: idParams,
      querystring,
      response: {
        200: {
          description: 'The privacy notice',
          content: {
            'text/markdown': { schema: { type: 'string', description: 'Markdown (CommonMark), UTF-8' } },
            'text/html': { schema: { type: 'string', description: 'A standalone HTML document, UTF-8' } },
          },
        },
        ...errorResponses(404),
      },
    },
  }, async (request, reply) => {
    const { id } = request.params
    const { lang, format } = request.query
    const notice = await privacyNotice(app.db, request.principal.ws, id, lang, format, new Date(), app.config.registerTimeZone)
    // The HTML page carries its own stylesheet, which the API's policy (default-src 'none') would block: allowed by hash.
    if (format === 'html') reply.header('content-security-policy', NOTICE_CSP)
    // inline: a browser shows it; saved, it keeps a dated name with its extension
    const file = `${lang === 'sv' ? 'integritetsmeddelande' : 'privacy-notice'}-${registerDate(new Date(), app.config.registerTimeZone)}.${format === 'html' ? 'html' : 'md'}`
    return reply.header('content-type', notice.contentType).header('content-disposition', `inline; filename="${file}"`).send(notice.body)
  })
}
