import { describe, expect, it } from 'vitest';
import { SessionQueue } from '../../src/pipeline/session-queue.js';
import { TurnGate } from '../../src/pipeline/turn-gate.js';
import { WrittenState } from '../../src/pipeline/written-state.js';

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

describe('SessionQueue', () => {
  it('runs the tasks of one session one after the other, others freely, and forgets idle sessions', async () => {
    const q = new SessionQueue();
    const log: string[] = [];
    let release!: () => void;
    const first = q.run('a', () => new Promise<void>((r) => (release = r)).then(() => void log.push('a1')));
    const second = q.run('a', async () => void log.push('a2'));
    const other = q.run('b', async () => void log.push('b1'));
    await other;
    expect(log).toEqual(['b1']);
    release();
    await Promise.all([first, second]);
    expect(log).toEqual(['b1', 'a1', 'a2']);
    // a failed task does not stop the next one of its session
    await expect(q.run('a', async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await q.run('a', async () => void log.push('a3'));
    await new Promise((r) => setTimeout(r, 0));
    expect(log.at(-1)).toBe('a3');
    expect(q.size).toBe(0);
  });
});
