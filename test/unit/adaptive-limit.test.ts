import { describe, expect, it } from 'vitest';
import { AdaptiveLimit } from '../../src/api/adaptive-limit.js';

/** Feeds `rounds` windows of answers, each as long as the limit, taking `ms(limit)` each. */
function feed(a: AdaptiveLimit, rounds: number, ms: (limit: number) => number, status = 200): void {
  for (let r = 0; r < rounds; r++) {
    const n = a.limit;
    for (let i = 0; i < n; i++) a.observe('search', status, ms(a.limit));
  }
}

describe('AdaptiveLimit', () => {
  it('grows by one a window while answers stay near the fastest, up to max; the slots it drives follow each change', () => {
    let t = 0;
    const a = new AdaptiveLimit(8, 32, () => t);
    const told: number[] = [];
    // the request slots it drives: each change after the first setting is recorded
    let set = false;
    a.drive({
      get concurrency() {
        return a.limit;
      },
      set concurrency(n: number) {
        if (set) told.push(n);
        set = true;
      },
    });
    a.observe('search', 200, 50);
    feed(a, 40, () => {
      t += 10;
      return 51;
    });
    expect(a.limit).toBe(32);
    expect(told.slice(0, 3)).toEqual([9, 10, 11]);
    expect(a.report()).toMatchObject({ auto: true, max: 32, final: 32, low: 8, high: 32 });
  });

  it('settles where a server with a capacity starts to queue: latency in proportion to the load beyond 24', () => {
    const a = new AdaptiveLimit(8, 64);
    a.observe('search', 200, 50);
    feed(a, 200, (limit) => 50 * Math.max(1, limit / 24));
    expect(a.limit).toBeGreaterThanOrEqual(24);
    expect(a.limit).toBeLessThanOrEqual(36);
  });

  it('a 429, a 5xx or no answer cuts the limit to 70 %, once for the requests already in flight', () => {
    const a = new AdaptiveLimit(20, 32);
    a.observe('put', 429, 5);
    expect(a.limit).toBe(14);
    // the other answers of that flight do not cut it again
    for (let i = 0; i < 13; i++) a.observe('put', 503, 5);
    expect(a.limit).toBe(14);
    a.observe('put', 200, 50);
    for (let i = 0; i < 14; i++) a.observe('put', 200, 50);
    a.observe('put', 0, 30_000);
    expect(a.limit).toBe(9);
  });

  it('endpoints are compared with their own fastest answer: slow PUTs beside fast searches are not queueing', () => {
    const a = new AdaptiveLimit(4, 8);
    a.observe('search', 200, 10);
    a.observe('put', 200, 80);
    for (let i = 0; i < 40; i++) a.observe(i % 2 ? 'put' : 'search', 200, i % 2 ? 82 : 10.5);
    expect(a.limit).toBe(8);
  });
});
