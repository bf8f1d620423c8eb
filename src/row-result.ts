import type { CellProblem, ErrorCode } from './errors.js';
import { scrub } from './redact.js';

/**
 * A row's result, at the bottom of the layers: the pipeline makes it, the journal and the stop
 * rules read it, the report writes it. results.csv's columns are defined here once, each with
 * the value it takes from a result: the writer and the tests use the same list.
 */

export const STATUSES = [
  'updated',
  'unchanged',
  'would_update',
  'skipped',
  'valid',
  'unmatched',
  'ambiguous',
  'invalid',
  'failed',
  // undo: a field changed since the run, left as it is (the others restored)
  'kept',
  // apply: the session no longer holds the plan's before-values, or its key finds another; not written
  'conflict',
] as const;
export type Status = (typeof STATUSES)[number];

/** Statuses that end a row well; any other status makes the run exit 1. */
export const OK_STATUSES: ReadonlySet<Status> = new Set(['updated', 'unchanged', 'would_update', 'skipped', 'valid']);

export type Counts = Record<Status | 'total', number>;

export function emptyCounts(): Counts {
  const c = {} as Counts;
  for (const s of STATUSES) c[s] = 0;
  c.total = 0;
  return c;
}

export interface RowResult {
  file: string;
  row: number;
  /** CSV: the physical line the row starts on. */
  line?: number | undefined;
  key: string;
  status: Status;
  sessionId?: string | undefined;
  changed?: string[] | undefined;
  errorCode?: ErrorCode | undefined;
  errorMessage?: string | undefined;
  /** A failure of the API (unreachable, 429, 5xx), not of the row: counted by the circuit breaker. */
  transport?: boolean;
  /** A failure that ends the run (a refused login): exit 3. */
  fatal?: boolean;
  /** The column whose key found the session. */
  matchedBy?: string | undefined;
  /** What decided among the candidates, when it was more than the key: the row's date, or only the listed window. */
  matchNote?: string | undefined;
  /** skipped by a resume: the status the row ended with in the earlier run. */
  earlier?: Status | undefined;
  /** invalid: the cells at fault (column, text, what was expected), for the report; not a results.csv column. */
  problems?: CellProblem[] | undefined;
  /** updated / would_update: each changed field, before and after. */
  changes?: FieldChange[] | undefined;
}

export interface FieldChange {
  field: string;
  /** Absent (undefined) when the session did not hold the field. */
  before: unknown;
  after: unknown;
}

/** results.csv: each column's name and its value for a row (the error message scrubbed of secrets). */
export const RESULT_COLUMNS = [
  { name: 'file', value: (r: RowResult) => r.file },
  { name: 'row', value: (r: RowResult) => r.row },
  { name: 'line', value: (r: RowResult) => r.line },
  { name: 'key', value: (r: RowResult) => r.key },
  { name: 'status', value: (r: RowResult) => r.status },
  { name: 'session_id', value: (r: RowResult) => r.sessionId },
  { name: 'changed_fields', value: (r: RowResult) => r.changed?.join(';') },
  { name: 'error_code', value: (r: RowResult) => r.errorCode },
  { name: 'error_message', value: (r: RowResult) => r.errorMessage && scrub(r.errorMessage) },
  { name: 'matched_by', value: (r: RowResult) => r.matchedBy },
  { name: 'match_note', value: (r: RowResult) => r.matchNote },
] as const;

export type ResultColumn = (typeof RESULT_COLUMNS)[number]['name'];

/** changes.csv's columns: one line per changed field. */
export const CHANGE_COLUMNS = ['file', 'row', 'key', 'session_id', 'field', 'before', 'after'] as const;
