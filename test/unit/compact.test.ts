import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compactJournal } from '../../src/state/compact.js';
import { JOURNAL_FILE, type JournalEntry, ResumeIndex } from '../../src/state/journal.js';

const lines = (entries: JournalEntry[]) => `${entries.map((e) => JSON.stringify(e)).join('\n')}\n`;

/** What a resume sees of a journal, real and dry, for every row of the files named. */
function view(dir: string, files: string[], rows: number) {
  const out: unknown[] = [];
  for (const dry of [false, true]) {
    let idx: ResumeIndex;
    try {
      idx = ResumeIndex.load(dir, dry);
    } catch (e) {
      out.push(String(e));
      continue;
    }
    for (const f of files) for (let r = 1; r <= rows; r++) for (const h of ['a', 'b']) out.push(idx.finished(f, r, h) ?? null);
  }
  return out;
}

describe('compactJournal', () => {
  it("drops archived files' rows and superseded lines; a resume reads the same, real and dry", () => {
    const dir = mkdtempSync(join(tmpdir(), 'et-compact-'));
    const entries: JournalEntry[] = [];
    // night after night: the same file name delivered, done, archived; a second file done twice; dry lines between
    for (let night = 0; night < 40; night++) {
      for (let r = 1; r <= 20; r++) entries.push({ f: '/drop/export.csv', r, h: night % 2 ? 'a' : 'b', s: 'updated', id: `s${r}` });
      entries.push({ f: '/drop/export.csv', r: 0, h: '', s: 'archived' });
      for (let r = 1; r <= 10; r++) entries.push({ f: '/drop/other.csv', r, h: 'a', s: night % 3 ? 'updated' : 'failed' });
      entries.push({ f: '/drop/other.csv', r: 3, h: 'b', s: 'updated', d: 1 });
    }
    for (let r = 1; r <= 5; r++) entries.push({ f: '/drop/export.csv', r, h: 'a', s: 'unchanged' });
    writeFileSync(join(dir, JOURNAL_FILE), `${lines(entries)}{"f":"/drop/torn`);
    const before = view(dir, ['/drop/export.csv', '/drop/other.csv'], 20);
    const r = compactJournal(dir);
    expect(r).toBeDefined();
    expect(r!.linesAfter).toBe(5 + 10 + 1);
    expect(view(dir, ['/drop/export.csv', '/drop/other.csv'], 20)).toEqual(before);
    // a second compaction has nothing to do
    expect(compactJournal(dir)).toBeUndefined();
    expect(readFileSync(join(dir, JOURNAL_FILE), 'utf8').split('\n').filter(Boolean)).toHaveLength(16);
  });
});
