import type { Readable } from 'node:stream';
import { InputError } from '../errors.js';
import type { InputSpec } from '../mapping/types.js';
import { eachRow } from './batches.js';
import { checkHeader } from './header.js';
import { countLines } from './line-count.js';
import { checkWidth, lastLineCut, markHalfWritten, markLargeCells } from './shape.js';
import { openSnapshot, type Snapshot, snapshotStream } from './snapshot.js';
import { type Cell, DEFAULT_MAX_CELL_BYTES, type RowSource, type SourceRow } from './types.js';

/**
 * JSON Lines (`.jsonl`, `.ndjson`): one JSON object a line, UTF-8. The first object's keys are the
 * columns, in its order; a later line without one of them has it empty, and a line with a key
 * the first does not have is invalid (its value has no column). Values are strings, numbers,
 * booleans or null; a nested object or array makes its line invalid, with the line number and
 * the key, as does a line that is not a JSON object, or one longer than 16 x input.maxCellBytes
 * (never held whole). Blank lines are skipped. The row number is the line number.
 */
export const jsonlFormat = {
  name: 'jsonl',
  extensions: ['.jsonl', '.ndjson'],
  open: (file: string, spec: InputSpec, snap: Snapshot) => openJsonl(file, spec.maxCellBytes ?? DEFAULT_MAX_CELL_BYTES, snap),
  count: (_file: string, _spec: InputSpec, snap: Snapshot) => countLines(snap, false),
} as const;

const BATCH = 512;

/** Stands for a line longer than the reader holds: its row is invalid, its text never held whole. */
const TOO_LONG = '\u0000too long';

/**
 * The file's lines, decoded strictly as UTF-8 (a byte that is not UTF-8 stops the read with where
 * it is). A line longer than `maxLine` characters is not held: it comes as TOO_LONG, and what is
 * left of it is skipped to its line break.
 */
async function* splitLines(file: string, stream: Readable, maxLine: number): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let rest = '';
  let skipping = false;
  let bytes = 0;
  const decode = (chunk?: Buffer) => {
    try {
      return chunk ? decoder.decode(chunk, { stream: true }) : decoder.decode();
    } catch {
      throw new InputError(file, `is not valid UTF-8 (somewhere in bytes ${bytes}-${bytes + (chunk?.length ?? 0)}); JSON Lines files are UTF-8`);
    }
  };
  const line = (p: string) => (p.endsWith('\r') ? p.slice(0, -1) : p);
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    const parts = (rest + decode(chunk)).split('\n');
    bytes += chunk.length;
    rest = parts.pop()!;
    for (const p of parts) {
      yield skipping ? TOO_LONG : line(p);
      skipping = false;
    }
    if (rest.length > maxLine) {
      skipping = true;
      rest = '';
    }
  }
  rest += decode();
  if (skipping) yield TOO_LONG;
  else if (rest !== '') yield line(rest);
}

/** A line's cells, and why it is invalid if it is: a nested value keeps its JSON text, so failed.csv holds what the line had. */
type Parsed = { cells: Record<string, Cell>; why?: string };

function parseLine(text: string): Parsed {
  if (text === TOO_LONG) return { cells: {}, why: 'is longer than the reader holds (16 x input.maxCellBytes): not read; is it one JSON object a line?' };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return { cells: {}, why: `is not valid JSON (${e instanceof SyntaxError ? e.message.replace(/ in JSON at position.*$/, '') : 'unreadable'})` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return {
      cells: {},
      why: `is ${Array.isArray(value) ? 'an array' : value === null ? 'null' : `a ${typeof value}`}, not a JSON object of column names and values`,
    };
  const cells: Record<string, Cell> = {};
  let why: string | undefined;
  for (const [k, v] of Object.entries(value)) {
    const nested = typeof v === 'object' && v !== null;
    if (nested)
      why ??= `holds a nested ${Array.isArray(v) ? 'array' : 'object'} under "${k}"; JSON Lines input takes flat objects (strings, numbers, booleans, null): flatten it in the export`;
    cells[k] = nested ? JSON.stringify(v) : (v as Cell);
  }
  return why ? { cells, why } : { cells };
}

/** A line as a row of the header's columns. */
function toRow(line: number, parsed: Parsed, header: string[], columns: Map<string, number>, maxCell: number): SourceRow {
  const row: SourceRow = { row: line, cells: new Array<Cell>(header.length).fill(null) };
  const extra: string[] = [];
  for (const [k, v] of Object.entries(parsed.cells)) {
    const i = columns.get(k);
    if (i === undefined) extra.push(k);
    else row.cells[i] = v;
  }
  if (parsed.why) row.shapeError = `(line ${line}) ${parsed.why}`;
  else if (extra.length > 0) {
    checkWidth(row, header.length + extra.length, header.length);
    row.shapeError += ` (line ${line} has ${extra.map((k) => `"${k}"`).join(', ')}, which the first line does not: the first object's keys are the columns)`;
  }
  markLargeCells(row, header, maxCell);
  return row;
}

/** The non-blank lines with their numbers (a BOM before the first is skipped). */
function numbered(file: string, stream: Readable, maxLine: number): () => Promise<{ n: number; text: string } | undefined> {
  const lines = splitLines(file, stream, maxLine);
  let n = 0;
  return async () => {
    for (;;) {
      const r = await lines.next();
      if (r.done) return undefined;
      n++;
      const text = n === 1 ? r.value.replace(/^\uFEFF/, '') : r.value;
      if (text.trim() !== '') return { n, text };
    }
  };
}

/** The first object: its keys are the columns. */
async function firstObject(file: string, next: ReturnType<typeof numbered>): Promise<{ n: number; head: Parsed }> {
  let first: { n: number; text: string } | undefined;
  try {
    first = await next();
  } catch (e) {
    throw e instanceof InputError ? e : new InputError(file, `cannot be read (${e instanceof Error ? e.message : String(e)})`);
  }
  if (!first) throw new InputError(file, 'the file holds no JSON object; expected one object a line');
  const head = parseLine(first.text);
  if (head.why) throw new InputError(file, `line ${first.n}, the first object, ${head.why}: its keys are the columns`);
  return { n: first.n, head };
}

export async function openJsonl(file: string, maxCell: number, snap: Snapshot): Promise<RowSource> {
  const stream = snapshotStream(await openSnapshot(snap), snap);
  const cut = await lastLineCut(snap);
  const next = numbered(file, stream, 16 * maxCell);
  const { n, head } = await firstObject(file, next).catch((e: unknown) => {
    stream.destroy();
    throw e;
  });
  const header = Object.keys(head.cells);
  checkHeader(file, header, n);
  const columns = new Map(header.map((h, i) => [h, i]));

  async function* batches(): AsyncGenerator<Iterable<SourceRow>> {
    try {
      let batch: SourceRow[] = [toRow(n, head, header, columns, maxCell)];
      for (let line = await next(); line !== undefined; ) {
        const after = await next();
        const row = toRow(line.n, parseLine(line.text), header, columns, maxCell);
        // the last line, without its line break, in a file that has grown since: caught half-written
        if (after === undefined && cut()) markHalfWritten(row);
        batch.push(row);
        if (batch.length >= BATCH) {
          yield batch;
          batch = [];
        }
        line = after;
      }
      if (batch.length > 0) yield batch;
    } finally {
      stream.destroy();
    }
  }

  const all = batches();
  const close = async () => void stream.destroy();
  return { file, snapshot: snap, format: 'jsonl', header, batches: all, rows: eachRow(all), close, details: { format: 'jsonl', encoding: 'utf-8' } };
}
