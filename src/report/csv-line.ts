import { neutralise } from '../input/formula.js';

/**
 * One CSV line (RFC 4180): fields quoted when they hold a comma, quote, CR or LF, or another
 * delimiter the reader could take (semicolon, tab, bar): the file's only unquoted delimiter is
 * the comma, so a report fed back in (failed.csv) is read with it whatever its cells hold. Cells
 * that a spreadsheet would run as a formula (starting with = + - @, tab or CR, and not a plain
 * number) get a leading apostrophe, which Excel and LibreOffice show as text and do not run.
 */
export function csvLine(fields: readonly (string | number | undefined | null)[]): string {
  let out = '';
  for (let i = 0; i < fields.length; i++) out += i === 0 ? csvField(fields[i]) : `,${csvField(fields[i])}`;
  return `${out}\r\n`;
}

function csvField(v: string | number | undefined | null): string {
  if (v === undefined || v === null) return '';
  // a number is written as a number: nothing to quote, nothing a spreadsheet would run
  if (typeof v === 'number') return String(v);
  const s = neutralise(v);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 34 || c === 44 || c === 13 || c === 10 || c === 59 || c === 9 || c === 124) return `"${s.replace(/"/g, '""')}"`;
  }
  return s;
}
