import type { SourceRow } from '../input/types.js';
import type { RowResult } from '../row-result.js';

/** A row and what recording it needs: its file, the header (for failed.csv), its hash (for the journal). */
export interface RowAt {
  file: string;
  /** The file's identity in the journal. */
  absFile: string;
  header: string[];
  row: SourceRow;
  hash: string;
}

/** Where finished rows go (journal, report, thresholds). Never rejects; a promise means "wait". */
export interface RowSink {
  record(result: RowResult, at: RowAt): Promise<void> | undefined | void;
}

/** What the pipeline needs of the run's stop rules. */
export interface StopState {
  readonly stopping: boolean;
  fatal(reason: string): void;
  abort(reason: string): void;
}

export interface DuplicateKeys {
  /** Rows whose key was already on an earlier row of the same file. */
  rows: number;
  examples: { file: string; key: string; rows: [number, number] }[];
}
