import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openRows } from '../../src/input/open-rows.js';
import { unneutralise } from '../../src/input/formula.js';
import { csvLine } from '../../src/report/csv-line.js';
import { tempDir } from '../helpers/sandbox.js';

/** A small seeded generator: the same cases on every run. */
function random(seed: number): () => number {
  let s = seed;
  return () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 2 ** 32;
  };
}

async function readBack(text: string): Promise<{ header: string[]; rows: string[][] }> {
  const file = join(tempDir(), 'failed.csv');
  writeFileSync(file, text);
  const source = await openRows(file);
  try {
    const rows: string[][] = [];
    for await (const row of source.rows) rows.push(row.cells as string[]);
    return { header: source.header, rows };
  } finally {
    await source.close();
  }
}

describe('csvLine', () => {
  it('quotes what CSV must quote and the other delimiters, and neutralises formulas, but not numbers', () => {
    expect(csvLine(['a', 'b,c', 'say "hi"', 'two\nlines', 3, undefined, null, '=SUM(A1)', '-5', '+49 30', 'a;b', 'a\tb', 'a|b'])).toBe(
      `a,"b,c","say ""hi""","two\nlines",3,,,'=SUM(A1),-5,'+49 30,"a;b","a\tb","a|b"\r\n`,
    );
  });

  it('a failed row whose cells hold more semicolons than the file has commas still reads back with commas', async () => {
    const header = ['Note; part; part', 'et_import_error'];
    const row = ['one; two; three', 'invalid: export.csv row 2, column "CSAT": expected a whole number, got "x"'];
    expect(await readBack(csvLine(header) + csvLine(row))).toEqual({ header, rows: [row] });
  });

  it('a file of its lines reads back as the cells the export was read as, whatever they hold', async () => {
    const next = random(11);
    const pick = <T>(xs: T[]) => xs[Math.floor(next() * xs.length)]!;
    const alphabet = ['a', 'Z', '7', ' ', ',', ';', '\t', '|', '"', "'", '=', '+', '-', '@', '\n', '\r', 'é', '😀'];
    const text = () => {
      let s = '';
      for (let k = Math.floor(next() * 9); k > 0; k--) s += pick(alphabet);
      return s;
    };
    const mismatches: string[] = [];
    for (let doc = 0; doc < 150; doc++) {
      // failed.csv has the export's columns and et_import_error: two at least
      const width = 2 + Math.floor(next() * 3);
      // header names as an export has them: not empty, no line break, not blank
      const header = Array.from({ length: width }, (_, i) => `c${i}${text().replace(/[\r\n"]/g, '')}`.trim());
      // the cells as the original export was read (a leading apostrophe before a formula already dropped),
      // a first cell that is never blank (a blank row is skipped)
      const rows = Array.from({ length: 1 + Math.floor(next() * 5) }, () =>
        Array.from({ length: width }, (_, i) => unneutralise(i === 0 ? `k${text()}` : text())),
      );
      const file = [header, ...rows].map((r) => csvLine(r)).join('');
      const back = await readBack(file).catch((e: Error) => e.message);
      const expected = { header, rows };
      if (JSON.stringify(back) !== JSON.stringify(expected)) mismatches.push(`doc ${doc}: ${JSON.stringify(file)} read back as ${JSON.stringify(back)}`);
    }
    expect(mismatches.slice(0, 3)).toEqual([]);
  });
});
