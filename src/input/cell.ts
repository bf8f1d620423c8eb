import type { Cell, SourceRow } from './types.js';

/**
 * Text of a cell as a user would read it; whole numbers are written as whole digits (never
 * 3.7E+10), and an Excel date cell, which holds wall-clock time with no zone, as the spreadsheet
 * shows it: `2025-06-01`, or `2025-06-01 10:30:00` (never as UTC with a `Z` it does not have).
 * failed.csv writes this text, and a `datetime` field reads it back in its `timezone` as it read
 * the date cell.
 */
export function cellText(c: Cell): string {
  if (c === null) return '';
  if (typeof c === 'number') return Number.isInteger(c) ? (Math.abs(c) < 1e21 ? c.toFixed(0) : BigInt(c).toString()) : String(c);
  if (c instanceof Date) return dateText(c);
  return String(c);
}

function dateText(d: Date): string {
  if (Number.isNaN(d.getTime())) return String(d);
  const iso = d.toISOString();
  if (iso.endsWith('T00:00:00.000Z')) return iso.slice(0, 10);
  return `${iso.slice(0, 10)} ${iso.slice(11, iso.endsWith('.000Z') ? 19 : 23)}`;
}

/** Marks a row invalid for an oversized cell (its text dropped); the first problem of a row names it. */
export function markCellTooLarge(row: SourceRow, i: number, size: number, header: string[], maxCell: number, note = ''): void {
  row.cells[i] = '';
  row.shapeError ??= `has a cell of ${size} bytes in column "${header[i] ?? i + 1}", more than input.maxCellBytes (${maxCell})${note}`;
  row.shapeCode = 'E_CELL_TOO_LARGE';
}
