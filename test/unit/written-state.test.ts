import { describe, expect, it } from 'vitest';
import { WrittenState } from '../../src/pipeline/written-state.js';

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
