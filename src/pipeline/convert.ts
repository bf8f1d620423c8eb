import type { Result } from '../errors.js';
import type { Cell } from '../input/types.js';
import { cellText } from '../input/cell.js';
import type { FieldSpec, MetadataValue, Scalar } from '../mapping/types.js';

/** The value to send, or what was expected instead. */
export type Converted = Result<MetadataValue | undefined, string>;

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
  if (isEmptyCell(cell) || isNullMarker(cell!, field) || mapsToNull(cell!, field)) {
    return field.required ? { ok: false, error: 'a value (the field is required), got an empty cell' } : { ok: true, value: undefined };
  }
  const c = cell as Exclude<Cell, null>;
  if (field.type === 'list') {
    const items = cellText(c)
      .split(field.separator)
      .map((s) => s.trim())
      .filter((s) => s !== '' && !field.nullValues?.has(s.toLowerCase()));
    const out: Scalar[] = [];
    for (const item of items) {
      const r = convertScalar(item, field);
      if (!r.ok) return { ok: false, error: `${r.error} for each item separated by "${field.separator}"` };
      if (!out.includes(r.value)) out.push(r.value);
    }
    if (out.length === 0) return field.required ? { ok: false, error: 'at least one item (the field is required)' } : { ok: true, value: undefined };
    return { ok: true, value: out };
  }
  return convertScalar(c, field);
}

/** A cell whose text is one of the field's `nullValues` (trimmed, ignoring case): no value. */
function isNullMarker(c: Exclude<Cell, null>, field: FieldSpec): boolean {
  return field.nullValues !== undefined && typeof c === 'string' && field.nullValues.has(c.trim().toLowerCase());
}

/** A cell that `values` maps to null: no value. */
function mapsToNull(c: Exclude<Cell, null>, field: FieldSpec): boolean {
  return field.values !== undefined && field.type !== 'list' && lookUpValue(c, field.values) === null;
}

/** The `values` entry of a cell: exactly, then ignoring case; undefined when it has none. */
function lookUpValue(c: Exclude<Cell, null>, values: Map<string, Scalar | null>): Scalar | null | undefined {
  const text = cellText(c).trim();
  const v = values.get(text);
  if (v !== undefined) return v;
  const lower = text.toLowerCase();
  for (const [k, mapped] of values) if (k.toLowerCase() === lower) return mapped;
  return undefined;
}

function convertScalar(c: Exclude<Cell, null>, field: FieldSpec): Result<Scalar, string> {
  if (field.values) {
    const v = lookUpValue(c, field.values);
    if (v === undefined || v === null)
      return { ok: false, error: `one of ${[...field.values.keys()].map((k) => JSON.stringify(k)).join(', ')}, got ${show(c)}` };
    return check(v, field, c);
  }
  switch (field.type) {
    case 'integer': {
      const n = toNumber(c, field);
      if (n === undefined || !Number.isInteger(n) || !Number.isSafeInteger(n)) return { ok: false, error: `${describe(field)}, got ${show(c)}` };
      return check(n, field, c);
    }
    case 'number': {
      const n = toNumber(c, field);
      if (n === undefined) return { ok: false, error: `${describe(field)}, got ${show(c)}` };
      return check(n, field, c);
    }
    case 'boolean': {
      if (typeof c === 'boolean') return check(c, field, c);
      const t = cellText(c).trim().toLowerCase();
      if (TRUE_WORDS.has(t) || field.truthy.some((w) => w.toLowerCase() === t)) return check(true, field, c);
      if (FALSE_WORDS.has(t) || field.falsy.some((w) => w.toLowerCase() === t)) return check(false, field, c);
      const extra = [...field.truthy, ...field.falsy];
      return { ok: false, error: `true/false (also yes/no, y/n, 1/0${extra.length ? `, ${extra.join('/')}` : ''}), got ${show(c)}` };
    }
    case 'date': {
      const d = toDate(c, field);
      if (d === undefined) return { ok: false, error: `a date (${['YYYY-MM-DD', ...field.formats].join(' or ')}), got ${show(c)}` };
      return check(d, field, c);
    }
    case 'datetime': {
      const d = toDateTime(c, field);
      if (d === undefined)
        return { ok: false, error: `a date and time (ISO 8601${field.formats.length ? ` or ${field.formats.join(' or ')}` : ''}), got ${show(c)}` };
      return check(d, field, c);
    }
    case 'string':
    case 'list':
      return check(cellText(c).trim(), field, c);
  }
}

function check(v: Scalar, field: FieldSpec, original: Exclude<Cell, null>): Result<Scalar, string> {
  if (typeof v === 'number') {
    if ((field.min !== undefined && v < field.min) || (field.max !== undefined && v > field.max))
      return { ok: false, error: `${describe(field)}, got ${show(original)}` };
  }
  if (field.enum && !field.enum.includes(v))
    return { ok: false, error: `one of ${field.enum.map((e) => JSON.stringify(e)).join(', ')}, got ${show(original)}` };
  if (typeof v === 'string') {
    if (field.maxLength !== undefined && [...v].length > field.maxLength)
      return { ok: false, error: `at most ${field.maxLength} characters, got ${[...v].length}` };
    if (field.pattern && !field.pattern.test(v)) return { ok: false, error: `text matching /${field.pattern.source}/, got ${show(original)}` };
  }
  return { ok: true, value: v };
}

function toNumber(c: Exclude<Cell, null>, field: FieldSpec): number | undefined {
  if (typeof c === 'number') return Number.isFinite(c) ? c : undefined;
  if (typeof c !== 'string') return undefined;
  let t = c.trim();
  for (const sep of field.thousands) {
    t = t.split(sep).join('');
    // a space as thousands separator also stands for the no-break spaces spreadsheets write
    if (sep === ' ') t = t.replace(/[\u00a0\u202f]/g, '');
  }
  if (field.decimal === ',') {
    if (t.includes('.')) return undefined;
    t = t.replace(',', '.');
  }
  if (!/^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(t)) return undefined;
  const n = Number(t);
  return Number.isFinite(n) ? n : undefined;
}

interface Parts {
  y: number;
  mo: number;
  d: number;
  h: number;
  mi: number;
  s: number;
}

const TOKENS: Record<string, [string, keyof Parts]> = {
  YYYY: ['(\\d{4})', 'y'],
  YY: ['(\\d{2})', 'y'],
  MM: ['(\\d{2})', 'mo'],
  M: ['(\\d{1,2})', 'mo'],
  DD: ['(\\d{2})', 'd'],
  D: ['(\\d{1,2})', 'd'],
  HH: ['(\\d{2})', 'h'],
  H: ['(\\d{1,2})', 'h'],
  mm: ['(\\d{2})', 'mi'],
  ss: ['(\\d{2})', 's'],
};
const formatCache = new Map<string, { re: RegExp; keys: (keyof Parts)[]; twoDigitYear: boolean }>();

/** Reads text laid out as `format` (tokens YYYY YY MM M DD D HH H mm ss; anything else literal). */
export function parseFormat(text: string, format: string): Parts | undefined {
  let compiled = formatCache.get(format);
  if (!compiled) {
    const keys: (keyof Parts)[] = [];
    let re = '';
    for (let i = 0; i < format.length; ) {
      const tok = ['YYYY', 'YY', 'MM', 'M', 'DD', 'D', 'HH', 'H', 'mm', 'ss'].find((t) => format.startsWith(t, i));
      if (tok) {
        re += TOKENS[tok]![0];
        keys.push(TOKENS[tok]![1]);
        i += tok.length;
      } else {
        re += format[i]!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        i++;
      }
    }
    compiled = { re: new RegExp(`^${re}$`), keys, twoDigitYear: !format.includes('YYYY') };
    formatCache.set(format, compiled);
  }
  const m = compiled.re.exec(text);
  if (!m) return undefined;
  const p: Parts = { y: 0, mo: 1, d: 1, h: 0, mi: 0, s: 0 };
  for (const [i, k] of compiled.keys.entries()) p[k] = Number(m[i + 1]);
  if (compiled.twoDigitYear) p.y += p.y < 70 ? 2000 : 1900;
  return validParts(p) ? p : undefined;
}

function validParts(p: Parts): boolean {
  const t = new Date(Date.UTC(p.y, p.mo - 1, p.d, p.h, p.mi, p.s));
  return t.getUTCFullYear() === p.y && t.getUTCMonth() === p.mo - 1 && t.getUTCDate() === p.d && p.h < 24 && p.mi < 60 && p.s < 60;
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** A calendar day as YYYY-MM-DD; an Excel date cell is read in UTC, so it never moves a day. */
function toDate(c: Exclude<Cell, null>, field: FieldSpec): string | undefined {
  if (c instanceof Date) return Number.isNaN(c.getTime()) ? undefined : c.toISOString().slice(0, 10);
  if (typeof c !== 'string') return undefined;
  const t = c.trim();
  for (const f of ['YYYY-MM-DD', ...field.formats]) {
    const p = parseFormat(t, f);
    if (p) return `${pad(p.y, 4)}-${pad(p.mo)}-${pad(p.d)}`;
  }
  return undefined;
}

/**
 * An instant as ISO 8601 UTC (`2025-06-29T11:48:00Z`). Times with an offset keep it; times
 * without one (and Excel date cells, which hold wall-clock time) are read in `timezone`.
 */
function toDateTime(c: Exclude<Cell, null>, field: FieldSpec): string | undefined {
  let p: Parts | undefined;
  if (c instanceof Date) {
    if (Number.isNaN(c.getTime())) return undefined;
    p = { y: c.getUTCFullYear(), mo: c.getUTCMonth() + 1, d: c.getUTCDate(), h: c.getUTCHours(), mi: c.getUTCMinutes(), s: c.getUTCSeconds() };
  } else if (typeof c === 'string') {
    const t = c.trim();
    const iso = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/.exec(t);
    if (iso) {
      p = { y: +iso[1]!, mo: +iso[2]!, d: +iso[3]!, h: +iso[4]!, mi: +iso[5]!, s: +(iso[6] ?? 0) };
      if (!validParts(p)) return undefined;
      if (iso[7]) {
        const off = iso[7] === 'Z' ? 0 : (iso[7].startsWith('-') ? -1 : 1) * (Number(iso[7].slice(1, 3)) * 60 + Number(iso[7].slice(-2)));
        return new Date(Date.UTC(p.y, p.mo - 1, p.d, p.h, p.mi, p.s) - off * 60_000).toISOString().replace('.000Z', 'Z');
      }
    } else {
      for (const f of field.formats) {
        p = parseFormat(t, f);
        if (p) break;
      }
    }
  }
  if (!p) return undefined;
  return zonedToUtc(p, field.timezone).toISOString().replace('.000Z', 'Z');
}

/** The instant at which the wall clock in `tz` shows `p`. */
function zonedToUtc(p: Parts, tz: string): Date {
  const wall = Date.UTC(p.y, p.mo - 1, p.d, p.h, p.mi, p.s);
  if (tz === 'UTC') return new Date(wall);
  let t = wall - offsetAt(wall, tz);
  // around a DST change the offset at the guess may differ from the offset at the answer
  t = wall - offsetAt(t, tz);
  return new Date(t);
}

const zoneFormats = new Map<string, Intl.DateTimeFormat>();
function offsetAt(t: number, tz: string): number {
  let f = zoneFormats.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    zoneFormats.set(tz, f);
  }
  const parts = Object.fromEntries(f.formatToParts(new Date(t)).map((x) => [x.type, x.value]));
  const asUtc = Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), Number(parts.hour), Number(parts.minute), Number(parts.second));
  return asUtc - Math.floor(t / 1000) * 1000;
}

function describe(field: FieldSpec): string {
  const what = `${field.type === 'integer' ? 'a whole number' : 'a number'}${field.decimal === ',' ? ' (decimal comma)' : ''}`;
  if (field.min !== undefined && field.max !== undefined) return `${what} from ${field.min} to ${field.max}`;
  if (field.min !== undefined) return `${what} of at least ${field.min}`;
  if (field.max !== undefined) return `${what} of at most ${field.max}`;
  return what;
}

function show(c: Exclude<Cell, null>): string {
  const t = cellText(c);
  return JSON.stringify(t.length > 60 ? `${t.slice(0, 57)}...` : t);
}
