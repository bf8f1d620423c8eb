/**
 * Keeps an oversized CSV cell, and an overlong row, out of memory. It sits between the decoder and
 * csv-parse, follows the quoting as csv-parse will, and once a cell grows past the limit, drops
 * the rest of it and leaves a marker in its place, so the parser never holds more than the limit
 * and the row can be reported `invalid` with the cell's real size (the run goes on). A row of more
 * than `maxCells` cells (a runaway delimiter: 30 million empty cells took 1.4 GB) has the rest of
 * its cells dropped the same way, a marker of their number in a last cell.
 */
const MARK = '\u0000et-import:oversized:';
const WIDE = '\u0000et-import:cells:';
const QUOTE = 34;

/** More cells than any spreadsheet has columns (Excel 16,384, Google Sheets 18,278): not an export's row. */
export const MAX_CELLS = 100_000;

export class CellGuard {
  private quoted = false;
  private startedQuoted = false;
  private fieldStart = true;
  private bytes = 0;
  private dropping = false;
  /** A quote seen while dropping inside quotes, at the end of a chunk: an escape pair or the close. */
  private pendingQuote = false;
  /** Oversized cells found so far; the reader compares it with the ones it has reported. */
  found = 0;
  private lf = 0;
  private cr = 0;
  /** The line the quoted cell now open started on (0: none open), for "quote not closed" errors. */
  quoteOpenedOn = 0;
  /** Cells of the row being read, so far. */
  private cells = 1;
  /** Past `maxCells`: the row's other cells are dropped up to its end. */
  private skipping = false;

  constructor(
    private readonly maxBytes: number,
    private readonly delimiter: number,
    private readonly maxCells = MAX_CELLS,
  ) {}

  push(text: string): string {
    if (this.fastPath(text)) return text;
    let out = '';
    let from = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 10) this.lf++;
      else if (c === 13) this.cr++;
      if (this.skipping) {
        if (this.skip(c)) {
          out += `${WIDE}${this.cells}\u0000${String.fromCharCode(c)}`;
          from = i + 1;
          this.cells = 1;
        }
        continue;
      }
      if (this.dropping) {
        const r = this.drop(c);
        if (r !== undefined) {
          out += r;
          from = i + 1;
          if (c === this.delimiter || c === 10 || c === 13) this.counted(c);
        }
        continue;
      }
      if (this.fieldStart) {
        this.fieldStart = false;
        this.startedQuoted = c === QUOTE;
        if (this.startedQuoted) {
          // the opening quote is not part of the cell
          this.quoted = true;
          this.quoteOpenedOn = this.line();
          continue;
        }
      }
      if (c === QUOTE) this.quoted = !this.quoted;
      else if (!this.quoted && (c === this.delimiter || c === 10 || c === 13)) {
        this.endField();
        if (this.counted(c)) {
          out += text.slice(from, i + 1);
          from = i + 1;
        }
        continue;
      }
      // the cell's size as it stands in the file (an escaped quote counts its two characters)
      this.bytes += utf8Bytes(c);
      // cut only where the quoting is settled (not right after a quote that may open an escape pair)
      if (this.bytes > this.maxBytes && (this.quoted || !this.startedQuoted)) {
        // this character is kept: with it, the quoting of what was passed on is complete
        out += text.slice(from, i + 1);
        from = i + 1;
        this.dropping = true;
        this.found++;
      }
    }
    if (!this.dropping && !this.skipping) out += text.slice(from);
    return out;
  }

  /** A cell ended with `c`: counts the row's cells; true when this one starts the row's skipping. */
  private counted(c: number): boolean {
    if (c !== this.delimiter) {
      this.cells = 1;
      return false;
    }
    if (++this.cells <= this.maxCells) return false;
    this.skipping = true;
    return true;
  }

  /** One character of a row past `maxCells`: counts its cells, follows its quotes; true at its end. */
  private skip(c: number): boolean {
    if (c === QUOTE) this.quoted = !this.quoted;
    else if (!this.quoted && c === this.delimiter) this.cells++;
    else if (!this.quoted && (c === 10 || c === 13)) {
      this.skipping = false;
      this.endField();
      return true;
    }
    return false;
  }

  /**
   * Most chunks hold no quote and cannot make any cell pass the limit: the state moves on with
   * native searches instead of a look at every character.
   */
  private fastPath(text: string): boolean {
    if (this.dropping || this.skipping || this.pendingQuote || this.quoted || this.bytes + text.length * 3 > this.maxBytes || text.includes('"')) return false;
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) this.lf++;
    if (this.lf === 0) for (let i = text.indexOf('\r'); i >= 0; i = text.indexOf('\r', i + 1)) this.cr++;
    const d = String.fromCharCode(this.delimiter);
    const lineEnd = Math.max(text.lastIndexOf('\n'), text.lastIndexOf('\r'));
    const last = Math.max(text.lastIndexOf(d), lineEnd);
    // bytes, not characters: a cell cut later tells its size in the file, and this chunk is at
    // most a third of the limit long
    if (last < 0) {
      // a cell that starts in this chunk starts without a quote, whatever the cell before it did
      if (text.length > 0 && this.fieldStart) {
        this.fieldStart = false;
        this.startedQuoted = false;
      }
      this.bytes += Buffer.byteLength(text);
    } else {
      this.quoteOpenedOn = 0;
      this.bytes = last === text.length - 1 ? 0 : Buffer.byteLength(text.slice(last + 1));
      this.fieldStart = this.bytes === 0;
      this.startedQuoted = false;
    }
    // the row's cells: those after the chunk's last line end (a row within one chunk is bounded by it)
    if (lineEnd >= 0) this.cells = 1;
    for (let i = text.indexOf(d, lineEnd + 1); i >= 0; i = text.indexOf(d, i + 1)) this.cells++;
    // past the limit: what this chunk passed on is bounded by its length, the rest of the row is dropped
    if (this.cells > this.maxCells) this.skipping = true;
    return true;
  }

  /** At the end of the input: close a cell being dropped. */
  flush(): string {
    if (this.skipping) {
      this.skipping = false;
      return `${WIDE}${this.cells}\u0000`;
    }
    if (!this.dropping) return '';
    this.dropping = false;
    return this.marker() + (this.pendingQuote ? '"' : '');
  }

  /** One character of a cell being dropped; returns what to pass on when the cell ends. */
  private drop(c: number): string | undefined {
    if (this.pendingQuote) {
      this.pendingQuote = false;
      // `""` inside quotes is an escaped quote: still inside the cell
      if (c === QUOTE) {
        this.bytes += 2;
        return undefined;
      }
      this.quoted = false;
      const closed = `${this.marker()}"`;
      if (c === this.delimiter || c === 10 || c === 13) {
        this.dropping = false;
        this.endField();
        return closed + String.fromCharCode(c);
      }
      this.dropping = false;
      return closed + String.fromCharCode(c);
    }
    if (this.quoted) {
      if (c === QUOTE) this.pendingQuote = true;
      else this.bytes += utf8Bytes(c);
      return undefined;
    }
    if (c === this.delimiter || c === 10 || c === 13) {
      const m = this.marker();
      this.dropping = false;
      this.endField();
      return m + String.fromCharCode(c);
    }
    if (c === QUOTE) this.quoted = true;
    this.bytes += utf8Bytes(c);
    return undefined;
  }

  /** The current line: LF counts lines, or CR in a file of old Mac line ends. */
  private line(): number {
    return 1 + (this.lf > 0 ? this.lf : this.cr);
  }

  private marker(): string {
    return `${MARK}${this.bytes}\u0000`;
  }

  private endField(): void {
    this.quoteOpenedOn = 0;
    this.bytes = 0;
    this.fieldStart = true;
    this.quoted = false;
  }
}

/** The UTF-8 bytes of one UTF-16 unit (a surrogate pair's two units make 4). */
function utf8Bytes(c: number): number {
  return c < 0x80 ? 1 : c < 0x800 || (c >= 0xd800 && c <= 0xdfff) ? 2 : 3;
}

/** The cells of an overlong row from the marker in its last cell, or undefined for an ordinary cell. */
export function droppedCells(cell: string): number | undefined {
  if (!cell.startsWith(WIDE)) return undefined;
  return Number(cell.slice(WIDE.length, cell.indexOf('\u0000', WIDE.length)));
}

/** The size of an oversized cell from its marker, or undefined for an ordinary cell. */
export function oversizedBytes(cell: string): number | undefined {
  const at = cell.indexOf(MARK);
  if (at < 0) return undefined;
  return Number(cell.slice(at + MARK.length, cell.indexOf('\u0000', at + MARK.length)));
}
