import { describe, expect, it } from 'vitest';
import { Throttle } from '../../src/api/throttle.js';

describe('Throttle', () => {
  it('a 429 sets the pace to 95 % of what the API accepted in the second before it, then probes above it, later each time it is met there', async () => {
    let now = 10_000;
    const t = new Throttle(Infinity, () => now);
    for (let i = 0; i < 40; i++) {
      t.acquire();
      if (i < 30) t.advise({}, 200);
    }
    t.advise({}, 429);
    t.onThrottled(0);
    expect(t.currentRate).toBeCloseTo(28.5); // 30 accepted
    now += 1500;
    t.acquire();
    expect(t.currentRate).toBeCloseTo(28.5 * 1.02); // the first time: probing at once, 2 % a second
    // met again at about the same mark: probing waits 5 s, then 10 s
    for (let i = 0; i < 29; i++) t.advise({}, 200);
    t.onThrottled(0);
    const held = t.currentRate;
    expect(held).toBeCloseTo(29 * 0.95);
    now += 3000;
    t.acquire();
    expect(t.currentRate).toBe(held);
    now += 2500;
    t.acquire();
    expect(t.currentRate).toBeCloseTo(held * 1.02);
  });
  it('with too few answers to tell the limit, a 429 halves the pace reached; Retry-After pauses everyone', async () => {
    const now = 10_000;
    const waits: number[] = [];
    const t = new Throttle(
      Infinity,
      () => now,
      async (ms) => void waits.push(ms),
    );
    for (let i = 0; i < 40; i++) await t.acquire();
    expect(waits).toEqual([]);
    t.onThrottled(2000);
    expect(t.currentRate).toBe(19); // 95 % of half of 40
    // a Retry-After of more than a second pauses everyone: the next request waits it, the one after a 19th more
    await t.acquire();
    await t.acquire();
    expect(waits[0]).toBe(2000);
    expect(waits[1]).toBeCloseTo(2000 + 1000 / 19);
  });
  it('paces at the cap, and never above it', async () => {
    let now = 0;
    const t = new Throttle(100, () => now);
    expect(t.currentRate).toBe(100);
    t.acquire();
    t.onThrottled(0);
    expect(t.currentRate).toBe(1);
    for (let s = 0; s < 200; s++) {
      now += 1100;
      t.acquire();
    }
    expect(t.currentRate).toBeLessThanOrEqual(100);
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
