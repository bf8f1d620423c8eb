import { createReadStream } from 'node:fs';
import ExcelJS from 'exceljs';
import { InputError } from '../errors.js';
import { cellText, markCellTooLarge } from './cell.js';
import { checkHeader } from './header.js';
import { readHead } from './head.js';
import { DEFAULT_ZIP_LIMITS, checkZip } from './zip-guard.js';
import { DEFAULT_MAX_CELL_BYTES, DEFAULT_MAX_SHARED_STRINGS_MB, type Cell, type RowSource, type SourceRow } from './types.js';

export interface XlsxOptions {
  /** Sheet name, or 1-based number in workbook order; the first visible sheet when not set. */
  sheet?: string | number | undefined;
  /** 1-based row of the header; the first non-empty row when not set. */
  headerRow?: number | undefined;
  /** A text cell larger than this makes its row invalid (default 1 MB). */
  maxCellBytes?: number | undefined;
  /** The shared-strings table may inflate to at most this many MB (default 100). */
  maxSharedStringsMb?: number | undefined;
}

type ExcelRow = { number: number; values: unknown[] | Record<string, unknown> };
type SheetReader = AsyncIterable<ExcelRow> & { name: string; state?: string; id: number | string };

export async function openXlsx(file: string, options: XlsxOptions = {}): Promise<RowSource> {
  await checkSignature(file);
  const sharedMb = options.maxSharedStringsMb ?? DEFAULT_MAX_SHARED_STRINGS_MB;
  await checkZip(file, { ...DEFAULT_ZIP_LIMITS, maxEntryBytes: { 'xl/sharedStrings.xml': { bytes: sharedMb * 1024 * 1024, setting: `input.maxSharedStringsMb ${sharedMb}` } } });
  const maxCell = options.maxCellBytes ?? DEFAULT_MAX_CELL_BYTES;
  const stream = createReadStream(file);
  const reader = new ExcelJS.stream.xlsx.WorkbookReader(stream, {
    sharedStrings: 'cache',
    styles: 'cache', // needed to tell dates from numbers
    hyperlinks: 'ignore',
    worksheets: 'emit',
    entries: 'ignore',
  });
  const sheets = (reader as unknown as AsyncIterable<SheetReader>)[Symbol.asyncIterator]();
  const fail = (err: unknown): never => {
    stream.destroy();
    if (err instanceof InputError) throw err;
    throw new InputError(file, `not a readable .xlsx workbook (${(err as Error).message}); save it again from the spreadsheet application as "Excel Workbook (.xlsx)"`, { cause: err });
  };

  const { sheet, seen } = await findSheet(sheets, options.sheet).catch(fail);
  if (!sheet) {
    stream.destroy();
    throw new InputError(file, options.sheet === undefined ? 'the workbook has no visible sheet' : `sheet ${JSON.stringify(options.sheet)} not found; the workbook has: ${seen.map((s) => JSON.stringify(s)).join(', ')}`);
  }
  const sheetName = sheet.name;
  const rowIterator = sheet[Symbol.asyncIterator]();

  let header: string[] | undefined;
  let headerRow = 0;
  try {
    for (let next = await rowIterator.next(); !next.done; next = await rowIterator.next()) {
      if (options.headerRow !== undefined && next.value.number < options.headerRow) continue;
      const cells = rowCells(next.value);
      if (cells.every(isEmpty)) continue;
      header = trimTrailingEmpty(cells).map((c) => cellText(c).trim());
      headerRow = next.value.number;
      break;
    }
  } catch (err) {
    fail(err);
  }
  if (!header) {
    stream.destroy();
    throw new InputError(file, `sheet "${sheetName}" is empty${options.headerRow ? ` from row ${options.headerRow} on` : ''}; expected a header row`);
  }
  checkHeader(file, header, headerRow, sheetName);
  const width = header.length;

  async function* rows(): AsyncGenerator<SourceRow> {
    try {
      while (true) {
        let next: IteratorResult<ExcelRow>;
        try {
          next = await rowIterator.next();
        } catch (err) {
          fail(err);
          return;
        }
        if (next.done) return;
        const cells = rowCells(next.value);
        if (cells.every(isEmpty)) continue;
        const out: SourceRow = { row: next.value.number, cells: cells.slice(0, width) };
        while (out.cells.length < width) out.cells.push(null);
        markOversized(out, header!, maxCell);
        const extra = trimTrailingEmpty(cells).length;
        if (extra > width) out.shapeError = `has ${extra} cells but the header has ${width}`;
        yield out;
      }
    } finally {
      stream.destroy();
    }
  }

  return {
    file,
    format: 'xlsx',
    header,
    rows: rows(),
    close: async () => {
      stream.destroy();
    },
    details: { format: 'xlsx', sheet: sheetName, headerRow },
  };
}

/** A text cell over the limit makes the row invalid; its text is dropped. */
function markOversized(row: SourceRow, header: string[], maxCell: number): void {
  row.cells.forEach((c, i) => {
    // a UTF-16 string takes at most 3 bytes of UTF-8 per unit: measure only the long ones
    if (typeof c !== 'string' || c.length * 3 <= maxCell) return;
    const size = Buffer.byteLength(c);
    if (size > maxCell) markCellTooLarge(row, i, size, header, maxCell);
  });
}

/** Streaming gives sheets one by one: counts them as they come, and skips the rows of the others. */
async function findSheet(sheets: AsyncIterator<SheetReader>, wanted: string | number | undefined): Promise<{ sheet: SheetReader | undefined; seen: string[] }> {
  const seen: string[] = [];
  let position = 0;
  for (let next = await sheets.next(); !next.done; next = await sheets.next()) {
    const ws = next.value;
    position++;
    seen.push(ws.name);
    const hit = wanted === undefined ? ws.state !== 'hidden' && ws.state !== 'veryHidden' : typeof wanted === 'number' ? position === wanted : ws.name === wanted || ws.name.trim().toLowerCase() === wanted.trim().toLowerCase();
    if (hit) return { sheet: ws, seen };
    for await (const _ of ws) void _;
  }
  return { sheet: undefined, seen };
}

async function checkSignature(file: string): Promise<void> {
  const buf = await readHead(file, 8);
  if (buf.length === 0) throw new InputError(file, 'the file is empty (0 bytes)');
  if (buf.subarray(0, 4).equals(Buffer.from([0xd0, 0xcf, 0x11, 0xe0]))) {
    throw new InputError(file, 'this is an old-style .xls workbook or a password-protected .xlsx; remove the password and save it as "Excel Workbook (.xlsx)" or as CSV (UTF-8)');
  }
  if (!buf.subarray(0, 2).equals(Buffer.from('PK'))) {
    throw new InputError(file, 'not an .xlsx workbook (it is not a zip archive); save it as "Excel Workbook (.xlsx)" or as CSV (UTF-8)');
  }
}

function rowCells(row: ExcelRow): Cell[] {
  // exceljs rows are 1-based: values[0] is always empty
  const values = Array.isArray(row.values) ? row.values : [];
  const out: Cell[] = [];
  for (let i = 1; i < values.length; i++) out.push(toCell(values[i]));
  return out;
}

/** Reduces exceljs cell values (rich text, hyperlinks, formulas, errors) to a plain value. */
export function toCell(v: unknown): Cell {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' || v instanceof Date) return v;
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (Array.isArray(o.richText)) return (o.richText as { text?: string }[]).map((r) => r.text ?? '').join('');
    if ('formula' in o || 'sharedFormula' in o) return toCell(o.result);
    if ('hyperlink' in o || 'text' in o) return toCell(o.text);
    if (typeof o.error === 'string') return o.error;
  }
  return String(v);
}

function isEmpty(c: Cell): boolean {
  return c === null || (typeof c === 'string' && c.trim() === '');
}

function trimTrailingEmpty(cells: Cell[]): Cell[] {
  let end = cells.length;
  while (end > 0 && isEmpty(cells[end - 1]!)) end--;
  return cells.slice(0, end);
}
