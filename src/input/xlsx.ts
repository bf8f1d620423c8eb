import type { Readable } from 'node:stream';
import ExcelJS from 'exceljs';
import { InputError } from '../errors.js';
import { cellText } from './cell.js';
import { checkWidth, markLargeCells } from './shape.js';
import { unneutralise } from './formula.js';
import { checkHeader } from './header.js';
import { eachRow } from './batches.js';
import { readHead } from './head.js';
import { readSnapshot, type Snapshot } from './snapshot.js';
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

/** What the zip check found of a snapshot: a file read again (a second pass) is not inflated twice. */
const checked = new WeakMap<Snapshot, string[]>();

/** The entries of a workbook, checked against zip bombs once a snapshot. */
async function checkedEntries(file: string, options: XlsxOptions, snap: Snapshot): Promise<string[]> {
  const sharedMb = options.maxSharedStringsMb ?? DEFAULT_MAX_SHARED_STRINGS_MB;
  const limit = { bytes: sharedMb * 1024 * 1024, setting: `input.maxSharedStringsMb ${sharedMb}` };
  const entries = checked.get(snap) ?? (await checkZip(file, { ...DEFAULT_ZIP_LIMITS, maxEntryBytes: { 'xl/sharedStrings.xml': limit } }, snap));
  checked.set(snap, entries);
  return entries;
}

/** The first row with a value (from `headerRow` on): the header, trimmed, and its row number. */
async function readHeader(pull: () => Promise<ExcelRow | undefined>, wanted: number | undefined): Promise<{ header: string[]; headerRow: number } | undefined> {
  for (let row = await pull(); row; row = await pull()) {
    if (wanted !== undefined && row.number < wanted) continue;
    const cells = rowCells(row);
    if (cells.every(isEmpty)) continue;
    return { header: trimTrailingEmpty(cells).map((c) => cellText(c).trim()), headerRow: row.number };
  }
  return undefined;
}

/**
 * Rows in batches of up to 256: exceljs hands them over one at a time, but most come from a
 * chunk of the sheet already parsed; a batch of its own a row cost a generator step, a promise
 * and an array a row (a third of what validate allocated on a workbook beyond exceljs's own).
 */
async function* sheetBatches(
  pull: () => Promise<ExcelRow | undefined>,
  header: string[],
  maxCell: number,
  stream: Readable,
): AsyncGenerator<Iterable<SourceRow>> {
  try {
    for (let next = await pull(); next; ) {
      const batch: SourceRow[] = [];
      for (; next && batch.length < 256; next = await pull()) {
        const row = sourceRow(next, header.length);
        if (!row) continue;
        markLargeCells(row, header, maxCell);
        batch.push(row);
      }
      if (batch.length > 0) yield batch;
    }
  } finally {
    stream.destroy();
  }
}

export async function openXlsx(file: string, options: XlsxOptions, snap: Snapshot): Promise<RowSource> {
  await checkSignature(file, snap);
  const entries = await checkedEntries(file, options, snap);
  const { stream, sheet } = await openSheet(file, snap, options.sheet, entries);
  // exceljs's own row iterator: taking the sheet's parse events a chunk at a time instead was
  // measured a quarter slower on 200,000 rows (the GC time tripled)
  const rowIterator = sheet[Symbol.asyncIterator]();
  const pull = async (): Promise<ExcelRow | undefined> => {
    try {
      const next = await rowIterator.next();
      return next.done ? undefined : next.value;
    } catch (err) {
      stream.destroy();
      throw unreadable(file, err);
    }
  };
  const found = await readHeader(pull, options.headerRow);
  if (!found) {
    stream.destroy();
    throw new InputError(file, `sheet "${sheet.name}" is empty${options.headerRow ? ` from row ${options.headerRow} on` : ''}; expected a header row`);
  }
  const { header, headerRow } = found;
  checkHeader(file, header, headerRow, sheet.name);
  const all = sheetBatches(pull, header, options.maxCellBytes ?? DEFAULT_MAX_CELL_BYTES, stream);
  const close = async () => void stream.destroy();
  return { file, snapshot: snap, format: 'xlsx', header, batches: all, rows: eachRow(all), close, details: { format: 'xlsx', sheet: sheet.name, headerRow } };
}

function unreadable(file: string, err: unknown): InputError {
  if (err instanceof InputError) return err;
  return new InputError(
    file,
    `not a readable .xlsx workbook (${(err as Error).message}); save it again from the spreadsheet application as "Excel Workbook (.xlsx)"`,
    { cause: err },
  );
}

/** What exceljs's reader has read by the time it hands over a sheet. */
type ReaderState = { sharedStrings?: unknown; workbookRels?: unknown; model?: unknown };

/** A worksheet's entry in the zip. */
const SHEET_ENTRY = /^xl\/worksheets\/sheet\d+\.xml$/;

/**
 * Entries the workbook holds that exceljs's streaming reader had not read when it handed over the
 * sheet (or failed for want of them). exceljs sometimes loses entries to a race in its stream
 * iteration (exceljs issues #2663, PR #2671), more often on a loaded machine: without the shared
 * strings or the workbook's relationships the sheet comes with `Sheet1` for its name and
 * `{ sharedString: n }` objects for its text cells; without `xl/workbook.xml` (sheet names, hidden
 * sheets, the 1904 date system) exceljs throws. The first two are waited for before any sheet is
 * handed over; the workbook is read by then only when it comes before the sheets (`entries` are
 * in the zip's order), so only then is its absence a loss.
 */
export function missedEntries(entries: readonly string[], reader: ReaderState): string[] {
  const missed: string[] = [];
  if (entries.includes('xl/sharedStrings.xml') && reader.sharedStrings === undefined) missed.push('xl/sharedStrings.xml');
  if (entries.includes('xl/_rels/workbook.xml.rels') && reader.workbookRels === undefined) missed.push('xl/_rels/workbook.xml.rels');
  const firstSheet = entries.findIndex((e) => SHEET_ENTRY.test(e));
  const workbook = entries.indexOf('xl/workbook.xml');
  if (workbook >= 0 && (firstSheet < 0 || workbook < firstSheet) && reader.model === undefined) missed.push('xl/workbook.xml');
  return missed;
}

/**
 * Reads up to the wanted sheet; a read that lost entries (see `missedEntries`), or failed for want
 * of one, is done again, up to three times.
 */
async function openSheet(
  file: string,
  snap: Snapshot,
  wanted: string | number | undefined,
  entries: readonly string[],
): Promise<{ stream: Readable; sheet: SheetReader }> {
  for (let attempt = 1; ; attempt++) {
    const stream = await readSnapshot(snap);
    const reader = new ExcelJS.stream.xlsx.WorkbookReader(stream, {
      sharedStrings: 'cache',
      styles: 'cache', // needed to tell dates from numbers
      hyperlinks: 'ignore',
      worksheets: 'emit',
      entries: 'ignore',
    });
    const sheets = (reader as unknown as AsyncIterable<SheetReader>)[Symbol.asyncIterator]();
    const found = await findSheet(sheets, wanted).catch((err: unknown) => ({ err }));
    const missed = missedEntries(entries, reader as unknown as ReaderState);
    if (missed.length === 0) {
      if (!('err' in found) && found.sheet) return { stream, sheet: found.sheet };
      stream.destroy();
      if ('err' in found) throw unreadable(file, found.err);
      throw new InputError(
        file,
        wanted === undefined
          ? 'the workbook has no visible sheet'
          : `sheet ${JSON.stringify(wanted)} not found; the workbook has: ${found.seen.map((s) => JSON.stringify(s)).join(', ')}`,
      );
    }
    stream.destroy();
    if (attempt === 3)
      throw new InputError(
        file,
        `the workbook could not be read whole: ${missed.join(', ')} went unread three times (exceljs's streaming reader); try again, or save the sheet as CSV (UTF-8)`,
      );
  }
}

/** A text cell over the limit makes the row invalid; its text is dropped. */

/** Streaming gives sheets one by one: counts them as they come, and skips the rows of the others. */
async function findSheet(sheets: AsyncIterator<SheetReader>, wanted: string | number | undefined): Promise<{ sheet: SheetReader | undefined; seen: string[] }> {
  const seen: string[] = [];
  let position = 0;
  for (let next = await sheets.next(); !next.done; next = await sheets.next()) {
    const ws = next.value;
    position++;
    seen.push(ws.name);
    const hit =
      wanted === undefined
        ? ws.state !== 'hidden' && ws.state !== 'veryHidden'
        : typeof wanted === 'number'
          ? position === wanted
          : ws.name === wanted || ws.name.trim().toLowerCase() === wanted.trim().toLowerCase();
    if (hit) return { sheet: ws, seen };
    for await (const _ of ws) void _;
  }
  return { sheet: undefined, seen };
}

async function checkSignature(file: string, snap: Snapshot): Promise<void> {
  const buf = await readHead(file, 8, snap);
  if (buf.length === 0) throw new InputError(file, 'the file is empty (0 bytes)');
  if (buf.subarray(0, 4).equals(Buffer.from([0xd0, 0xcf, 0x11, 0xe0]))) {
    throw new InputError(
      file,
      'this is an old-style .xls workbook or a password-protected .xlsx; remove the password and save it as "Excel Workbook (.xlsx)" or as CSV (UTF-8)',
    );
  }
  if (!buf.subarray(0, 2).equals(Buffer.from('PK'))) {
    throw new InputError(file, 'not an .xlsx workbook (it is not a zip archive); save it as "Excel Workbook (.xlsx)" or as CSV (UTF-8)');
  }
}

/**
 * A row as `width` cells in one pass (this runs for every row): null for a row with nothing in
 * it, a shape error for one with cells past the header's last column.
 */
function sourceRow(row: ExcelRow, width: number): SourceRow | null {
  // exceljs rows are 1-based: values[0] is always empty
  const values = Array.isArray(row.values) ? row.values : [];
  const cells: Cell[] = new Array<Cell>(width).fill(null);
  let last = 0;
  for (let i = 1; i < values.length; i++) {
    let c = toCell(values[i]);
    if (typeof c === 'string' && c.charCodeAt(0) === 39) c = unneutralise(c);
    if (i <= width) cells[i - 1] = c;
    if (!isEmpty(c)) last = i;
  }
  if (last === 0) return null;
  const out: SourceRow = { row: row.number, cells };
  checkWidth(out, last, width);
  return out;
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

/** The sheets of a workbook, with their visibility, for `inspect`. */
export async function listSheets(file: string): Promise<{ name: string; state: string }[]> {
  // read to the end, where exceljs has read every entry: a lost `xl/workbook.xml` (see
  // missedEntries) leaves the sheets without their names, or makes exceljs throw; read again
  for (let attempt = 1; ; attempt++) {
    const reader = new ExcelJS.stream.xlsx.WorkbookReader(file, {
      sharedStrings: 'ignore',
      styles: 'ignore',
      hyperlinks: 'ignore',
      worksheets: 'emit',
      entries: 'ignore',
    });
    const out: { name: string; state: string }[] = [];
    try {
      for await (const ws of reader as unknown as AsyncIterable<AsyncIterable<unknown> & { name: string; state?: string }>) {
        out.push({ name: ws.name, state: ws.state ?? 'visible' });
        for await (const _ of ws) void _;
      }
    } catch (err) {
      if (attempt === 3) throw err;
      continue;
    }
    if ((reader as unknown as ReaderState).model !== undefined || attempt === 3) return out;
  }
}
