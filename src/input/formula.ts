/**
 * Cells a spreadsheet would run as a formula: starting with = + - @, tab or CR, and not a plain
 * number. The reports write them with a leading apostrophe (Excel and LibreOffice show such a
 * cell as text, and drop the apostrophe from its value); an input cell written that way is read
 * without it, so that `failed.csv` fed back imports the values of the original export.
 */
const PLAIN_NUMBER = /^[+-]?(\d+([.,]\d+)*|\.\d+)([eE][+-]?\d+)?$/;

/** Whether a spreadsheet would run the text as a formula. */
export function looksLikeFormula(s: string): boolean {
  // = + - @ tab CR, by code: this runs for every field of every row of every report
  const c = s.charCodeAt(0);
  return (c === 61 || c === 43 || c === 45 || c === 64 || c === 9 || c === 13) && !PLAIN_NUMBER.test(s);
}

/** The text as a report writes it: a leading apostrophe before a formula. */
export function neutralise(s: string): string {
  return looksLikeFormula(s) ? `'${s}` : s;
}

/** The inverse of `neutralise`: an apostrophe before a formula is dropped, any other text kept. */
export function unneutralise(s: string): string {
  return s.charCodeAt(0) === 39 && looksLikeFormula(s.slice(1)) ? s.slice(1) : s;
}
