import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { parse, type Parser } from 'csv-parse';
import { InputError } from '../errors.js';
import type { RowSource, SourceRow } from './types.js';

const SNIFF_BYTES = 64 * 1024;
const DELIMITERS = [',', ';', '\t', '|'];

export interface CsvOptions {
  delimiter?: string | undefined;
}

export async function openCsv(file: string, options: CsvOptions = {}): Promise<RowSource> {
  const head = await readHead(file);
  if (head.length === 0) throw new InputError(file, 'the file is empty (0 bytes); expected a header row');
  if (head.includes(0)) throw new InputError(file, 'the file holds binary data (NUL bytes), not CSV text; export the data as CSV (UTF-8) or use an .xlsx file');
  const text = head.toString('utf8').replace(/^\uFEFF/, '');
  const delimiter = options.delimiter ?? sniffDelimiter(text);

  const parser = createReadStream(file).pipe(
    parse({
      delimiter,
      bom: true,
      relax_column_count: true,
      skip_empty_lines: true,
      info: true,
      raw: true,
    }),
  ) as Parser;
  const iterator = parser[Symbol.asyncIterator]() as AsyncIterator<{ record: string[]; info: { lines: number }; raw: string }>;

  let first: IteratorResult<{ record: string[]; info: { lines: number }; raw: string }>;
  try {
    first = await iterator.next();
  } catch (err) {
    parser.destroy();
    throw new InputError(file, `cannot read the header row: ${(err as Error).message}`, { cause: err });
  }
  if (first.done) throw new InputError(file, 'the file has no header row');
  const header = first.value.record.map((h) => h.trim());

  async function* rows(): AsyncGenerator<SourceRow> {
    try {
      while (true) {
        let next: IteratorResult<{ record: string[]; info: { lines: number }; raw: string }>;
        try {
          next = await iterator.next();
        } catch (err) {
          throw new InputError(file, `cannot parse the file: ${(err as Error).message}`, { cause: err });
        }
        if (next.done) return;
        const { record, info, raw } = next.value;
        // info.lines is the line the record ends on; a quoted cell may span several lines.
        const row = info.lines - countNewlines(raw.replace(/\r?\n$|\r$/, ''));
        const out: SourceRow = { row, cells: record };
        if (record.length !== header.length) {
          out.shapeError = `has ${record.length} cell${record.length === 1 ? '' : 's'} but the header has ${header.length}`;
        }
        yield out;
      }
    } finally {
      parser.destroy();
    }
  }

  return {
    file,
    format: 'csv',
    header,
    rows: rows(),
    close: async () => {
      parser.destroy();
    },
    details: { format: 'csv', encoding: 'utf-8', delimiter: delimiter === '\t' ? '\\t' : delimiter },
  };
}

async function readHead(file: string): Promise<Buffer> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(file, code === 'ENOENT' ? 'file not found' : `cannot open the file (${code ?? 'error'})`, { cause: err });
  }
  try {
    const buf = Buffer.alloc(SNIFF_BYTES);
    const { bytesRead } = await handle.read(buf, 0, SNIFF_BYTES, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
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
