import { isUtf8 } from 'node:buffer';
import { Transform } from 'node:stream';
import { parse, type Parser } from 'csv-parse';
import { InputError } from '../errors.js';
import { readHead } from './head.js';
import { grewSince, openSnapshot, readTail, snapshotStream, type Snapshot } from './snapshot.js';
import type { Readable } from 'node:stream';
import { CellGuard, oversizedBytes } from './cell-guard.js';
import { checkHeader, trimHeader } from './header.js';
import { ENCODINGS } from '../mapping/types.js';
import { markCellTooLarge } from './cell.js';
import { checkWidth } from './shape.js';
import { unneutralise } from './formula.js';
import { eachRow, readBatches } from './batches.js';
import { DEFAULT_MAX_CELL_BYTES, type RowSource, type SourceRow } from './types.js';

const SNIFF_BYTES = 64 * 1024;
const DELIMITERS = [',', ';', '\t', '|'];

export interface CsvOptions {
  delimiter?: string | undefined;
  /** utf-8, utf-16le, utf-16be, windows-1252 (also latin1 / iso-8859-1); detected when not set. */
  encoding?: string | undefined;
  /** 1-based line of the header, for exports with title lines above it (default 1). */
  headerRow?: number | undefined;
  /** A cell larger than this makes its row invalid, and is never held whole (default 1 MB). */
  maxCellBytes?: number | undefined;
}



export interface CsvSniff {
  encoding: string;
  bom: boolean;
  delimiter: string;
}

/** Encoding and delimiter of a CSV file, from its first 64 KiB. */
export async function sniffCsv(file: string, options: CsvOptions = {}, snap?: Snapshot): Promise<{ sniff: CsvSniff; head: Buffer }> {
  const head = await readHead(file, SNIFF_BYTES, snap);
  if (head.length === 0) throw new InputError(file, 'the file is empty (0 bytes); expected a header row');
  let encoding: string;
  let bom = true;
  if (head[0] === 0xff && head[1] === 0xfe) encoding = 'utf-16le';
  else if (head[0] === 0xfe && head[1] === 0xff) encoding = 'utf-16be';
  else if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) encoding = 'utf-8';
  else {
    bom = false;
    if (options.encoding) encoding = normalizeEncoding(file, options.encoding);
    else if (head.includes(0)) throw new InputError(file, 'the file holds binary data (NUL bytes), not CSV text; export the data as CSV (UTF-8) or use an .xlsx file');
    // a multi-byte character may be cut at the end of the sample: ignore up to 3 trailing bytes
    else encoding = [0, 1, 2, 3].some((cut) => isUtf8(head.subarray(0, head.length - cut))) ? 'utf-8' : 'windows-1252';
  }
  const text = new TextDecoder(encoding).decode(head);
  const from = Math.max(0, (options.headerRow ?? 1) - 1);
  const delimiter = options.delimiter ?? sniffDelimiter(text.split(/\r\n|\n|\r/).slice(from).join('\n'));
  return { sniff: { encoding, bom, delimiter }, head };
}

export async function openCsv(file: string, options: CsvOptions, snap: Snapshot): Promise<RowSource> {
  const { sniff } = await sniffCsv(file, options, snap);
  const headerRow = options.headerRow ?? 1;
  const maxCell = options.maxCellBytes ?? DEFAULT_MAX_CELL_BYTES;
  const guard = new CellGuard(maxCell, sniff.delimiter.charCodeAt(0));
  // a file whose bytes end mid-line may be one still being written: its last line is checked at the end
  const endsMidLine = !(await readTail(snap, 2)).some((b) => b === 0x0a || b === 0x0d);
  const { stream, parser } = parseStream(file, snapshotStream(await openSnapshot(snap), snap), sniff, guard, headerRow);
  const records = readBatches<string[]>(parser);
  const pull = async (): Promise<string[][] | undefined> => {
    try {
      const r = await records.next();
      return r.done ? undefined : r.value;
    } catch (err) {
      throw parseError(file, err, guard);
    }
  };

  // the line each record starts on: one line a record, plus the line breaks inside quoted cells
  let line = headerRow;
  let batch: string[][] = [];
  let at = 0;
  let first: string[] | undefined;
  try {
    while (!first) {
      if (at === batch.length) {
        const next = await pull();
        if (!next) break;
        [batch, at] = [next, 0];
        continue;
      }
      const record = batch[at++]!;
      if (isBlank(record)) line += linesOf(record);
      else first = record;
    }
  } catch (err) {
    stream.destroy();
    throw err;
  }
  if (!first) throw new InputError(file, headerRow > 1 ? `the file has no header row at line ${headerRow} (input.headerRow)` : 'the file has no header row');
  const headerLine = line;
  line += linesOf(first);
  const header = trimHeader(first.map((h) => unneutralise(h).trim()));
  checkHeader(file, header, headerLine);
  const width = header.length;
  let reported = 0;

  /** A batch of records as rows, converted as they are consumed (this runs for every record). */
  function* toRows(records: string[][], from: number, last: boolean): Generator<SourceRow> {
    for (let i = from; i < records.length; i++) {
      const record = records[i]!;
      const at = line;
      line += linesOf(record);
      // a line of nothing but delimiters is as blank as an empty one
      if (isBlank(record)) continue;
      // a cell a report neutralised ('=..., '+49...) is read as the value it stands for
      for (let c = 0; c < record.length; c++) if (record[c]!.charCodeAt(0) === 39) record[c] = unneutralise(record[c]!);
      const row: SourceRow = { row: at, cells: record };
      const used = lastNonEmpty(record) + 1;
      // a trailing delimiter (an empty last column) is not a shape problem
      if (record.length < width) row.shapeError = `has ${record.length} cell${record.length === 1 ? '' : 's'} but the header has ${width}`;
      else checkWidth(row, used, width);
      if (!row.shapeError && record.length > width) row.cells = record.slice(0, width);
      // the guard runs ahead of the parser: look for its marker while one is unreported
      if (guard.found > reported) reported += markOversized(row, header, maxCell);
      // the file's last line, without its line break, in a file that has grown since: a line
      // caught half-written; its cells are not trusted (the next run reads it whole)
      if (last && i === records.length - 1 && endsMidLine && grewSince(snap)) {
        row.shapeError = `is the file's last line, which was still being written when the run opened the file (it has grown since); not imported: the next run reads it whole`;
        row.shapeCode = 'E_ROW_SHAPE';
      }
      yield row;
    }
  }

  async function* batches(): AsyncGenerator<Iterable<SourceRow>> {
    try {
      // one batch ahead: the last batch is known as the last when it is handed on
      let from = at < batch.length ? at : 0;
      for (let cur = at < batch.length ? batch : await pull(); cur; from = 0) {
        const next = await pull();
        yield toRows(cur, from, next === undefined);
        cur = next;
      }
    } finally {
      stream.destroy();
    }
  }

  const all = batches();
  return {
    file,
    snapshot: snap,
    format: 'csv',
    header,
    batches: all,
    rows: eachRow(all),
    close: async () => {
      stream.destroy();
    },
    details: { format: 'csv', encoding: sniff.encoding + (sniff.bom ? ' (BOM)' : ''), delimiter: sniff.delimiter === '\t' ? '\\t' : sniff.delimiter, headerRow },
  };
}

/** The file, decoded (strictly), guarded against oversized cells, and parsed into records. */
function parseStream(file: string, stream: Readable, sniff: CsvSniff, guard: CellGuard, headerRow: number): { stream: Readable; parser: Parser } {
  const decoder = new TextDecoder(sniff.encoding, { fatal: true });
  let bytes = 0;
  const decode = new Transform({
    readableObjectMode: false,
    transform(chunk: Buffer, _enc, done) {
      try {
        const text = guard.push(decoder.decode(chunk, { stream: true }));
        bytes += chunk.length;
        done(null, text);
      } catch {
        done(new InputError(file, `is not valid ${sniff.encoding} (somewhere after byte ${bytes}); set input.encoding in the mapping (e.g. windows-1252) or save the export as CSV UTF-8`));
      }
    },
    flush(done) {
      try {
        done(null, guard.push(decoder.decode()) + guard.flush());
      } catch {
        done(new InputError(file, `ends in the middle of a ${sniff.encoding} character; the file may be truncated`));
      }
    },
  });
  const parser = stream.pipe(decode).pipe(
    parse({
      delimiter: sniff.delimiter,
      relax_column_count: true,
      // blank lines come through as records and are skipped here, so that every physical line
      // is counted without csv-parse's per-record info objects (a fifth of the parse time)
      skip_empty_lines: false,
      from_line: headerRow,
    }),
  ) as Parser;
  decode.on('error', (err) => parser.destroy(err));
  return { stream, parser };
}

/** A parse failure as an input error that names what to fix. */
function parseError(file: string, err: unknown, guard: CellGuard): InputError {
  if (err instanceof InputError) return err;
  if ((err as { code?: string }).code === 'CSV_QUOTE_NOT_CLOSED' && guard.quoteOpenedOn > 0) {
    return new InputError(file, `cannot parse the file: the quoted cell opened on line ${guard.quoteOpenedOn} is never closed (a " with no closing "); fix that line, or save the export again`, { cause: err });
  }
  return new InputError(file, `cannot parse the file: ${shorten((err as Error).message)}`, { cause: err });
}

/** csv-parse quotes the field it stopped in, however long: keep the message readable. */
function shorten(message: string): string {
  return message.length > 300 ? `${message.slice(0, 300)}..."` : message;
}

/** Flags a row holding oversized cells (their text is dropped); returns how many it holds. */
function markOversized(row: SourceRow, header: string[], maxCell: number): number {
  let n = 0;
  for (let i = 0; i < row.cells.length; i++) {
    const cell = row.cells[i];
    const size = typeof cell === 'string' ? oversizedBytes(cell) : undefined;
    if (size === undefined) continue;
    n++;
    markCellTooLarge(row, i, size, header, maxCell, '; the cell was not read');
  }
  return n;
}

/** The physical lines a record takes: one, plus the line breaks inside its quoted cells. */
function linesOf(record: string[]): number {
  let n = 1;
  for (const c of record) if (c.includes('\n') || c.includes('\r')) n += countNewlines(c);
  return n;
}

function isBlank(record: string[]): boolean {
  for (const c of record) if (c !== '' && c.trim() !== '') return false;
  return true;
}

function lastNonEmpty(cells: string[]): number {
  for (let i = cells.length - 1; i >= 0; i--) if (cells[i]!.trim() !== '') return i;
  return -1;
}

function normalizeEncoding(file: string, enc: string): string {
  const e = ENCODINGS[enc.toLowerCase()];
  if (!e) throw new InputError(file, `input.encoding ${JSON.stringify(enc)} is not supported; use one of ${Object.keys(ENCODINGS).join(', ')}`);
  return e;
}

function countNewlines(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 10 || (c === 13 && s.charCodeAt(i + 1) !== 10)) n++;
  }
  return n;
}

/**
 * Picks the delimiter that splits the first lines into the same, largest number of cells,
 * counting only characters outside quotes.
 */
export function sniffDelimiter(text: string): string {
  const lines = splitLogicalLines(text, 20);
  let best = ',';
  let bestScore = 0;
  for (const d of DELIMITERS) {
    const counts = lines.map((l) => countOutsideQuotes(l, d));
    const firstCount = counts[0] ?? 0;
    if (firstCount === 0) continue;
    const consistent = counts.filter((c) => c === firstCount).length;
    const score = consistent * 1000 + firstCount;
    if (score > bestScore) {
      bestScore = score;
      best = d;
    }
  }
  return best;
}

function splitLogicalLines(text: string, max: number): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < text.length && out.length < max; i++) {
    const c = text[i]!;
    if (c === '"') quoted = !quoted;
    if (!quoted && (c === '\n' || c === '\r')) {
      if (cur.trim() !== '') out.push(cur);
      cur = '';
      continue;
    }
    cur += c;
  }
  // the last line of the sniffed chunk may be cut short; use it only if it is all we have
  if (out.length === 0 && cur.trim() !== '') out.push(cur);
  return out;
}

function countOutsideQuotes(line: string, d: string): number {
  let n = 0;
  let quoted = false;
  for (const c of line) {
    if (c === '"') quoted = !quoted;
    else if (!quoted && c === d) n++;
  }
  return n;
}
