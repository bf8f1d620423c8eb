import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { LineCounter, isNode, parseDocument, type Document } from 'yaml';
import { ConfigError, type ConfigIssue, type Result } from '../errors.js';
import type { FieldSpec, Mapping } from './types.js';
import { closest, validateMapping } from './validate.js';

/** Reads and checks a mapping file (YAML or JSON). Throws ConfigError with every problem found. */
export async function loadMapping(file: string): Promise<Mapping> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError(file, [{ path: '', message: code === 'ENOENT' ? 'file not found' : `cannot read the file (${code ?? 'error'})` }]);
  }
  return parseMapping(text, file);
}

export function parseMapping(text: string, file: string): Mapping {
  let doc: unknown;
  if (extname(file).toLowerCase() === '.json') {
    try {
      doc = JSON.parse(text);
    } catch (err) {
      throw new ConfigError(file, [{ path: '', message: `not valid JSON: ${(err as Error).message}` }]);
    }
  } else {
    const lines = new LineCounter();
    const parsed = parseDocument(text, { prettyErrors: false, uniqueKeys: true, lineCounter: lines });
    if (parsed.errors.length > 0) {
      throw new ConfigError(
        file,
        parsed.errors.map((e) => ({ path: '', message: `not valid YAML${e.linePos?.[0] ? ` (line ${e.linePos[0].line})` : ''}: ${e.message.split('\n')[0]}` })),
      );
    }
    doc = parsed.toJS();
    const checked = validateMapping(doc, file);
    if (!checked.ok) {
      // point at the line of each problem: the node at its path, or the nearest parent that exists
      for (const issue of checked.error) {
        const line = lineOf(parsed, lines, issue.path);
        if (line !== undefined) issue.line = line;
      }
      throw new ConfigError(file, checked.error);
    }
    return checked.value;
  }
  const checked = validateMapping(doc, file);
  if (!checked.ok) throw new ConfigError(file, checked.error);
  return checked.value;
}

export interface ColumnPlan {
  /** Column of the first key (the one-key shorthand). */
  keyIndex: number;
  /** Column of each key, in `match.keys` order (a conversation key's: its time column). */
  keyIndexes: number[];
  /** A conversation key's equality columns, per key (empty for an ID key). */
  equalIndexes: number[][];
  /** The column of match.dateColumn: each row's day (index mode's windows, and the candidates it allows). */
  dateIndex?: number;
  /** The field mapped from that column, when it is a date or datetime field: its formats read the day. */
  dateField?: FieldSpec;
  /** Column index for each field, in `mapping.fields` order. */
  fieldIndexes: number[];
}

/**
 * Finds each configured column in a file's header: exactly first, then trimmed and
 * case-insensitively when that is unambiguous. Returns every missing column as an issue,
 * listing the columns that do exist.
 */
export function planColumns(mapping: Mapping, header: string[], inputFile: string): Result<ColumnPlan, ConfigIssue[]> {
  const issues: ConfigIssue[] = [];
  const find = (column: string, path: string): number => {
    let idx = header.indexOf(column);
    if (idx >= 0) return idx;
    const norm = column.trim().toLowerCase();
    const loose = header.flatMap((h, i) => (h.trim().toLowerCase() === norm ? [i] : []));
    if (loose.length === 1) return loose[0]!;
    if (loose.length > 1) {
      issues.push({
        path,
        message: `column "${column}" matches ${loose.length} columns of ${inputFile} when case is ignored (${loose.map((i) => JSON.stringify(header[i])).join(', ')}); write it exactly`,
      });
      return -1;
    }
    const guess = closest(column, header);
    issues.push({
      path,
      message: `column "${column}" is not in ${inputFile}${guess ? ` (did you mean "${guess}"?)` : ''}; its columns are: ${header.map((h) => JSON.stringify(h)).join(', ')}`,
    });
    idx = -1;
    return idx;
  };
  const keys = mapping.match.keys;
  const keyIndexes = keys.map((k, i) =>
    find(k.column, k.by === 'conversation' ? `match.keys.${i}.time.column` : keys.length === 1 ? 'match.column' : `match.keys.${i}.column`),
  );
  const equalIndexes = keys.map((k, i) => (k.by === 'conversation' ? k.equal.map((e, j) => find(e.column, `match.keys.${i}.equal.${j}.column`)) : []));
  const fieldIndexes = mapping.fields.map((f) => find(f.column, `fields.${f.name}.column`));
  const dateIndex = mapping.match.dateColumn === undefined ? undefined : find(mapping.match.dateColumn, 'match.dateColumn');
  if (issues.length > 0) return { ok: false, error: issues };
  const dateField = mapping.fields.find((f) => f.column === mapping.match.dateColumn && (f.type === 'date' || f.type === 'datetime'));
  return {
    ok: true,
    value: {
      keyIndex: keyIndexes[0]!,
      keyIndexes,
      equalIndexes,
      fieldIndexes,
      ...(dateIndex !== undefined && { dateIndex }),
      ...(dateField !== undefined && { dateField }),
    },
  };
}

function lineOf(doc: Document, lines: LineCounter, path: string): number | undefined {
  const parts = path === '' ? [] : path.split('.');
  for (let n = parts.length; n >= 0; n--) {
    const node: unknown = n === 0 ? doc.contents : doc.getIn(parts.slice(0, n), true);
    if (isNode(node) && node.range) return lines.linePos(node.range[0]).line;
    // an unknown or misspelt key: find the key node itself in its parent map
    const parent: unknown = n <= 1 ? doc.contents : doc.getIn(parts.slice(0, n - 1), true);
    const items = (parent as { items?: { key?: { value?: unknown; range?: [number, number, number] } }[] } | undefined)?.items;
    const key = items?.find((p) => p.key?.value === parts[n - 1])?.key;
    if (key?.range) return lines.linePos(key.range[0]).line;
  }
  return undefined;
}
