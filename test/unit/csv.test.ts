import { appendFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openCsv, sniffDelimiter } from '../../src/input/csv.js';
import { takeSnapshot } from '../../src/input/snapshot.js';

describe('sniffDelimiter', () => {
  it('picks the delimiter that splits lines consistently, ignoring quoted text', () => {
    expect(sniffDelimiter('a,b,c\n1,2,3\n')).toBe(',');
    expect(sniffDelimiter('a;b;c\n"1,5";2;3\n')).toBe(';');
    expect(sniffDelimiter('a\tb\n1\t2\n')).toBe('\t');
    expect(sniffDelimiter('a|b\n1|2\n')).toBe('|');
  });
});

describe('openCsv', () => {
  const rowsOf = async (file: string) => {
    const source = await openCsv(file, {}, await takeSnapshot(file));
    const rows: { cells: unknown[]; shapeError?: string }[] = [];
    for await (const row of source.rows) rows.push(row);
    await source.close();
    return { header: source.header, rows };
  };

  // a file no larger than the sniffed head is read from that head; a larger one is streamed
  for (const [name, rows] of [
    ['small (read whole by the sniff)', 3],
    ['larger than the sniff (streamed)', 4_000],
  ] as const) {
    it(`${name}: every row, and a last line caught half-written is marked`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'et-csv-'));
      const file = join(dir, 'in.csv');
      const lines = Array.from({ length: rows }, (_, i) => `CALL-${i},${'x'.repeat(20)}`);
      writeFileSync(file, `Call ID,Note\n${lines.join('\n')}\nCALL-last,half`);
      const source = await openCsv(file, {}, await takeSnapshot(file));
      appendFileSync(file, '-written\n');
      const got: { cells: unknown[]; shapeError?: string }[] = [];
      for await (const row of source.rows) got.push(row);
      await source.close();
      expect(source.header).toEqual(['Call ID', 'Note']);
      expect(got.length).toBe(rows + 1);
      expect(got[0]!.cells).toEqual(['CALL-0', 'x'.repeat(20)]);
      expect(got.at(-1)!.shapeError).toMatch(/still being written/);
      expect(got.slice(0, -1).every((r) => r.shapeError === undefined)).toBe(true);
      // read again, whole now: the last line is a row like the others
      expect((await rowsOf(file)).rows.at(-1)).toMatchObject({ cells: ['CALL-last', 'half-written'] });
    });
  }
});
