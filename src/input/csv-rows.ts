import type { Readable } from 'node:stream';
import { InputError } from '../errors.js';
import { markCellTooLarge } from './cell.js';
import { type CellGuard, droppedCells, MAX_CELLS, oversizedBytes } from './cell-guard.js';
import { unneutralise } from './formula.js';
import { checkHeader, trimHeader } from './header.js';
import { checkWidth, markHalfWritten, markLargeCells } from './shape.js';
import type { SourceRow } from './types.js';

/**
 * CSV records as rows: the header found (blank lines above it skipped), then each record a row
 * with its number as a spreadsheet shows it (one a record) and the physical line it starts on (a
 * record takes one line plus the line breaks inside its quoted cells),
 * blank lines skipped, shapes checked, cells the guard cut off marked. Records are converted as
 * they are consumed, a parser's batch at a time: this runs for every record.
 */
export class CsvRows {
  /** The line the next record starts on. */
  private line: number;
  /** The next record's row as a spreadsheet shows it: one a record, whatever line breaks its cells hold. */
  private record: number;
  private batch: string[][] = [];
  private at = 0;
  private header: string[] = [];
  private reported = 0;

  constructor(
    private readonly file: string,
    private readonly pull: () => Promise<string[][] | undefined>,
    private readonly guard: CellGuard,
    private readonly maxCell: number,
    private readonly headerRow: number,
    /** Whether the file's last line was caught half-written (no line break, the file grown since). */
    private readonly lastLineCut: () => boolean,
  ) {
    this.line = headerRow;
    this.record = headerRow;
  }

  /** The first record that is not blank, trimmed and checked. */
  async readHeader(): Promise<string[]> {
    let first: string[] | undefined;
    while (!first) {
      if (this.at === this.batch.length) {
        const next = await this.pull();
        if (!next) break;
        [this.batch, this.at] = [next, 0];
        continue;
      }
      const record = this.batch[this.at++]!;
      if (isBlank(record)) {
        this.line += linesOf(record);
        this.record++;
      } else first = record;
    }
    const headerRow = this.headerRow;
    if (!first)
      throw new InputError(this.file, headerRow > 1 ? `the file has no header row at line ${headerRow} (input.headerRow)` : 'the file has no header row');
    const headerLine = this.line;
    this.line += linesOf(first);
    this.record++;
    this.header = trimHeader(first.map((h) => unneutralise(h).trim()));
    checkHeader(this.file, this.header, headerLine);
    return this.header;
  }

  async *batches(stream: Readable): AsyncGenerator<Iterable<SourceRow>> {
    try {
      // one batch ahead: the last batch is known as the last when it is handed on
      let from = this.at < this.batch.length ? this.at : 0;
      for (let cur = this.at < this.batch.length ? this.batch : await this.pull(); cur; from = 0) {
        const next = await this.pull();
        yield this.toRows(cur, from, next === undefined);
        cur = next;
      }
    } finally {
      stream.destroy();
    }
  }

  private *toRows(records: string[][], from: number, last: boolean): Generator<SourceRow> {
    const width = this.header.length;
    for (let i = from; i < records.length; i++) {
      const record = records[i]!;
      const line = this.line;
      const at = this.record++;
      this.line += linesOf(record);
      // a line of nothing but delimiters is as blank as an empty one
      if (isBlank(record)) continue;
      // a cell a report neutralised ('=..., '+49...) is read as the value it stands for
      for (let c = 0; c < record.length; c++) if (record[c]!.charCodeAt(0) === 39) record[c] = unneutralise(record[c]!);
      const row: SourceRow = { row: at, line, cells: record };
      if (record.length > MAX_CELLS) markWide(row, width);
      // a trailing delimiter (an empty last column) is not a shape problem
      if (record.length < width) row.shapeError = `has ${record.length} cell${record.length === 1 ? '' : 's'} but the header has ${width}`;
      else checkWidth(row, lastNonEmpty(record) + 1, width);
      if (!row.shapeError && record.length > width) row.cells = record.slice(0, width);
      // the guard runs ahead of the parser: look for its marker while one is unreported
      if (this.guard.found > this.reported) this.reported += markOversized(row, this.header, this.maxCell);
      // the guard keeps memory bounded; this keeps the limit whatever the guard let through
      markLargeCells(row, this.header, this.maxCell);
      // the last line caught half-written: its cells are not trusted (the next run reads it whole)
      if (last && i === records.length - 1 && this.lastLineCut()) markHalfWritten(row);
      yield row;
    }
  }
}

/** A row of more cells than any export has: invalid, its cells past the header's width dropped. */
function markWide(row: SourceRow, width: number): void {
  const n = droppedCells(row.cells[row.cells.length - 1] as string) ?? row.cells.length;
  row.shapeError = `has ${n} cells, more than ${MAX_CELLS} (the header has ${width}); the rest of the row was not read: is the delimiter repeated by mistake?`;
  row.shapeCode = 'E_ROW_SHAPE';
  row.cells = row.cells.slice(0, width);
}

/** Flags a row holding cells the guard cut off (their text is dropped); returns how many it holds. */
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

function countNewlines(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 10 || (c === 13 && s.charCodeAt(i + 1) !== 10)) n++;
  }
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
