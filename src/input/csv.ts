import { isUtf8 } from 'node:buffer';
import { Readable, Transform } from 'node:stream';
import { parse, type Parser } from 'csv-parse';
import { InputError } from '../errors.js';
import { readHead } from './head.js';
import { openSnapshot, snapshotStream, type Snapshot } from './snapshot.js';
import { lastLineCut } from './shape.js';
import { CellGuard } from './cell-guard.js';
import { ENCODINGS } from '../mapping/types.js';
import { eachRow, readBatches } from './batches.js';
import { CsvRows } from './csv-rows.js';
import { DEFAULT_MAX_CELL_BYTES, type RowSource } from './types.js';

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
    else if (head.includes(0))
      throw new InputError(file, 'the file holds binary data (NUL bytes), not CSV text; export the data as CSV (UTF-8) or use an .xlsx file');
    // a multi-byte character may be cut at the end of the sample: ignore up to 3 trailing bytes
    else encoding = [0, 1, 2, 3].some((cut) => isUtf8(head.subarray(0, head.length - cut))) ? 'utf-8' : 'windows-1252';
  }
  const text = new TextDecoder(encoding).decode(head);
  const from = Math.max(0, (options.headerRow ?? 1) - 1);
  const delimiter =
    options.delimiter ??
    sniffDelimiter(
      text
        .split(/\r\n|\n|\r/)
        .slice(from)
        .join('\n'),
    );
  return { sniff: { encoding, bom, delimiter }, head };
}

export async function openCsv(file: string, options: CsvOptions, snap: Snapshot): Promise<RowSource> {
  const { sniff, head } = await sniffCsv(file, options, snap);
  const headerRow = options.headerRow ?? 1;
  const maxCell = options.maxCellBytes ?? DEFAULT_MAX_CELL_BYTES;
  const guard = new CellGuard(maxCell, sniff.delimiter.charCodeAt(0));
  // a file no larger than the sniffed head was read whole by it, from the snapshot: opened once, not three times
  const whole = head.length === snap.size ? head : undefined;
  // a file whose bytes end mid-line may be one still being written: its last line is checked at the end
  const cut = await lastLineCut(snap, whole);
  const bytes = whole ? Readable.from([whole], { objectMode: false }) : snapshotStream(await openSnapshot(snap), snap);
  const { stream, parser } = parseStream(file, bytes, sniff, guard, headerRow);
  const records = readBatches<string[]>(parser);
  const pull = async (): Promise<string[][] | undefined> => {
    try {
      const r = await records.next();
      return r.done ? undefined : r.value;
    } catch (err) {
      throw parseError(file, err, guard);
    }
  };
  const rows = new CsvRows(file, pull, guard, maxCell, headerRow, cut);
  const header = await rows.readHeader().catch((err: unknown) => {
    stream.destroy();
    throw err;
  });
  const all = rows.batches(stream);
  const encoding = sniff.encoding + (sniff.bom ? ' (BOM)' : '');
  const details = { format: 'csv', encoding, delimiter: sniff.delimiter === '\t' ? '\\t' : sniff.delimiter, headerRow };
  return { file, snapshot: snap, format: 'csv', header, batches: all, rows: eachRow(all), close: async () => void stream.destroy(), details };
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
        done(
          new InputError(
            file,
            `is not valid ${sniff.encoding} (somewhere after byte ${bytes}); set input.encoding in the mapping (e.g. windows-1252) or save the export as CSV UTF-8`,
          ),
        );
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
    return new InputError(
      file,
      `cannot parse the file: the quoted cell opened on line ${guard.quoteOpenedOn} is never closed (a " with no closing "); fix that line, or save the export again`,
      { cause: err },
    );
  }
  return new InputError(file, `cannot parse the file: ${shorten((err as Error).message)}`, { cause: err });
}

/** csv-parse quotes the field it stopped in, however long: keep the message readable. */
function shorten(message: string): string {
  return message.length > 300 ? `${message.slice(0, 300)}..."` : message;
}

function normalizeEncoding(file: string, enc: string): string {
  const e = ENCODINGS[enc.toLowerCase()];
  if (!e) throw new InputError(file, `input.encoding ${JSON.stringify(enc)} is not supported; use one of ${Object.keys(ENCODINGS).join(', ')}`);
  return e;
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
