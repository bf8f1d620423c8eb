import { mkdtempSync, readFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { WriteAheadLog } from '../../src/state/write-ahead.js';

const dir = () => mkdtempSync(join(tmpdir(), 'et-wal-'));

describe('WriteAheadLog', () => {
  it('a line is in the file when its write resolves; lines that arrive together share a batch, in order', async () => {
    const path = join(dir(), 'undo.jsonl');
    const log = await WriteAheadLog.open(path);
    const seen: number[] = [];
    const writes = Array.from({ length: 50 }, (_, i) =>
      log.write({ i }).then(() => {
        // every line up to this one is on disk already
        const lines = readFileSync(path, 'utf8').trim().split('\n');
        expect(lines.length).toBeGreaterThanOrEqual(i + 1);
        seen.push(i);
      }),
    );
    await Promise.all(writes);
    await log.close();
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    expect(
      readFileSync(path, 'utf8')
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { i: number }).i),
    ).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(log.lines).toBe(50);
  });

  it('appends to a log that exists (a resumed run)', async () => {
    const path = join(dir(), 'undo.jsonl');
    const a = await WriteAheadLog.open(path);
    await a.write({ n: 1 });
    await a.close();
    const b = await WriteAheadLog.open(path);
    await b.write({ n: 2 });
    await b.close();
    expect(readFileSync(path, 'utf8')).toBe('{"n":1}\n{"n":2}\n');
  });

  it('a full disk rejects the write, naming the file, and every later one', async () => {
    const path = join(dir(), 'undo.jsonl');
    symlinkSync('/dev/full', path);
    const log = await WriteAheadLog.open(path);
    await expect(log.write({ n: 1 })).rejects.toThrow(new RegExp(`cannot write ${path}: .*no space`, 'i'));
    await expect(log.write({ n: 2 })).rejects.toThrow(/cannot write/);
    await log.close();
  });
});
