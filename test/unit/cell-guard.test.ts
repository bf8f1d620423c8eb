import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { CellGuard, droppedCells, oversizedBytes } from '../../src/input/cell-guard.js';

const COMMA = 44;

/** The text through a guard, in chunks of the given sizes (the last one takes the rest). */
function guarded(text: string, max: number, chunks: number[] = [], delimiter = COMMA, maxCells?: number): { out: string; guard: CellGuard } {
  const guard = new CellGuard(max, delimiter, maxCells);
  let out = '';
  let at = 0;
  for (const n of chunks) {
    // a decoder never ends a chunk inside a surrogate pair: neither does the test
    const end = /[\ud800-\udbff]/.test(text.charAt(at + n - 1)) ? at + n + 1 : at + n;
    out += guard.push(text.slice(at, end));
    at = end;
  }
  out += guard.push(text.slice(at)) + guard.flush();
  return { out, guard };
}

/** A small seeded generator: the same cases on every run. */
function random(seed: number): () => number {
  let s = seed;
  return () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 2 ** 32;
  };
}

describe('CellGuard', () => {
  it('passes ordinary CSV through unchanged, whatever the chunks', () => {
    const text = 'Call ID,Note\nCALL-1,"a, ""quoted"" note"\nCALL-2,"two\nlines"\r\nCALL-3,é\n';
    for (const chunks of [[], [1, 1, 1, 1, 1], [13, 2, 7], [text.length - 1]]) {
      const { out, guard } = guarded(text, 64, chunks);
      expect(out).toBe(text);
      expect(guard.found).toBe(0);
    }
  });

  it('replaces a cell over the limit by a marker of its size in the file, and the row keeps its other cells', () => {
    const big = 'x'.repeat(100);
    const { out, guard } = guarded(`a,${big},b\nc,"${'y'.repeat(50)}""z",d\n`, 20);
    const rows = parse(out) as string[][];
    expect(guard.found).toBe(2);
    expect(rows.map((r) => [r[0], oversizedBytes(r[1]!), r[2]])).toEqual([
      ['a', 100, 'b'],
      // inside quotes, an escaped quote counts its two characters
      ['c', 53, 'd'],
    ]);
    expect(oversizedBytes('an ordinary cell')).toBeUndefined();
  });

  it('drops the cells of a row past maxCells, leaving their number in a last cell; the next row is whole', () => {
    const wide = `K1,${','.repeat(999)}`;
    for (const tail of ['\nK2,b\n', '\r\nK2,b\r\n']) {
      // read a few characters at a time, as a row that spans reads is
      const { out } = guarded(
        `${wide}${tail}`,
        1000,
        Array.from({ length: 400 }, () => 3),
        COMMA,
        10,
      );
      const [first, second] = parse(out, { relax_column_count: true }) as string[][];
      expect(first!.length).toBeLessThan(20);
      expect(droppedCells(first!.at(-1)!)).toBe(1001);
      expect(second).toEqual(['K2', 'b']);
    }
    // a delimiter inside quotes is no cell; a row cut off at the end of the input is told too
    const quoted = `K1,${'"a,b",'.repeat(50)}"c,d"`;
    const { out } = guarded(
      quoted,
      1000,
      Array.from({ length: 100 }, () => 4),
      COMMA,
      10,
    );
    expect(droppedCells((parse(out, { relax_column_count: true }) as string[][])[0]!.at(-1)!)).toBe(52);
    expect(droppedCells('an ordinary cell')).toBeUndefined();
  });

  it('names the line an unclosed quote opened on', () => {
    const guard = new CellGuard(1000, COMMA);
    guard.push('a,b\nc,d\ne,"never closed\nand on');
    expect(guard.quoteOpenedOn).toBe(3);
  });

  it('agrees with csv-parse on random documents (four delimiters, LF or CRLF) split at random: a cell is kept or marked with its size, never held past the limit', () => {
    const next = random(7);
    const pick = <T>(xs: T[]) => xs[Math.floor(next() * xs.length)]!;
    const max = 8;
    const mismatches: string[] = [];
    for (let doc = 0; doc < 400; doc++) {
      const delimiter = pick([',', ';', '\t', '|']);
      const eol = pick(['\n', '\r\n']);
      const cells: { raw: string; value: string; size: number }[][] = [];
      for (let r = 0; r < 1 + Math.floor(next() * 4); r++) {
        const row = [];
        for (let c = 0; c < 3; c++) {
          let value = '';
          for (let k = Math.floor(next() * 14); k > 0; k--) value += pick(['a', 'b', 'é', '€', '😀', ' ', delimiter, '"', '\n']);
          const quoted = value.includes(delimiter) || /["\n]/.test(value) || (value !== '' && next() < 0.2);
          const raw = quoted ? `"${value.replace(/"/g, '""')}"` : value;
          // the size the guard tells: the cell as it stands in the file, without its quotes
          const size = Buffer.byteLength(raw) - (quoted ? 2 : 0);
          row.push({ raw, value, size });
        }
        cells.push(row);
      }
      const text = `${cells.map((row) => row.map((c) => c.raw).join(delimiter)).join(eol)}${eol}`;
      const chunks = Array.from({ length: 6 }, () => 1 + Math.floor(next() * 10));
      const got = parse(guarded(text, max, chunks, delimiter.charCodeAt(0)).out, { relax_column_count: true, delimiter }) as string[][];
      for (const [r, row] of cells.entries()) {
        for (const [i, c] of row.entries()) {
          const cell = got[r]?.[i];
          const ok = c.size > max ? oversizedBytes(cell ?? '') === c.size && Buffer.byteLength(cell!) < max + 40 : cell === c.value;
          if (!ok) mismatches.push(`doc ${doc} row ${r} cell ${i}: ${JSON.stringify(c.raw)} came out as ${JSON.stringify(cell)}`);
        }
      }
    }
    expect(mismatches.slice(0, 5)).toEqual([]);
  });
});
