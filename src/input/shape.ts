import { markCellTooLarge } from './cell.js';
import { grewSince, readTail, type Snapshot } from './snapshot.js';
import type { SourceRow } from './types.js';

/**
 * The row-shaping every format's rows go through once they are cells: a row wider than the
 * header is invalid (saying how wide), and a text cell larger than `input.maxCellBytes` makes its
 * row invalid (E_CELL_TOO_LARGE) with the cell emptied. CSV adds its own checks (a row with fewer
 * cells than the header, a cell its guard cut off before it was held whole).
 */
export function checkWidth(row: SourceRow, used: number, width: number): void {
  if (used > width) row.shapeError ??= `has ${used} cell${used === 1 ? '' : 's'} but the header has ${width}`;
}

/** Text cells larger than `maxCell` bytes: their row is invalid, the cell emptied. */
export function markLargeCells(row: SourceRow, header: string[], maxCell: number): void {
  for (let i = 0; i < row.cells.length; i++) {
    const c = row.cells[i];
    // a UTF-16 string takes at most 3 bytes of UTF-8 per unit: measure only the long ones
    if (typeof c !== 'string' || c.length * 3 <= maxCell) continue;
    const size = Buffer.byteLength(c);
    if (size > maxCell) markCellTooLarge(row, i, size, header, maxCell);
  }
}

/**
 * Whether a file's last line was caught half-written: its bytes end without a line break and the
 * file has grown since the run opened it (asked once the last line is reached). Its row is then
 * invalid, whatever else was found in it: its cells are not trusted, and the next run reads it whole.
 */
export async function lastLineCut(snap: Snapshot, whole?: Buffer): Promise<() => boolean> {
  // a file read whole already holds its last bytes
  const tail = whole ? whole.subarray(Math.max(0, whole.length - 2)) : await readTail(snap, 2);
  const endsMidLine = !tail.some((b) => b === 0x0a || b === 0x0d);
  return () => endsMidLine && grewSince(snap);
}

export function markHalfWritten(row: SourceRow): void {
  row.shapeError =
    "is the file's last line, which was still being written when the run opened the file (it has grown since); not imported: the next run reads it whole";
  row.shapeCode = 'E_ROW_SHAPE';
}
