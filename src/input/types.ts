import { MAPPING_DEFAULTS } from '../mapping/types.js';
import type { ErrorCode } from '../errors.js';
import type { Snapshot } from './snapshot.js';

/** One cell as read from the file: CSV gives strings, XLSX gives typed values. */
export type Cell = string | number | boolean | Date | null;

export interface SourceRow {
  /** The row number as a spreadsheet application shows it (the header row is row 1, or `headerRow`). */
  row: number;
  /** CSV: the physical line the record starts on (later than `row` once a cell held a line break). */
  line?: number;
  cells: Cell[];
  /** A problem with the row's shape (too few or too many cells); the row is reported invalid. */
  shapeError?: string;
  /** The code of that problem (default E_ROW_SHAPE). */
  shapeCode?: ErrorCode;
}

export interface RowSource {
  file: string;
  /** The bytes read: the file as the run first saw it. */
  snapshot: Snapshot;
  /** The format's name in input/formats.ts (csv, xlsx, jsonl, ...). */
  format: string;
  header: string[];
  /**
   * Each data row once, in file order, a batch at a time (what the parser has ready, each row
   * made as it is taken): the run reads these. Nothing is held beyond the current batch.
   */
  batches: AsyncIterable<Iterable<SourceRow>>;
  /** The same rows one by one (for readers off the hot path); read either this or `batches`. */
  rows: AsyncIterable<SourceRow>;
  /** Releases the file; safe to call more than once and after the rows are exhausted. */
  close(): Promise<void>;
  /** What was detected or chosen, for `summary.json` and `inspect`. */
  details: Record<string, string | number>;
}

/** A cell larger than this makes its row invalid (`input.maxCellBytes`). */
export const DEFAULT_MAX_CELL_BYTES = MAPPING_DEFAULTS.maxCellBytes;
/** An XLSX shared-strings table may inflate to at most this (`input.maxSharedStringsMb`). */
export const DEFAULT_MAX_SHARED_STRINGS_MB = MAPPING_DEFAULTS.maxSharedStringsMb;
