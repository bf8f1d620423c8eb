import type { Cell } from './types.js';

/** Text of a cell as a user would read it; whole numbers are written as whole digits (never 3.7E+10). */
export function cellText(c: Cell): string {
  if (c === null) return '';
  if (typeof c === 'number') return Number.isInteger(c) ? (Math.abs(c) < 1e21 ? c.toFixed(0) : BigInt(c).toString()) : String(c);
  if (c instanceof Date) return c.toISOString();
  return String(c);
}
