// pg exports its value conversion (`utils.prepareValue`, what it sends a parameter as), which
// @types/pg does not declare; copy.ts writes COPY's text with it.
import 'pg'

declare module 'pg' {
  export const utils: { prepareValue(value: unknown): string | Buffer | null }
}
