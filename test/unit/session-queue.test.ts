import { describe, expect, it } from 'vitest';
import { SessionQueue } from '../../src/pipeline/session-queue.js';

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
