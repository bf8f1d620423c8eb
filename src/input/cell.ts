import type { Cell, SourceRow } from './types.js';

/** Text of a cell as a user would read it; whole numbers are written as whole digits (never 3.7E+10). */
export function cellText(c: Cell): string {
  if (c === null) return '';
  if (typeof c === 'number') return Number.isInteger(c) ? (Math.abs(c) < 1e21 ? c.toFixed(0) : BigInt(c).toString()) : String(c);
  if (c instanceof Date) return c.toISOString();
  return String(c);
}

/** Marks a row invalid for an oversized cell (its text dropped); the first problem of a row names it. */
export function markCellTooLarge(row: SourceRow, i: number, size: number, header: string[], maxCell: number, note = ''): void {
  row.cells[i] = '';
  row.shapeError ??= `has a cell of ${size} bytes in column "${header[i] ?? i + 1}", more than input.maxCellBytes (${maxCell})${note}`;
  row.shapeCode = 'E_CELL_TOO_LARGE';
}
