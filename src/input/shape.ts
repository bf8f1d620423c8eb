import { markCellTooLarge } from './cell.js';
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

/** The file's last line, without its line break, in a file that has grown since the run opened it: caught half-written. */
export const HALF_WRITTEN =
  "is the file's last line, which was still being written when the run opened the file (it has grown since); not imported: the next run reads it whole";
