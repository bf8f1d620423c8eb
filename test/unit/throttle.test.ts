import { describe, expect, it } from 'vitest';
import { Throttle } from '../../src/api/throttle.js';

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
    const now = 10_000;
    const waits: number[] = [];
    const t = new Throttle(
      Infinity,
      () => now,
      async (ms) => void waits.push(ms),
    );
    for (let i = 0; i < 40; i++) await t.acquire();
    expect(waits).toEqual([]);
    t.onThrottled(1000);
    expect(t.currentRate).toBe(20);
    // Retry-After pauses everyone: the next request waits the whole second, the one after a 20th more
    await t.acquire();
    await t.acquire();
    expect(waits).toEqual([1000, 1050]);
  });

  it("the API's RateLimit-Policy paces the run at 95 % of it (under --rate); nothing left of the window pauses it until the reset", async () => {
    let now = 0;
    const waits: number[] = [];
    const t = new Throttle(
      Infinity,
      () => now,
      async (ms) => {
        waits.push(ms);
      },
    );
    t.advise({ 'ratelimit-policy': '200;w=1', 'ratelimit-remaining': '150', 'ratelimit-reset': '1' });
    expect(t.currentRate).toBe(190);
    // a second later, with no 429, the pace does not climb past the advice
    now = 5000;
    t.acquire();
    expect(t.currentRate).toBe(190);
    const capped = new Throttle(50, () => now);
    capped.advise({ 'x-ratelimit-policy': '200;w=1' });
    expect(capped.currentRate).toBe(50);
    t.advise({ 'ratelimit-remaining': '0', 'ratelimit-reset': '1' });
    await t.acquire();
    expect(waits.at(-1)).toBeGreaterThan(900);
    t.advise({ 'ratelimit-policy': 'nonsense' });
    expect(t.currentRate).toBe(190);
  });
});
