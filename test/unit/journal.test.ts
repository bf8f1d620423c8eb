import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { rowHash } from '../../src/pipeline/hash.js';
import { JOURNAL_FILE, ResumeIndex } from '../../src/state/journal.js';

describe('ResumeIndex', () => {
  it('skips finished rows with the same hash, retries failed ones, ignores a torn last line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'et-journal-'));
    const h = rowHash(['K', { a: 1 }]);
    writeFileSync(
      join(dir, JOURNAL_FILE),
      [
        JSON.stringify({ f: '/x.csv', r: 2, h, s: 'updated', id: 'S' }),
        JSON.stringify({ f: '/x.csv', r: 3, h, s: 'failed' }),
        JSON.stringify({ f: '/x.csv', r: 4, h, s: 'failed' }),
        JSON.stringify({ f: '/x.csv', r: 4, h, s: 'unchanged' }),
        JSON.stringify({ f: '/x.csv', r: 5, h, s: 'would_update' }),
        '{"f":"/x.csv","r":6,"h":',
      ].join('\n'),
    );
    const idx = ResumeIndex.load(dir, false);
    expect(idx.tornLines).toBe(1);
    expect(idx.finished('/x.csv', 2, h)).toEqual({ status: 'updated', sessionId: 'S' });
    expect(idx.finished('/x.csv', 2, 'other')).toBeUndefined();
    expect(idx.finished('/x.csv', 3, h)).toBeUndefined();
    expect(idx.finished('/x.csv', 4, h)?.status).toBe('unchanged');
    expect(idx.finished('/x.csv', 5, h)).toBeUndefined(); // a dry run's result does not finish a real run
    expect(ResumeIndex.load(dir, true).finished('/x.csv', 5, h)?.status).toBe('would_update');
    expect(idx.finished('/y.csv', 2, h)).toBeUndefined();
  });
});
