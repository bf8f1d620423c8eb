import type { Cell } from '../input/types.js';
import { cellText } from '../input/cell.js';
import type { FieldSpec, MetadataValue, Scalar } from '../mapping/types.js';

export type Converted = { ok: true; value: MetadataValue | undefined } | { ok: false; expected: string };

const TRUE_WORDS = new Set(['true', 'yes', 'y', '1']);
const FALSE_WORDS = new Set(['false', 'no', 'n', '0']);

export function isEmptyCell(c: Cell | undefined): boolean {
  return c === null || c === undefined || (typeof c === 'string' && c.trim() === '');
}

/**
 * Converts one cell to the value sent for a field. `value: undefined` means "send nothing"
 * (an empty cell). Pure: no I/O, no clock.
 */
export function convertCell(cell: Cell | undefined, field: FieldSpec): Converted {
  if (isEmptyCell(cell)) {
    return field.required ? { ok: false, expected: 'a value (the field is required), got an empty cell' } : { ok: true, value: undefined };
  }
  const c = cell as Exclude<Cell, null>;
  if (field.type === 'list') {
    const items = cellText(c)
      .split(field.separator)
      .map((s) => s.trim())
      .filter((s) => s !== '');
    const out: Scalar[] = [];
    for (const item of items) {
      const r = convertScalar(item, field);
      if (!r.ok) return { ok: false, expected: `${r.expected} for each item separated by "${field.separator}"` };
      if (!out.includes(r.value)) out.push(r.value);
    }
    if (out.length === 0) return field.required ? { ok: false, expected: 'at least one item (the field is required)' } : { ok: true, value: undefined };
    return { ok: true, value: out };
  }
  return convertScalar(c, field);
}

function convertScalar(c: Exclude<Cell, null>, field: FieldSpec): { ok: true; value: Scalar } | { ok: false; expected: string } {
  if (field.values) {
    const text = cellText(c).trim();
    let v = field.values.get(text);
    if (v === undefined) {
      const lower = text.toLowerCase();
      for (const [k, mapped] of field.values) {
        if (k.toLowerCase() === lower) {
          v = mapped;
          break;
        }
      }
    }
    if (v === undefined) return { ok: false, expected: `one of ${[...field.values.keys()].map((k) => JSON.stringify(k)).join(', ')}, got ${show(c)}` };
    return check(v, field, c);
  }
  switch (field.type) {
    case 'integer': {
      const n = toNumber(c);
      if (n === undefined || !Number.isInteger(n) || !Number.isSafeInteger(n)) return { ok: false, expected: `${describe(field)}, got ${show(c)}` };
      return check(n, field, c);
    }
    case 'number': {
      const n = toNumber(c);
      if (n === undefined) return { ok: false, expected: `${describe(field)}, got ${show(c)}` };
      return check(n, field, c);
    }
    case 'boolean': {
      if (typeof c === 'boolean') return check(c, field, c);
      const t = cellText(c).trim().toLowerCase();
      if (TRUE_WORDS.has(t)) return check(true, field, c);
      if (FALSE_WORDS.has(t)) return check(false, field, c);
      return { ok: false, expected: `true/false (also yes/no, y/n, 1/0), got ${show(c)}` };
    }
    case 'date': {
      const d = toIsoDate(c);
      if (d === undefined) return { ok: false, expected: `a date as YYYY-MM-DD, got ${show(c)}` };
      return check(d, field, c);
    }
    case 'string':
    case 'list':
      return check(cellText(c).trim(), field, c);
  }
}

function check(v: Scalar, field: FieldSpec, original: Exclude<Cell, null>): { ok: true; value: Scalar } | { ok: false; expected: string } {
  if (typeof v === 'number') {
    if ((field.min !== undefined && v < field.min) || (field.max !== undefined && v > field.max)) return { ok: false, expected: `${describe(field)}, got ${show(original)}` };
  }
  if (field.enum && !field.enum.includes(v)) return { ok: false, expected: `one of ${field.enum.map((e) => JSON.stringify(e)).join(', ')}, got ${show(original)}` };
  if (typeof v === 'string') {
    if (field.maxLength !== undefined && [...v].length > field.maxLength) return { ok: false, expected: `at most ${field.maxLength} characters, got ${[...v].length}` };
    if (field.pattern && !field.pattern.test(v)) return { ok: false, expected: `text matching /${field.pattern.source}/, got ${show(original)}` };
  }
  return { ok: true, value: v };
}

function toNumber(c: Exclude<Cell, null>): number | undefined {
  if (typeof c === 'number') return Number.isFinite(c) ? c : undefined;
  if (typeof c !== 'string') return undefined;
  const t = c.trim();
  if (!/^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(t)) return undefined;
  const n = Number(t);
  return Number.isFinite(n) ? n : undefined;
}

function toIsoDate(c: Exclude<Cell, null>): string | undefined {
  // exceljs gives a date cell as the UTC instant of its wall-clock value: read it in UTC so it never moves a day
  if (c instanceof Date) return Number.isNaN(c.getTime()) ? undefined : c.toISOString().slice(0, 10);
  if (typeof c !== 'string') return undefined;
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(c.trim());
  if (!m) return undefined;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(y, mo - 1, d));
  if (date.getUTCFullYear() !== y || date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d) return undefined;
  return m[0];
}

function describe(field: FieldSpec): string {
  const what = field.type === 'integer' ? 'a whole number' : 'a number';
  if (field.min !== undefined && field.max !== undefined) return `${what} from ${field.min} to ${field.max}`;
  if (field.min !== undefined) return `${what} of at least ${field.min}`;
  if (field.max !== undefined) return `${what} of at most ${field.max}`;
  return what;
}

function show(c: Exclude<Cell, null>): string {
  const t = cellText(c);
  return JSON.stringify(t.length > 60 ? `${t.slice(0, 57)}...` : t);
}
