import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SourceRow } from '../../src/input/types.js';
import { parseMapping } from '../../src/mapping/load.js';
import type { Duplicates } from '../../src/mapping/types.js';
import { type Classified, classifyRow, type FileKeys } from '../../src/pipeline/classify.js';
import { KeyTable } from '../../src/pipeline/key-table.js';
import { mapRow } from '../../src/pipeline/mapper.js';
import type { RowAt } from '../../src/pipeline/row.js';
import { shardOf } from '../../src/pipeline/shard.js';
import { JOURNAL_FILE, ResumeIndex } from '../../src/state/journal.js';

const mapping = parseMapping('match: { column: Call ID }\nfields:\n  csi: { column: CSAT, type: integer, max: 5 }\n', 'm.yaml');
const plan = { keyIndex: 0, keyIndexes: [0], equalIndexes: [[]], fieldIndexes: [1] };

function fileKeys(policy: Duplicates = 'all', lastRows?: KeyTable): FileKeys {
  return { seen: new KeyTable(), lastRows, duplicates: { rows: 0, examples: [] }, policy };
}

/** Classifies one row of x.csv as the read loop does. */
function classify(n: number, cells: string[], keys: FileKeys, o: { resume?: ResumeIndex; validate?: boolean; shard?: { index: number; count: number } } = {}) {
  const row: SourceRow = { row: n, cells };
  const mapped = mapRow(mapping, plan, row, 'x.csv');
  const at: RowAt = { file: 'x.csv', absFile: '/x.csv', header: ['Call ID', 'CSAT'], row, hash: `h${n}` };
  return classifyRow(mapped, at, keys, o.resume, o.validate ?? false, cells[0]!.trim(), o.shard);
}

const status = (c: Classified) => (c.kind === 'record' ? c.result.status : c.kind);

describe('classifyRow', () => {
  it('an invalid row is recorded with its code, never sent, and not counted as a key seen', () => {
    const keys = fileKeys();
    const c = classify(2, ['CALL-1', '9'], keys);
    expect(c).toMatchObject({ kind: 'record', result: { file: 'x.csv', row: 2, key: 'CALL-1', status: 'invalid', errorCode: 'E_INVALID_VALUE' } });
    expect(keys.seen.size).toBe(0);
  });

  it('a valid row needs the API in a run, and is valid in validate', () => {
    expect(classify(2, ['CALL-1', '3'], fileKeys())).toMatchObject({ kind: 'work', mapped: { key: 'CALL-1', values: { csi: 3 } } });
    expect(classify(2, ['CALL-1', '3'], fileKeys(), { validate: true })).toEqual({
      kind: 'record',
      result: { file: 'x.csv', row: 2, key: 'CALL-1', status: 'valid' },
    });
  });

  it('counts a key repeated in the file, with the rows of its first examples', () => {
    const keys = fileKeys();
    expect([2, 3, 4].map((n) => status(classify(n, ['CALL-1', '3'], keys)))).toEqual(['work', 'work', 'work']);
    expect(keys.duplicates).toEqual({
      rows: 2,
      examples: [
        { file: 'x.csv', key: 'CALL-1', rows: [2, 3] },
        { file: 'x.csv', key: 'CALL-1', rows: [3, 4] },
      ],
    });
  });

  it('match.duplicates: last skips every row of a key but its last, saying which row supersedes it', () => {
    const last = new KeyTable();
    last.set('CALL-1', 4);
    const keys = fileKeys('last', last);
    const first = classify(2, ['CALL-1', '3'], keys);
    expect(first).toMatchObject({ kind: 'record', result: { status: 'skipped' } });
    expect(first.kind === 'record' && first.result.errorMessage).toBe('x.csv row 2: superseded by row 4 with the same key (match.duplicates: last)');
    expect(status(classify(4, ['CALL-1', '3'], keys))).toBe('work');
    // a key the first pass never saw (its rows all invalid then) is not superseded
    expect(status(classify(5, ['CALL-2', '3'], keys))).toBe('work');
  });

  it('on resume, a row that ended well with the same hash is resumed; a changed or failed row is worked again', () => {
    const dir = mkdtempSync(join(tmpdir(), 'et-classify-'));
    const line = (r: number, h: string, s: string, id?: string) => JSON.stringify({ f: '/x.csv', r, h, s, ...(id && { id }) });
    writeFileSync(join(dir, JOURNAL_FILE), `${[line(2, 'h2', 'updated', 'S-1'), line(3, 'other', 'updated', 'S-2'), line(4, 'h4', 'failed')].join('\n')}\n`);
    const resume = ResumeIndex.load(dir, false);
    const keys = fileKeys();
    expect(classify(2, ['CALL-1', '3'], keys, { resume })).toMatchObject({ kind: 'resumed', earlier: { status: 'updated', sessionId: 'S-1' } });
    expect(status(classify(3, ['CALL-2', '3'], keys, { resume }))).toBe('work');
    expect(status(classify(4, ['CALL-3', '3'], keys, { resume }))).toBe('work');
    // an invalid row is checked again, whatever the journal says
    expect(status(classify(2, ['CALL-1', 'x'], fileKeys(), { resume }))).toBe('invalid');
  });

  it("another shard's row is outside, by the same hash of its key as every shard uses, invalid rows included", () => {
    const shard = { index: shardOf('CALL-1', 3), count: 3 };
    const other = { index: (shard.index % 3) + 1, count: 3 };
    expect(status(classify(2, ['CALL-1', '3'], fileKeys(), { shard }))).toBe('work');
    expect(status(classify(2, ['CALL-1', '3'], fileKeys(), { shard: other }))).toBe('outside');
    expect(status(classify(2, ['CALL-1', 'x'], fileKeys(), { shard }))).toBe('invalid');
    expect(status(classify(2, ['CALL-1', 'x'], fileKeys(), { shard: other }))).toBe('outside');
  });
});
