import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { backoff } from '../../src/api/client.js';
import { Throttle } from '../../src/api/throttle.js';
import { TurnGate } from '../../src/pipeline/turn-gate.js';
import { WrittenState } from '../../src/pipeline/written-state.js';
import { parseMaxErrors } from '../../src/run/index.js';
import { JOURNAL_FILE, ResumeIndex, rowHash } from '../../src/state/journal.js';

describe('Throttle', () => {
  it('paces requests at the cap, halves on a 429, and speeds back up', async () => {
    let now = 0;
    const t = new Throttle(100, () => now);
    expect(t.currentRate).toBe(100);
    await t.acquire();
    t.onThrottled(0);
    expect(t.currentRate).toBe(1); // only one request was seen in the last second: half of that, at least 1
    now += 1500;
    await t.acquire();
    expect(t.currentRate).toBeCloseTo(1.25);
  });
  it('with no cap, a 429 halves the pace actually reached', async () => {
    let now = 10_000;
    const t = new Throttle(Infinity, () => now);
    for (let i = 0; i < 40; i++) await t.acquire();
    t.onThrottled(1000);
    expect(t.currentRate).toBe(20);
    // Retry-After pauses everyone
    const started = Date.now();
    const p = t.acquire();
    await p;
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });
});

describe('backoff', () => {
  it('doubles with jitter between 50 % and 100 %, capped at 10 s', () => {
    for (let i = 0; i < 50; i++) {
      const d = backoff(3, 100);
      expect(d).toBeGreaterThanOrEqual(200);
      expect(d).toBeLessThanOrEqual(400);
    }
    expect(backoff(30, 100)).toBeLessThanOrEqual(10_000);
  });
});

describe('parseMaxErrors', () => {
  it('takes a count or a percentage', () => {
    expect(parseMaxErrors('100')).toEqual({ count: 100 });
    expect(parseMaxErrors('5%')).toEqual({ percent: 5 });
    expect(parseMaxErrors(undefined)).toBeUndefined();
    expect(() => parseMaxErrors('five')).toThrow(/--max-errors/);
    expect(() => parseMaxErrors('0')).toThrow(/--max-errors/);
  });
});

describe('TurnGate', () => {
  it('lets each ticket go only after every earlier one passed', async () => {
    const gate = new TurnGate();
    const [a, b, c] = [gate.ticket(), gate.ticket(), gate.ticket()];
    const order: number[] = [];
    const pc = gate.turn(c).then(() => order.push(c));
    const pb = gate.turn(b).then(() => order.push(b));
    await new Promise((r) => setTimeout(r, 5));
    expect(order).toEqual([]);
    gate.pass(a);
    await pb;
    expect(order).toEqual([b]);
    gate.pass(b);
    await pc;
    expect(order).toEqual([b, c]);
  });
});

describe('WrittenState', () => {
  it('keeps a write only while a row that searched before it is in flight', () => {
    const w = new WrittenState();
    const early = w.begin();
    const writer = w.begin();
    w.set('s1', { x: 1 });
    w.done(writer);
    expect(w.get('s1')).toEqual({ x: 1 }); // `early` may have a stale answer
    const late = w.begin();
    w.done(early);
    expect(w.get('s1')).toBeUndefined(); // `late` searched after the write: it sees it on the server
    w.done(late);
    expect(w.size).toBe(0);
  });
});

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
