import { extname } from 'node:path';
import type { InputSpec } from '../mapping/types.js';
import { openCsv } from './csv.js';
import { jsonlFormat } from './jsonl.js';
import { countLines } from './line-count.js';
import { type Snapshot, takeSnapshot } from './snapshot.js';
import { xlsxRows } from './xlsx-count.js';
import type { RowSource } from './types.js';

/**
 * The input formats, each once: the extensions it takes, how it is opened into rows, how its rows
 * are counted quickly (a progress bar's total), and what `inspect` adds. Opening a file, counting
 * it, scanning a drop folder, `inspect` and the help texts all ask this registry; a new format is
 * its own file and a line here.
 */
export interface Format {
  name: RowSource['format'];
  /** Lower case, with the dot. */
  extensions: readonly string[];
  open(file: string, spec: InputSpec, snap: Snapshot): Promise<RowSource>;
  /** Data rows, quickly; undefined when it cannot be told. */
  count(file: string, spec: InputSpec, snap: Snapshot): Promise<number | undefined>;
  /** What `inspect` shows beyond the rows (an Excel file's sheets). */
  inspect?(file: string): Promise<Record<string, unknown>>;
  /** A file of this format in a drop folder may be a note rather than an export (.txt): passed over when it lacks the mapping's columns. */
  mayBeNote?(file: string): boolean;
}

const csvFormat: Format = {
  name: 'csv',
  extensions: ['.csv', '.tsv', '.txt'],
  open: (file, spec, snap) =>
    openCsv(
      file,
      {
        delimiter: spec.delimiter ?? (extname(file).toLowerCase() === '.tsv' ? '\t' : undefined),
        encoding: spec.encoding,
        headerRow: spec.headerRow,
        maxCellBytes: spec.maxCellBytes,
      },
      snap,
    ),
  // blank lines make it a little high; the run refines it
  count: async (_file, spec, snap) => Math.max(0, (await countLines(snap, true)) - (spec.headerRow ?? 1)),
  mayBeNote: (file) => extname(file).toLowerCase() === '.txt',
};

// exceljs is large (~25 MB resident): loaded only when a workbook is read
const xlsxFormat: Format = {
  name: 'xlsx',
  extensions: ['.xlsx', '.xlsm'],
  open: async (file, spec, snap) =>
    (await import('./xlsx.js')).openXlsx(
      file,
      { sheet: spec.sheet, headerRow: spec.headerRow, maxCellBytes: spec.maxCellBytes, maxSharedStringsMb: spec.maxSharedStringsMb },
      snap,
    ),
  count: xlsxRows,
  inspect: async (file) => ({ sheets: await (await import('./xlsx.js')).listSheets(file) }),
};

export const FORMATS: readonly Format[] = [csvFormat, xlsxFormat, jsonlFormat];

/** Formats that are refused with what to do instead. */
const REFUSED: Record<string, string> = {
  '.xls': 'old-style .xls workbooks are not supported; open it and save it as "Excel Workbook (.xlsx)" or as CSV (UTF-8)',
  '.xlsb': 'binary .xlsb workbooks are not supported; save it as "Excel Workbook (.xlsx)" or as CSV (UTF-8)',
  '.ods': 'OpenDocument .ods spreadsheets are not supported; save it as .xlsx or as CSV (UTF-8)',
  '.numbers': 'Numbers files are not supported; export it as .xlsx or as CSV (UTF-8)',
};

export function formatOf(file: string): Format | undefined {
  const ext = extname(file).toLowerCase();
  return FORMATS.find((f) => f.extensions.includes(ext));
}

/** Every extension an export may have. */
export function exportExtensions(): string[] {
  return FORMATS.flatMap((f) => f.extensions);
}

/** `.csv, .tsv, .txt, .xlsx, .xlsm, .jsonl or .ndjson`, for help texts and messages. */
export function extensionList(): string {
  const all = exportExtensions();
  return `${all.slice(0, -1).join(', ')} or ${all[all.length - 1]}`;
}

/** Why a file cannot be read as an export, with what to do; undefined for a known format. */
export function refusal(file: string): string | undefined {
  if (formatOf(file)) return undefined;
  const ext = extname(file).toLowerCase();
  return REFUSED[ext] ?? `unknown file type "${ext || '(none)'}"; expected ${extensionList()}`;
}

/**
 * How many data rows an export holds, quickly and before the run, for a progress bar's total
 * (each format's `count`). Undefined when it cannot be told.
 */
export async function estimateRows(file: string, spec: InputSpec = {}, snap?: Snapshot): Promise<number | undefined> {
  try {
    return await formatOf(file)?.count(file, spec, snap ?? (await takeSnapshot(file)));
  } catch {
    return undefined;
  }
}
