import { describe, expect, it } from 'vitest';
import { backoff, parseRetryAfter } from '../../src/api/retry.js';

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

describe('parseRetryAfter', () => {
  it('reads seconds or an HTTP date', () => {
    expect(parseRetryAfter('2')).toBe(2000);
    expect(parseRetryAfter(undefined)).toBeUndefined();
    expect(parseRetryAfter('soon')).toBeUndefined();
    const ms = parseRetryAfter(new Date(Date.now() + 5000).toUTCString())!;
    expect(ms).toBeGreaterThan(3000);
    expect(ms).toBeLessThanOrEqual(5000);
  });
});
