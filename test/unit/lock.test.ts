import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { pathToFileURL } from 'node:url';
import { ROOT } from '../helpers/sandbox.js';
import { mkdtempSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LOCK_FILE, StateLock } from '../../src/state/lock.js';

const temp = () => mkdtempSync(join(tmpdir(), 'et-nightly-'));

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
      // asleep until just before the start, then spinning: the three start within a millisecond,
      // without three processes spinning for the whole wait
      await new Promise((r) => setTimeout(r, Math.max(0, Number(go) - Date.now() - 20)));
      while (Date.now() < Number(go)) {}
      try { StateLock.acquire(dir, { staleMs: 3600000, warn: () => {} }); process.stdout.write('held\\n'); }
      catch (e) { process.stdout.write(e.code + '\\n'); }
      // alive (the lock's holder too) until every child has answered: a holder that exited would leave a stale lock again
      process.stdin.resume();
      process.stdin.on('end', () => process.exit(0));`;
    for (let trial = 0; trial < 20; trial++) {
      const dir = temp();
      // a pid that was a process and is no more
      const dead = String(spawnSync('true').pid);
      writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: Number(dead), host: hostname(), startedAt: new Date().toISOString() }));
      const go = String(Date.now() + 400);
      const children = [0, 1, 2].map(() => {
        const child = spawn(process.execPath, ['--input-type=module', '-e', script, dir, go], { stdio: ['pipe', 'pipe', 'inherit'] });
        const closed = once(child, 'close');
        const answer = new Promise<string>((resolve) => {
          let out = '';
          child.stdout.on('data', (c: Buffer) => {
            out += c.toString();
            if (out.includes('\n')) resolve(out.trim());
          });
          void closed.then(() => resolve(out.trim()));
        });
        return { child, closed, answer };
      });
      const outs = await Promise.all(children.map((c) => c.answer));
      for (const c of children) c.child.stdin.end();
      await Promise.all(children.map((c) => c.closed));
      expect(outs.sort()).toEqual(['E_LOCKED', 'E_LOCKED', 'held']);
    }
  }, 120_000);
});
