import { createHash } from 'node:crypto'

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
