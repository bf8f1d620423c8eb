import { stringify } from 'yaml';
import { cellText } from './input/cell.js';
import { columnLetter } from './input/header.js';
import { formatOf } from './input/formats.js';
import { openRows } from './input/open-rows.js';
import type { Cell } from './input/types.js';
import type { InputSpec } from './mapping/types.js';
import { RESERVED_METADATA_KEYS } from './mapping/validate.js';

export interface ColumnReport {
  letter: string;
  name: string;
  type: GuessedType;
  filled: number;
  samples: string[];
  decimal?: ',';
  thousands?: string[];
  formats?: string[];
}

type GuessedType = 'string' | 'integer' | 'number' | 'boolean' | 'date' | 'datetime' | 'list';

export interface Inspection {
  file: string;
  format: string;
  details: Record<string, string | number>;
  sheets?: { name: string; state: string }[];
  header: string[];
  rows: number;
  columns: ColumnReport[];
  /** The first key guessed (the call ID, or else the recording file). */
  key: InspectKey;
  /** Every key guessed, in the order a row tries them: Call ID, then Recording File. */
  keys: InspectKey[];
  mapping: string;
}

export interface InspectKey {
  column: string;
  by: 'external_id' | 'audio_filename';
}

/** Everything `inspect` tells about a file, and a starter mapping that passes `validate` on it. */
export async function inspectFile(file: string, spec: InputSpec = {}): Promise<Inspection> {
  const source = await openRows(file, spec);
  const guessers = source.header.map(() => new TypeGuess());
  let rows = 0;
  try {
    for await (const row of source.rows) {
      rows++;
      for (let i = 0; i < source.header.length; i++) guessers[i]!.see(row.cells[i] ?? null);
    }
  } finally {
    await source.close();
  }
  const columns: ColumnReport[] = source.header.map((name, i) => ({ letter: columnLetter(i), name, ...guessers[i]!.result() }));
  const keys = guessKeys(columns);
  const details: Record<string, string | number> = { ...source.details };
  const result: Inspection = {
    file,
    format: source.format,
    details,
    header: source.header,
    rows,
    columns,
    key: keys[0]!,
    keys,
    mapping: starterMapping(columns, keys, source.format, source.details, spec),
  };
  const more = await formatOf(file)?.inspect?.(file);
  if (more?.sheets) result.sheets = more.sheets as Inspection['sheets'];
  return result;
}

class TypeGuess {
  filled = 0;
  samples: string[] = [];
  private can = {
    integer: true,
    number: true,
    numberComma: true,
    numberCommaDots: true,
    boolean: true,
    date: true,
    dateDots: true,
    dateSlashes: true,
    datetime: true,
    list: 0,
  };

  see(c: Cell): void {
    if (c === null || (typeof c === 'string' && c.trim() === '')) return;
    this.filled++;
    const t = cellText(c).trim();
    // an Excel date holds wall-clock time with no zone: show it so, not as UTC
    const shown = c instanceof Date ? (isMidnight(c) ? t.slice(0, 10) : t.slice(0, 19).replace('T', ' ')) : t;
    if (this.samples.length < 3 && !this.samples.includes(shown)) this.samples.push(shown);
    const can = this.can;
    if (typeof c === 'number') {
      if (!Number.isInteger(c)) can.integer = false;
      can.boolean = can.boolean && (c === 0 || c === 1);
      can.date = can.dateDots = can.dateSlashes = can.datetime = false;
      can.numberComma = can.numberCommaDots = false;
      return;
    }
    if (c instanceof Date) {
      can.integer = can.number = can.numberComma = can.numberCommaDots = can.boolean = false;
      can.dateDots = can.dateSlashes = false;
      if (!isMidnight(c)) can.date = false;
      return;
    }
    if (typeof c === 'boolean') {
      can.integer = can.number = can.numberComma = can.numberCommaDots = can.date = can.dateDots = can.dateSlashes = can.datetime = false;
      return;
    }
    // a leading zero means an identifier, not a number: keep it as text
    if (!/^[+-]?(0|[1-9]\d{0,14})$/.test(t)) can.integer = false;
    if (!/^[+-]?(0|[1-9]\d*)(\.\d+)?$/.test(t)) can.number = false;
    if (!/^[+-]?(0|[1-9]\d*),\d+$/.test(t) && !/^[+-]?(0|[1-9]\d{0,14})$/.test(t)) can.numberComma = false;
    if (!/^[+-]?(0|[1-9]\d{0,2}(\.\d{3})*)(,\d+)?$/.test(t)) can.numberCommaDots = false;
    if (!/^(yes|no|true|false|y|n)$/i.test(t) && !/^[01]$/.test(t)) can.boolean = false;
    if (!/^\d{4}-\d{2}-\d{2}$/.test(t)) can.date = false;
    if (!/^\d{2}\.\d{2}\.\d{4}$/.test(t)) can.dateDots = false;
    if (!/^\d{2}\/\d{2}\/\d{4}$/.test(t)) can.dateSlashes = false;
    if (!/^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2})?(Z|[+-]\d{2}:?\d{2})?$/.test(t)) can.datetime = false;
    if (t.includes(';')) can.list++;
  }

  result(): Omit<ColumnReport, 'letter' | 'name'> {
    const base = { filled: this.filled, samples: this.samples };
    const can = this.can;
    if (this.filled === 0) return { ...base, type: 'string' };
    if (can.boolean && !can.integer) return { ...base, type: 'boolean' };
    if (can.integer) return { ...base, type: 'integer' };
    if (can.number) return { ...base, type: 'number' };
    if (can.numberComma) return { ...base, type: 'number', decimal: ',' };
    if (can.numberCommaDots) return { ...base, type: 'number', decimal: ',', thousands: ['.'] };
    if (can.date) return { ...base, type: 'date' };
    if (can.dateDots) return { ...base, type: 'date', formats: ['DD.MM.YYYY'] };
    if (can.datetime) return { ...base, type: 'datetime' };
    if (can.list * 3 >= this.filled) return { ...base, type: 'list' };
    return { ...base, type: 'string' };
  }
}

function isMidnight(d: Date): boolean {
  return d.getUTCHours() === 0 && d.getUTCMinutes() === 0 && d.getUTCSeconds() === 0;
}

/** The call ID column, then the recording file column (a fallback key), as far as they exist. */
function guessKeys(columns: ColumnReport[]): InspectKey[] {
  const audio = columns.find((c) => /file|recording|audio/i.test(c.name) || c.samples.some((s) => /\.(wav|mp3|ogg|m4a|flac|opus)$/i.test(s)));
  const id = columns.find((c) => /call.?id|ticket|external|interaction|conversation|contact.?id|session/i.test(c.name));
  if (id && audio && id !== audio)
    return [
      { column: id.name, by: 'external_id' },
      { column: audio.name, by: 'audio_filename' },
    ];
  const pick = id ?? audio ?? columns[0]!;
  return [{ column: pick.name, by: pick === audio && pick !== id ? 'audio_filename' : 'external_id' }];
}

/** snake_case metadata key for a column name, unique and never a reserved key. */
function fieldName(column: string, taken: Set<string>): string {
  let name = column
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
  if (!name || /^\d/.test(name)) name = `field_${name}`;
  if (RESERVED_METADATA_KEYS.has(name) || name === 'external_id' || name === 'file_name') name = `${name}_value`;
  let unique = name;
  for (let i = 2; taken.has(unique); i++) unique = `${name}_${i}`;
  taken.add(unique);
  return unique;
}

function starterMapping(columns: ColumnReport[], keys: InspectKey[], format: string, details: Record<string, string | number>, spec: InputSpec): string {
  const taken = new Set<string>();
  const fields: Record<string, Record<string, unknown>> = {};
  for (const c of columns) {
    if (keys.some((k) => k.column === c.name) || c.filled === 0) continue;
    const f: Record<string, unknown> = { column: c.name };
    if (c.type !== 'string') f.type = c.type;
    if (c.decimal) f.decimal = c.decimal;
    if (c.thousands) f.thousands = c.thousands;
    if (c.formats) f.formats = c.formats;
    if (c.type === 'list') f.merge = 'append';
    fields[fieldName(c.name, taken)] = f;
  }
  const input: Record<string, unknown> = {};
  if (format === 'csv') {
    input.delimiter = details.delimiter === '\\t' ? '\t' : details.delimiter;
    const enc = String(details.encoding).replace(' (BOM)', '');
    if (enc !== 'utf-8') input.encoding = enc;
  } else if (details.sheet !== undefined) input.sheet = details.sheet;
  if (spec.headerRow && spec.headerRow > 1) input.headerRow = spec.headerRow;
  const doc = {
    match:
      keys.length === 1
        ? { column: keys[0]!.column, by: keys[0]!.by, sessionFields: [sessionFieldFor(keys[0]!)], onMultiple: 'fail' }
        : { keys: keys.map((k) => ({ column: k.column, by: k.by, sessionFields: [sessionFieldFor(k)] })), onMultiple: 'fail' },
    input,
    fields,
  };
  return `# Starter mapping written by et-import inspect: check the key, the field names and types.\n${stringify(doc, { lineWidth: 0 })}`;
}

function sessionFieldFor(k: InspectKey): string {
  return k.by === 'audio_filename' ? 'file_name' : 'external_id';
}

export function formatInspection(r: Inspection): string {
  const lines = [`file:        ${r.file}`, `format:      ${r.format}`];
  for (const [k, v] of Object.entries(r.details))
    if (k !== 'format') lines.push(`${`${k}:`.padEnd(13)}${k === 'delimiter' ? JSON.stringify(v === '\\t' ? '\t' : v) : v}`);
  if (r.sheets) lines.push(`sheets:      ${r.sheets.map((s) => `${s.name}${s.state !== 'visible' ? ` (${s.state})` : ''}`).join(', ')}`);
  lines.push(`data rows:   ${r.rows}`, '', 'columns:');
  const w = Math.max(...r.columns.map((c) => c.name.length), 6);
  for (const c of r.columns) {
    const k = r.keys.findIndex((x) => x.column === c.name);
    const tag = k < 0 ? '' : `  <- key${r.keys.length > 1 ? ` ${k + 1}` : ''} (${r.keys[k]!.by})`;
    const extra = c.thousands ? ' (1.234,5)' : c.decimal ? ' (decimal comma)' : c.formats ? ` (${c.formats.join(', ')})` : '';
    lines.push(
      `  ${c.letter.padEnd(3)} ${c.name.padEnd(w)}  ${(c.type + extra).padEnd(24)} ${String(c.filled).padStart(7)} filled   e.g. ${c.samples.map((s) => JSON.stringify(s)).join(', ')}${tag}`,
    );
  }
  lines.push('', 'starter mapping:', '', r.mapping);
  return `${lines.join('\n')}\n`;
}
