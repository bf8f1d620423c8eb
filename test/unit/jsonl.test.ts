import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { estimateRows } from '../../src/input/formats.js';
import { openRows } from '../../src/input/open-rows.js';
import type { SourceRow } from '../../src/input/types.js';

function file(text: string | Buffer, name = 'e.jsonl'): string {
  const f = join(mkdtempSync(join(tmpdir(), 'et-jsonl-')), name);
  writeFileSync(f, text);
  return f;
}

async function read(f: string): Promise<{ header: string[]; rows: SourceRow[] }> {
  const s = await openRows(f);
  const rows: SourceRow[] = [];
  for await (const r of s.rows) rows.push(r);
  await s.close();
  return { header: s.header, rows };
}

describe('JSON Lines input', () => {
  it("the first object's keys are the columns; values keep their JSON type; the row number is the line number", async () => {
    const f = file('\uFEFF{"Call ID":"c-1","CSAT":5,"FCR":true}\r\n\n{"CSAT":3,"Call ID":"c-2"}\n{"Call ID":"c-3","CSAT":null,"FCR":false}');
    const { header, rows } = await read(f);
    expect(header).toEqual(['Call ID', 'CSAT', 'FCR']);
    expect(rows.map((r) => [r.row, r.cells, r.shapeError])).toEqual([
      [1, ['c-1', 5, true], undefined],
      [3, ['c-2', 3, null], undefined],
      [4, ['c-3', null, false], undefined],
    ]);
    expect(await estimateRows(f)).toBe(4);
  });
  it('a nested value, a line that is not an object, bad JSON and an unknown key make their line invalid, naming the line', async () => {
    const f = file(['{"id":"a","v":1}', '{"id":"b","v":{"x":1}}', '[1,2]', '{"id":"c",', '{"id":"d","w":2}', '{"id":"e","v":2}'].join('\n'), 'e.ndjson');
    const { rows } = await read(f);
    expect(rows.map((r) => r.row)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(rows[1]!.shapeError).toMatch(/^\(line 2\) holds a nested object under "v"/);
    expect(rows[2]!.shapeError).toMatch(/^\(line 3\) is an array, not a JSON object/);
    expect(rows[3]!.shapeError).toMatch(/^\(line 4\) is not valid JSON/);
    expect(rows[4]!.shapeError).toMatch(/has 3 cells but the header has 2 \(line 5 has "w", which the first line does not/);
    expect(rows[5]!.shapeError).toBeUndefined();
  });
  it('a line longer than 16 x input.maxCellBytes is never held: its row is invalid, the next line reads', async () => {
    const f = file(`{"id":"a"}\n{"id":"${'x'.repeat(100_000)}"}\n{"id":"c"}\n`);
    const s = await openRows(f, { maxCellBytes: 100 });
    const rows: SourceRow[] = [];
    for await (const r of s.rows) rows.push(r);
    expect(rows.map((r) => [r.row, r.shapeError === undefined ? r.cells : r.shapeError.slice(0, 40)])).toEqual([
      [1, ['a']],
      [2, '(line 2) is longer than the reader holds'],
      [3, ['c']],
    ]);
  });
  it('a first line that is not a flat object, or bytes that are not UTF-8, refuse the file with where', async () => {
    await expect(openRows(file('{"a":[1]}\n'))).rejects.toMatchObject({
      code: 'E_INPUT',
      message: expect.stringMatching(/line 1, the first object, holds a nested array under "a"/),
    });
    await expect(openRows(file('\n\n'))).rejects.toMatchObject({ code: 'E_INPUT', message: expect.stringMatching(/no JSON object/) });
    await expect(openRows(file(Buffer.concat([Buffer.from('{"a":"x"}\n{"a":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}\n')])))).rejects.toThrow(
      /is not valid UTF-8 \(somewhere in bytes 0-\d+\)/,
    );
  });
});
