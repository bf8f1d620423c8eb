import { cellText } from '../input/cell.js';
import type { Cell } from '../input/types.js';

/** Texts that mean "no value" in exports: kept apart from the values a type is guessed from. */
export const NULL_MARKERS = new Set(['n/a', 'na', '#n/a', '-', '--', 'null', 'none', 'nil', '(blank)', '?']);

export type GuessedType = 'string' | 'integer' | 'number' | 'boolean' | 'date' | 'datetime' | 'list';

export interface Guess {
  type: GuessedType;
  filled: number;
  samples: string[];
  decimal?: ',';
  thousands?: string[];
  formats?: string[];
  /** The null markers seen (as written), with how often. */
  markers: [string, number][];
  /** The values that break the guessed type, most frequent first. */
  breakers: [string, number][];
  /** Day-first or month-first chosen without a value to tell, or a datetime without an offset. */
  note?: string;
  /** Every distinct value with its count (up to a bound), for a field's own checks. */
  values: Map<string, number>;
}

/** How a text fits each candidate type; the first of the list that at least 95 % of the values fit wins. */
const FITS: [string, (t: string) => boolean][] = [
  ['integer', (t) => /^[+-]?(0|[1-9]\d{0,14})$/.test(t)],
  ['boolean', (t) => /^(yes|no|true|false|y|n|0|1)$/i.test(t)],
  ['number', (t) => /^[+-]?(0|[1-9]\d*)(\.\d+)?$/.test(t)],
  ['numberComma', (t) => /^[+-]?(0|[1-9]\d*),\d+$/.test(t) || /^[+-]?(0|[1-9]\d{0,14})$/.test(t)],
  ['numberCommaDots', (t) => /^[+-]?(0|[1-9]\d{0,2}(\.\d{3})*)(,\d+)?$/.test(t)],
  ['date', (t) => /^\d{4}-\d{2}-\d{2}$/.test(t)],
  ['dateDots', (t) => /^\d{1,2}\.\d{1,2}\.\d{4}$/.test(t)],
  ['dateSlashes', (t) => /^\d{1,2}\/\d{1,2}\/\d{4}$/.test(t)],
  ['datetime', (t) => /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2})?(\.\d+)?(Z|[+-]\d{2}:?\d{2})?$/.test(t)],
  ['datetimeDots', (t) => /^\d{1,2}\.\d{1,2}\.\d{4} \d{1,2}:\d{2}(:\d{2})?$/.test(t)],
  ['datetimeSlashes', (t) => /^\d{1,2}\/\d{1,2}\/\d{4} \d{1,2}:\d{2}(:\d{2})?$/.test(t)],
];
const MAX_DISTINCT = 5000;

/** A column's type, guessed over every cell: the most specific type that 95 % of the non-empty values fit, null markers apart. */
export class TypeGuess {
  filled = 0;
  private counted = 0;
  private readonly samples: string[] = [];
  private readonly values = new Map<string, number>();
  private readonly markers = new Map<string, number>();
  private readonly fails = new Map<string, number>();
  private lists = 0;
  /** Slash or dot dates: a first part above 12 says day-first, a second part above 12 month-first. */
  private dayFirst = 0;
  private monthFirst = 0;
  private offsetless = 0;
  private excelTimes = 0;

  see(c: Cell): void {
    if (c === null || (typeof c === 'string' && c.trim() === '')) return;
    this.filled++;
    const t = cellText(c).trim();
    if (typeof c === 'string' && NULL_MARKERS.has(t.toLowerCase())) {
      this.markers.set(t, (this.markers.get(t) ?? 0) + 1);
      return;
    }
    this.counted++;
    if (this.samples.length < 3 && !this.samples.includes(t)) this.samples.push(t);
    if (this.values.has(t) || this.values.size < MAX_DISTINCT) this.values.set(t, (this.values.get(t) ?? 0) + 1);
    if (c instanceof Date && t.includes(' ')) this.excelTimes++;
    for (const [name, fits] of FITS) if (!fits(t)) this.fails.set(name, (this.fails.get(name) ?? 0) + 1);
    if (t.includes(';')) this.lists++;
    const m = /^(\d{1,2})[./](\d{1,2})[./]\d{4}/.exec(t);
    if (m) {
      if (Number(m[1]) > 12) this.dayFirst++;
      if (Number(m[2]) > 12) this.monthFirst++;
    }
    if (/^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2})?(\.\d+)?$/.test(t) || /^\d{1,2}[./]\d{1,2}[./]\d{4} \d/.test(t)) this.offsetless++;
  }

  private ok(name: string): boolean {
    return this.counted > 0 && (this.fails.get(name) ?? 0) <= this.counted * 0.05;
  }

  result(): Guess {
    const base = { filled: this.filled, samples: this.samples, markers: [...this.markers.entries()], values: this.values };
    const pick = this.pick();
    const fits = FITS.find(([n]) => n === pick.check)?.[1];
    const breakers = fits ? [...this.values.entries()].filter(([v]) => !fits(v)).sort((a, b) => b[1] - a[1]) : [];
    const out: Guess = { ...base, ...pick.guess, breakers };
    const notes: string[] = [];
    if (pick.guess.formats?.some((f) => f.startsWith('DD') || f.startsWith('MM')) && this.dayFirst === 0 && this.monthFirst === 0)
      notes.push(`no value tells day-first from month-first: ${pick.guess.formats[0]!.startsWith('DD') ? 'day-first' : 'month-first'} assumed`);
    if (pick.guess.type === 'datetime' && (this.offsetless > 0 || this.excelTimes > 0))
      notes.push('times without an offset: set the timezone they were written in');
    if (notes.length > 0) out.note = notes.join('; ');
    return out;
  }

  private pick(): { guess: Pick<Guess, 'type' | 'decimal' | 'thousands' | 'formats'>; check?: string } {
    if (this.counted === 0) return { guess: { type: 'string' } };
    const monthFirst = this.monthFirst > 0 && this.dayFirst === 0;
    const slash = monthFirst ? 'MM/DD/YYYY' : 'DD/MM/YYYY';
    if (this.ok('integer')) return { guess: { type: 'integer' }, check: 'integer' };
    if (this.ok('boolean')) return { guess: { type: 'boolean' }, check: 'boolean' };
    if (this.ok('number')) return { guess: { type: 'number' }, check: 'number' };
    if (this.ok('numberComma')) return { guess: { type: 'number', decimal: ',' }, check: 'numberComma' };
    if (this.ok('numberCommaDots')) return { guess: { type: 'number', decimal: ',', thousands: ['.'] }, check: 'numberCommaDots' };
    if (this.ok('date')) return { guess: { type: 'date' }, check: 'date' };
    if (this.ok('dateDots')) return { guess: { type: 'date', formats: ['DD.MM.YYYY'] }, check: 'dateDots' };
    if (this.ok('dateSlashes')) return { guess: { type: 'date', formats: [slash] }, check: 'dateSlashes' };
    if (this.ok('datetime')) return { guess: { type: 'datetime' }, check: 'datetime' };
    if (this.ok('datetimeDots')) return { guess: { type: 'datetime', formats: ['DD.MM.YYYY HH:mm', 'DD.MM.YYYY HH:mm:ss'] }, check: 'datetimeDots' };
    if (this.ok('datetimeSlashes')) return { guess: { type: 'datetime', formats: [`${slash} HH:mm`, `${slash} HH:mm:ss`] }, check: 'datetimeSlashes' };
    if (this.lists * 3 >= this.counted) return { guess: { type: 'list' } };
    return { guess: { type: 'string' } };
  }
}
