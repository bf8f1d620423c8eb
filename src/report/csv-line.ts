/**
 * One CSV line (RFC 4180): fields quoted when they hold a comma, quote, CR or LF. Cells that a
 * spreadsheet would run as a formula (starting with = + - @, tab or CR, and not a plain number)
 * get a leading apostrophe, which Excel and LibreOffice show as text and do not run.
 */
export function csvLine(fields: readonly (string | number | undefined | null)[]): string {
  return `${fields.map(csvField).join(',')}\r\n`;
}

const FORMULA_START = /^[=+\-@\t\r]/;
const PLAIN_NUMBER = /^[+-]?(\d+([.,]\d+)*|\.\d+)([eE][+-]?\d+)?$/;

export function neutralise(s: string): string {
  return FORMULA_START.test(s) && !PLAIN_NUMBER.test(s) ? `'${s}` : s;
}

function csvField(v: string | number | undefined | null): string {
  if (v === undefined || v === null) return '';
  const s = neutralise(String(v));
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
