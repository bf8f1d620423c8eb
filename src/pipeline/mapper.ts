import { RowError } from '../errors.js';
import type { SourceRow } from '../input/types.js';
import { cellText } from '../input/cell.js';
import type { ColumnPlan } from '../mapping/load.js';
import type { Mapping, MatchBy, MetadataValue } from '../mapping/types.js';
import { convertCell } from './convert.js';

export interface MappedRow {
  /** The key as it stands in the file, trimmed. */
  key: string;
  /** What goes into `search_query` and is compared with the session fields. */
  lookup: string;
  /** Metadata key -> value; fields with an empty cell are absent. */
  values: Record<string, MetadataValue>;
}

/**
 * Turns one source row into a key and typed metadata values, or a RowError naming the file,
 * row and every column at fault. Pure.
 */
export function mapRow(mapping: Mapping, plan: ColumnPlan, row: SourceRow, file: string, sheet?: string): MappedRow | RowError {
  const where = `${file}${sheet ? `, sheet "${sheet}",` : ''} row ${row.row}`;
  if (row.shapeError) return new RowError('E_ROW_SHAPE', `${where}: the row ${row.shapeError}`);

  const problems: string[] = [];
  let firstColumn: string | undefined;
  const keyCell = row.cells[plan.keyIndex] ?? null;
  const key = cellText(keyCell).trim();
  const keyProblem = checkKey(key);
  if (keyProblem) {
    return new RowError('E_INVALID_KEY', `${where}, column "${mapping.match.column}": ${keyProblem}`, mapping.match.column);
  }
  const lookup = lookupValue(key, mapping.match.by);
  if (lookup === '') {
    return new RowError('E_INVALID_KEY', `${where}, column "${mapping.match.column}": expected an audio file name, got ${JSON.stringify(key)}`, mapping.match.column);
  }

  const values: Record<string, MetadataValue> = {};
  mapping.fields.forEach((field, i) => {
    const r = convertCell(row.cells[plan.fieldIndexes[i]!], field);
    if (!r.ok) {
      problems.push(`column "${field.column}": expected ${r.expected}`);
      firstColumn ??= field.column;
    } else if (r.value !== undefined) {
      values[field.name] = r.value;
    }
  });
  if (problems.length > 0) return new RowError('E_INVALID_VALUE', `${where}, ${problems.join('; ')}`, firstColumn);
  return { key, lookup, values };
}

/** Why a key cannot be sent as a `search_query` filter value, or undefined when it can. */
export function checkKey(key: string): string | undefined {
  if (key === '') return 'the key is empty';
  // `±` separates filters: a key holding it would add filters of its own
  if (key.includes('\u00b1')) return `the key ${JSON.stringify(key)} contains "±", which would change the search filter`;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(key)) return `the key ${JSON.stringify(key)} contains control characters (line breaks, tabs)`;
  return undefined;
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
