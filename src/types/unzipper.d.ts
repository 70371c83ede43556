/** The part of unzipper (a dependency of exceljs's) the workbook upload uses; it ships no types. */
declare module 'unzipper' {
  import type { Readable } from 'node:stream'
  interface Entry {
    path: string
    type: 'File' | 'Directory'
    /** As the zip says: a hostile zip may say anything. */
    uncompressedSize: number
    stream(): Readable
  }
  export const Open: { buffer(data: Buffer): Promise<{ files: Entry[] }> }
}
