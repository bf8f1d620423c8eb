import { filterValueProblem } from '../api/sessions.js';
import { RowError, type Result } from '../errors.js';
import type { SourceRow } from '../input/types.js';
import { cellText } from '../input/cell.js';
import type { ColumnPlan } from '../mapping/load.js';
import type { Mapping, MatchBy, MetadataValue } from '../mapping/types.js';
import { convertCell } from './convert.js';

export interface MappedRow {
  /** The key as it stands in the file, trimmed. */
  key: string;
  /** What the search looks for and what the session fields are compared with. */
  lookup: string;
  /** Metadata key -> value; fields with an empty cell are absent. */
  values: Record<string, MetadataValue>;
}

/**
 * Turns one source row into a key and typed metadata values, or a RowError naming the file,
 * row and every column at fault. Pure.
 */
export function mapRow(mapping: Mapping, plan: ColumnPlan, row: SourceRow, file: string, sheet?: string): Result<MappedRow, RowError> {
  const place = { file, row: row.row, sheet };
  if (row.shapeError) return { ok: false, error: new RowError(row.shapeCode ?? 'E_ROW_SHAPE', place, `the row ${row.shapeError}`) };

  const column = mapping.match.column;
  const key = cellText(row.cells[plan.keyIndex] ?? null).trim();
  const keyProblem = filterValueProblem(key);
  if (keyProblem) return { ok: false, error: new RowError('E_INVALID_KEY', { ...place, column }, keyProblem) };
  const lookup = lookupValue(key, mapping.match.by);
  if (lookup === '') return { ok: false, error: new RowError('E_INVALID_KEY', { ...place, column }, `expected an audio file name, got ${JSON.stringify(key)}`) };

  const values: Record<string, MetadataValue> = {};
  const problems: { column: string; expected: string }[] = [];
  mapping.fields.forEach((field, i) => {
    const r = convertCell(row.cells[plan.fieldIndexes[i]!], field);
    if (!r.ok) problems.push({ column: field.column, expected: r.error });
    else if (r.value !== undefined) values[field.name] = r.value;
  });
  const [first, ...more] = problems;
  if (first) {
    // the first column at fault is the error's column; every other one is named in the message
    const detail = [`expected ${first.expected}`, ...more.map((p) => `column "${p.column}": expected ${p.expected}`)].join('; ');
    return { ok: false, error: new RowError('E_INVALID_VALUE', { ...place, column: first.column }, detail) };
  }
  return { ok: true, value: { key, lookup, values } };
}

/** The key cell of a row as text, for rows that could not be mapped. */
export function keyCellText(row: SourceRow, plan: ColumnPlan): string {
  return cellText(row.cells[plan.keyIndex] ?? null).trim();
}

/** An audio file name reduced to its base name without directory and extension. */
export function baseName(name: string): string {
  const last = name.split(/[\\/]/).pop() ?? '';
  const dot = last.lastIndexOf('.');
  return dot > 0 ? last.slice(0, dot) : last;
}

export function lookupValue(key: string, by: MatchBy): string {
  return by === 'audio_filename' ? baseName(key).trim() : key;
}
