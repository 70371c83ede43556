import { Open } from 'unzipper'

/**
 * What an uploaded .xlsx (a zip) holds unpacked, counted by unpacking it entry by entry and
 * stopping as soon as the count passes `limit`: exceljs unpacks every part of a workbook in
 * memory, so a zip bomb of a few megabytes (deflate packs up to about 1,000:1) would take the
 * process's memory. The zip's own size fields are not trusted; a part is unpacked as a stream,
 * a piece at a time. Answers the bytes, 'over' past the limit, or null when the bytes are no zip.
 */
export async function unpackedBytes(zip: Buffer, limit: number): Promise<number | 'over' | null> {
  let entries
  try {
    entries = (await Open.buffer(zip)).files
  } catch {
    return null
  }
  let total = 0
  for (const entry of entries) {
    if (entry.type !== 'File') continue
    if (total + entry.uncompressedSize > limit) return 'over'
    const part = entry.stream()
    try {
      for await (const piece of part) {
        total += (piece as Buffer).length
        if (total > limit) return 'over'
      }
    } catch {
      return null
    } finally {
      part.destroy()
    }
  }
  return total
}
