import { spawn, spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { ROOT } from '../helpers/sandbox.js';
import { mkdirSync, mkdtempSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { shardOf } from '../../src/pipeline/shard.js';
import { expandInputs } from '../../src/run/inputs.js';
import { LOCK_FILE, StateLock } from '../../src/state/lock.js';

const temp = () => mkdtempSync(join(tmpdir(), 'et-nightly-'));

describe('shardOf', () => {
  it('spreads 100,000 keys over 3 and over 7 shards within 5 % of each other', () => {
    for (const n of [3, 7]) {
      const sizes = new Array<number>(n).fill(0);
      for (let i = 0; i < 100_000; i++) sizes[shardOf(`CALL-${String(i).padStart(7, '0')}`, n) - 1]!++;
      expect(Math.max(...sizes) / Math.min(...sizes)).toBeLessThanOrEqual(1.05);
    }
  });
  it('puts a key in the same shard every time, and a row without a key in shard 1', () => {
    expect(shardOf('K-1', 5)).toBe(shardOf('K-1', 5));
    expect(shardOf('', 5)).toBe(1);
    expect(shardOf('anything', 1)).toBe(1);
  });
});

describe('StateLock', () => {
  const quiet = () => {};
  it('a live holder refuses, naming the lock file, pid, host and start time', () => {
    const dir = temp();
    const held = StateLock.acquire(dir, { staleMs: 3_600_000, warn: quiet });
    expect(() => StateLock.acquire(dir, { staleMs: 3_600_000, warn: quiet })).toThrow(
      new RegExp(`in use by another run: pid ${process.pid} on host ${hostname()}, started .* \\(lock file ${join(dir, LOCK_FILE)}\\)`),
    );
    held.release();
    StateLock.acquire(dir, { staleMs: 3_600_000, warn: quiet }).release();
  });
  it('a dead holder on this host is taken over with a warning', () => {
    const dir = temp();
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
    writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: Number(dead), host: hostname(), startedAt: new Date().toISOString() }));
    const warnings: string[] = [];
    const lock = StateLock.acquire(dir, { staleMs: 3_600_000, warn: (m) => void warnings.push(m) });
    expect(warnings).toEqual([expect.stringContaining(`pid ${dead} is no longer running on this host`)]);
    expect(JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')).pid).toBe(process.pid);
    lock.release();
  });
  it("another host's lock is respected until its holder has not refreshed it for --lock-stale, whatever its start time says", () => {
    const dir = temp();
    const at = (ms: number, startedAt: string) => {
      writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: 1, host: 'other-host', startedAt }));
      const t = new Date(Date.now() - ms);
      utimesSync(join(dir, LOCK_FILE), t, t);
    };
    at(30 * 60_000, new Date(Date.now() - 5 * 3_600_000).toISOString());
    expect(() => StateLock.acquire(dir, { staleMs: 3_600_000, warn: quiet })).toThrow(/pid 1 on host other-host/);
    at(61 * 60_000, 'not a time');
    const warnings: string[] = [];
    StateLock.acquire(dir, { staleMs: 3_600_000, warn: (m) => void warnings.push(m) }).release();
    expect(warnings[0]).toMatch(/host other-host has not refreshed for 61 min, more than --lock-stale/);
  });
  it("a lock with this process's pid that none of its runs holds (pid 1 in a restarted container) is stale", () => {
    const dir = temp();
    writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: process.pid, host: hostname(), startedAt: new Date().toISOString(), runId: 'an-earlier-run' }));
    const warnings: string[] = [];
    const lock = StateLock.acquire(dir, { staleMs: 3_600_000, warn: (m) => void warnings.push(m) });
    expect(warnings[0]).toMatch(/pid \d+ is this process, and not one of its runs/);
    lock.release();
  });
  it('runs started together on a stale lock: exactly one takes it, 20 times over', async () => {
    const script = `
      const { StateLock } = await import(${JSON.stringify(pathToFileURL(join(ROOT, 'dist/state/lock.js')).href)});
      const [dir, go] = process.argv.slice(1);
      while (Date.now() < Number(go)) {}
      try { StateLock.acquire(dir, { staleMs: 3600000, warn: () => {} }); process.stdout.write('held'); setTimeout(() => {}, 300); }
      catch (e) { process.stdout.write(e.code); }`;
    for (let trial = 0; trial < 20; trial++) {
      const dir = temp();
      const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
      writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: Number(dead), host: hostname(), startedAt: new Date().toISOString() }));
      const go = String(Date.now() + 400);
      const outs = await Promise.all(
        [0, 1, 2].map(
          () =>
            new Promise<string>((resolve) => {
              const child = spawn(process.execPath, ['--input-type=module', '-e', script, dir, go]);
              let out = '';
              child.stdout.on('data', (c: Buffer) => (out += c.toString()));
              child.on('close', () => resolve(out));
            }),
        ),
      );
      expect(outs.sort()).toEqual(['E_LOCKED', 'E_LOCKED', 'held']);
    }
  }, 120_000);
});

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
