import { extname } from 'node:path';
import { InputError } from '../errors.js';
import type { InputSpec } from '../mapping/types.js';
import { openCsv } from './csv.js';
import { takeSnapshot, type Snapshot } from './snapshot.js';
import type { RowSource } from './types.js';

const REFUSED: Record<string, string> = {
  '.xls': 'old-style .xls workbooks are not supported; open it and save it as "Excel Workbook (.xlsx)" or as CSV (UTF-8)',
  '.xlsb': 'binary .xlsb workbooks are not supported; save it as "Excel Workbook (.xlsx)" or as CSV (UTF-8)',
  '.ods': 'OpenDocument .ods spreadsheets are not supported; save it as .xlsx or as CSV (UTF-8)',
  '.numbers': 'Numbers files are not supported; export it as .xlsx or as CSV (UTF-8)',
};

/**
 * Opens an export by its extension: .csv/.txt/.tsv as CSV, .xlsx/.xlsm as Excel. With a snapshot,
 * reads the bytes the run first saw (see snapshot.ts); without, notes one now.
 */
export async function openRows(file: string, spec: InputSpec = {}, snap?: Snapshot): Promise<RowSource> {
  const ext = extname(file).toLowerCase();
  if (!REFUSED[ext] && ['.xlsx', '.xlsm', '.csv', '.txt', '.tsv'].includes(ext)) snap ??= await takeSnapshot(file);
  if (ext === '.xlsx' || ext === '.xlsm') {
    // exceljs is large (~25 MB resident): load it only when a workbook is read
    const { openXlsx } = await import('./xlsx.js');
    return openXlsx(file, { sheet: spec.sheet, headerRow: spec.headerRow, maxCellBytes: spec.maxCellBytes, maxSharedStringsMb: spec.maxSharedStringsMb }, snap!);
  }
  if (ext === '.csv' || ext === '.txt' || ext === '.tsv') return openCsv(file, { delimiter: spec.delimiter ?? (ext === '.tsv' ? '\t' : undefined), encoding: spec.encoding, headerRow: spec.headerRow, maxCellBytes: spec.maxCellBytes }, snap!);
  const refused = REFUSED[ext];
  throw new InputError(file, refused ?? `unknown file type "${ext || '(none)'}"; expected .csv, .tsv, .txt or .xlsx`);
}
