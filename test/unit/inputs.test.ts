import { mkdirSync, mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expandInputs } from '../../src/run/inputs.js';

const temp = () => mkdtempSync(join(tmpdir(), 'et-nightly-'));

describe('expandInputs', () => {
  it('a folder gives its exports in name order; a pattern its matching files; a named file stays as given', () => {
    const dir = temp();
    mkdirSync(join(dir, 'sub'));
    for (const f of ['b.csv', 'a.xlsx', 'c.tsv', 'readme.md', 'sub/d.csv']) writeFileSync(join(dir, f), 'x');
    const old = new Date(Date.now() - 600_000);
    for (const f of ['b.csv', 'a.xlsx', 'c.tsv']) utimesSync(join(dir, f), old, old);
    expect(expandInputs([dir], 60_000).files).toEqual([join(dir, 'a.xlsx'), join(dir, 'b.csv'), join(dir, 'c.tsv')]);
    expect(expandInputs([join(dir, '*.csv'), join(dir, '[ab].*')], 60_000).files).toEqual([join(dir, 'b.csv'), join(dir, 'a.xlsx')]);
    expect(expandInputs(['missing.csv'], 60_000).files).toEqual(['missing.csv']);
  });
  it('leaves files changed less than --settle ago for a later run', () => {
    const dir = temp();
    writeFileSync(join(dir, 'fresh.csv'), 'x');
    const r = expandInputs([dir], 60_000);
    expect(r.files).toEqual([]);
    expect(r.notReady).toEqual([{ file: join(dir, 'fresh.csv'), modifiedSecondsAgo: expect.any(Number) }]);
    expect(expandInputs([dir], 0).files).toEqual([join(dir, 'fresh.csv')]);
  });
});
