import type { ConversationKey, MatchBy, OnMultiple } from './mapping/types.js';

/**
 * One write to one session, as a run's way back records it: `undo.jsonl` (a real run's writes,
 * each line durable before its PUT is sent) and `plan.jsonl` (a dry run's writes, what `apply`
 * sends) hold the same lines. A line says how the session was found, so that `undo` and `apply`
 * find it again without the input or the mapping, and, for each field the write changes, what
 * the session held before and what the write sets.
 */
export interface ChangeLine {
  /** The id of the run that wrote (or would write) it. */
  run: string;
  /** When the line was written (ISO). */
  at: string;
  session: string;
  /** Where the row came from (for the report). */
  file: string;
  row: number;
  /** How the run found the session: its key's search, checked the same way. */
  find: FindBy;
  /** Each changed field: `before` absent when the session did not hold the key. */
  fields: Record<string, FieldWrite>;
}

export interface FindBy {
  /** The column (or, for an undo or apply, the earlier run's column) whose value found the session. */
  column: string;
  lookup: string;
  by: MatchBy;
  sessionFields: string[];
  /** The row's date, when the run decided by it. */
  date?: string;
  onMultiple: OnMultiple;
  newestField: string;
  datePad: number;
  /** A conversation key: the key as the mapping gave it, and the row's time (ms) and normalised values. */
  conversation?: { key: ConversationKey; at: number; equal: string[][] };
}

export interface FieldWrite {
  before?: unknown;
  after: unknown;
}

export const UNDO_FILE = 'undo.jsonl';
export const PLAN_FILE = 'plan.jsonl';

/** Where a run's writes go before they are sent: a promise that resolves once the line is durable. */
export interface ChangeSink {
  write(line: ChangeLine): Promise<void>;
}

/** Whether a parsed line has the shape of a ChangeLine (a torn or foreign line does not). */
export function isChangeLine(v: unknown): v is ChangeLine {
  if (typeof v !== 'object' || v === null) return false;
  const l = v as Record<string, unknown>;
  const find = l.find as Record<string, unknown> | undefined;
  return (
    typeof l.run === 'string' &&
    typeof l.session === 'string' &&
    typeof l.file === 'string' &&
    typeof l.row === 'number' &&
    typeof l.fields === 'object' &&
    l.fields !== null &&
    typeof find === 'object' &&
    find !== null &&
    typeof find.lookup === 'string' &&
    Array.isArray(find.sessionFields)
  );
}
