import { filterValueProblem } from '../api/sessions.js';
import { RowError, type Result } from '../errors.js';
import type { Cell, SourceRow } from '../input/types.js';
import { cellText } from '../input/cell.js';
import type { ColumnPlan } from '../mapping/load.js';
import type { Mapping, MatchBy, MatchKey, MetadataValue } from '../mapping/types.js';
import { type ConversationValue, conversationLookup, rowConversation } from './conversation.js';
import { convertCell } from './convert.js';
import { rowDay } from './row-date.js';

/** One usable key of a row. */
export interface RowKey {
  /** Which of `match.keys`. */
  index: number;
  column: string;
  /** The key as it stands in the file, trimmed. */
  key: string;
  /** What the search looks for and what the session fields are compared with (a conversation key: its time and values as one text). */
  lookup: string;
  /** A conversation key's time and normalised values. */
  conversation?: ConversationValue;
}

export interface MappedRow {
  /** The first usable key as it stands in the file, trimmed. */
  key: string;
  /** The first usable key's lookup: what duplicates, shards and the journal go by. */
  lookup: string;
  /** Every usable key, in `match.keys` order: tried one after the other. */
  keys: RowKey[];
  /** Metadata key -> value; fields with an empty cell are absent. */
  values: Record<string, MetadataValue>;
  /** The row's day from match.dateColumn (YYYY-MM-DD); absent without the column or for an empty cell. */
  date?: string;
}

/**
 * Turns one source row into a key and typed metadata values, or a RowError naming the file,
 * row and every column at fault. Pure.
 */
export function mapRow(mapping: Mapping, plan: ColumnPlan, row: SourceRow, file: string, sheet?: string): Result<MappedRow, RowError> {
  if (row.shapeError) return { ok: false, error: new RowError(row.shapeCode ?? 'E_ROW_SHAPE', { file, row: row.row, sheet }, `the row ${row.shapeError}`) };

  const keys = rowKeys(mapping, plan, row);
  if (!keys.ok) {
    const { column, problem, value } = keys.error;
    const expected = problem === 'the key is empty' ? 'a key' : problem.replace(/^expected /, '').replace(/, got .*$/, '');
    return { ok: false, error: new RowError('E_INVALID_KEY', { file, row: row.row, sheet, column }, problem, [{ column, value, expected }]) };
  }
  const { key, lookup } = keys.value[0]!;

  // a loop, and the problems' list made only for a row that has one: this runs for every row
  const values: Record<string, MetadataValue> = {};
  let problems: { column: string; expected: string; cell: Cell | undefined }[] | undefined;
  const fields = mapping.fields;
  for (let i = 0; i < fields.length; i++) {
    const field = fields[i]!;
    const cell = row.cells[plan.fieldIndexes[i]!];
    const r = convertCell(cell, field);
    if (!r.ok) {
      problems ??= [];
      problems.push({ column: field.column, expected: r.error, cell });
    } else if (r.value !== undefined) values[field.name] = r.value;
  }
  // the row's day: a bad date is the row's problem, never the run's
  let date: string | undefined;
  if (plan.dateIndex !== undefined) {
    const d = rowDay(row.cells[plan.dateIndex], plan.dateField);
    if (!d.ok) {
      problems ??= [];
      problems.push({ column: mapping.match.dateColumn!, expected: d.expected, cell: row.cells[plan.dateIndex] });
    } else if (d.day !== null) date = d.day;
  }
  if (problems) {
    // the first column at fault is the error's column; every other one is named in the message
    const first = problems[0]!;
    const detail = [`expected ${first.expected}`, ...problems.slice(1).map((p) => `column "${p.column}": expected ${p.expected}`)].join('; ');
    // what was expected without the cell it got: the report counts the cells by column and value
    const cells = problems.map((p) => ({ column: p.column, value: cellText(p.cell ?? null).trim(), expected: p.expected.replace(/, got .*$/, '') }));
    return { ok: false, error: new RowError('E_INVALID_VALUE', { file, row: row.row, sheet, column: first.column }, detail, cells) };
  }
  const value: MappedRow = { key, lookup, keys: keys.value, values };
  if (date !== undefined) value.date = date;
  return { ok: true, value };
}

/**
 * The row's usable keys, in order: a key cell that is empty or that could not be sent as a
 * filter value is passed over. None usable: the first key's problem.
 */
export function rowKeys(mapping: Mapping, plan: ColumnPlan, row: SourceRow): Result<RowKey[], KeyProblem> {
  const out: RowKey[] = [];
  let first: KeyProblem | undefined;
  const keys = mapping.match.keys;
  for (let index = 0; index < keys.length; index++) {
    const k = keys[index]!;
    if (k.by === 'conversation') {
      const c = rowConversation(
        k,
        row.cells[plan.keyIndexes[index]!],
        plan.equalIndexes[index]!.map((i) => row.cells[i]),
      );
      if (!c.ok) first ??= c.error;
      else
        out.push({
          index,
          column: k.column,
          key: cellText(row.cells[plan.keyIndexes[index]!] ?? null).trim(),
          lookup: conversationLookup(c.value),
          conversation: c.value,
        });
      continue;
    }
    const key = cellText(row.cells[plan.keyIndexes[index]!] ?? null).trim();
    const lookup = lookupValue(key, k.by);
    const problem = filterValueProblem(key) ?? (lookup === '' ? `expected an audio file name, got ${JSON.stringify(key)}` : undefined);
    if (problem) first ??= { column: k.column, problem: keys.length > 1 && key === '' ? 'the key is empty' : problem, value: key };
    else out.push({ index, column: k.column, key, lookup });
  }
  if (out.length > 0) return { ok: true, value: out };
  const problem =
    keys.length > 1 ? `no usable key: ${keys.map((k) => JSON.stringify(k.column)).join(', ')} are empty or unusable (${first!.problem})` : first!.problem;
  return { ok: false, error: { column: first!.column, problem, value: first!.value } };
}

/** Why a row has no usable key: the first key's column, what is wrong, and the cell's text. */
export interface KeyProblem {
  column: string;
  problem: string;
  value: string;
}

/** What tells rows with the same key apart in a file: the key's position and its lookup. */
export function duplicateKey(k: RowKey): string {
  return k.index === 0 ? k.lookup : `${k.index}\u0000${k.lookup}`;
}

/** The key cell of a row as text, for rows that could not be mapped. */
export function keyCellText(row: SourceRow, plan: ColumnPlan): string {
  for (const i of plan.keyIndexes) {
    const t = cellText(row.cells[i] ?? null).trim();
    if (t !== '') return t;
  }
  return '';
}

/** An audio file name reduced to its base name without directory and extension. */
export function baseName(name: string): string {
  const last = name.split(/[\\/]/).pop() ?? '';
  const dot = last.lastIndexOf('.');
  return dot > 0 ? last.slice(0, dot) : last;
}

/**
 * The values a session offers a key: its `sessionFields` that are text or numbers, reduced the
 * way the key is (audio file names to their base name). A hit is a value equal to the lookup.
 */
export function matchValues(key: Pick<MatchKey, 'by' | 'sessionFields'>, session: Record<string, unknown>): string[] {
  const out: string[] = [];
  for (const field of key.sessionFields) {
    const v = session[field];
    if (typeof v === 'string' || typeof v === 'number') out.push(key.by === 'audio_filename' ? baseName(String(v)) : String(v));
  }
  return out;
}

export function lookupValue(key: string, by: MatchBy): string {
  return by === 'audio_filename' ? baseName(key).trim() : key;
}
