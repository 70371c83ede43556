import { createHash } from 'node:crypto'

/** The service's standalone HTML pages (the report, the privacy notice): their frame, text escaping and policy. */

/** Text for HTML: the five characters that could open markup or end an attribute, escaped. */
export function htmlText(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', '\'': '&#39;' }[c]!))
}

/** The page up to its body: its language, title (text) and its one stylesheet. */
export function pageStart(lang: string, title: string, css: string): string[] {
  return [
    '<!DOCTYPE html>',
    `<html lang="${lang}">`,
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${htmlText(title)}</title>`,
    `<style>${css}</style>`,
    '</head>',
    '<body>',
  ]
}

/**
 * Content-Security-Policy of a standalone page the service writes (the report, the privacy notice):
 * nothing to load, no script, no frames, and only the page's one constant stylesheet, allowed by its
 * SHA-256. It replaces helmet's API policy (default-src 'none'), which would block that stylesheet.
 */
export function stylesheetOnlyPolicy(css: string): string {
  return [
    "default-src 'none'",
    `style-src 'sha256-${createHash('sha256').update(css).digest('base64')}'`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ')
}
