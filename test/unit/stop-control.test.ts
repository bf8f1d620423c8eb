import { describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { emptyCounts, type Counts } from '../../src/row-result.js';
import { StopControl } from '../../src/run/stop-control.js';
import { EXIT, exitCodeFor } from '../../src/run/summary.js';

const quiet = createLogger('silent');
const counts = (failed: number, total: number): Counts => ({ ...emptyCounts(), failed, updated: total - failed, total });

describe('StopControl', () => {
  it('--max-errors as a count stops at that many failed rows', () => {
    const s = new StopControl({ maxErrors: { count: 3 }, circuitBreaker: 10, stopTimeoutMs: 1000, logger: quiet });
    s.onRow('failed', false, counts(2, 10), 'x');
    expect(s.stopping).toBe(false);
    s.onRow('failed', false, counts(3, 11), 'x');
    expect(s.outcome.aborted).toBe('--max-errors reached: 3 of 11 rows failed');
    expect(s.cancelSignal.aborted).toBe(false); // rows in flight may finish
  });

  it('--max-errors counts every row that did not end well, or only the statuses --max-errors-statuses names', () => {
    const c = { ...counts(0, 150), unmatched: 8 };
    const s = new StopControl({ maxErrors: { percent: 5 }, circuitBreaker: 10, stopTimeoutMs: 1000, logger: quiet });
    s.onRow('unmatched', false, c, 'x');
    expect(s.outcome.aborted).toBe('--max-errors reached: 8 of 150 rows did not end well (8 unmatched)');
    const narrow = new StopControl({
      maxErrors: { percent: 5 },
      errorStatuses: new Set(['failed', 'invalid']),
      circuitBreaker: 10,
      stopTimeoutMs: 1000,
      logger: quiet,
    });
    narrow.onRow('unmatched', false, c, 'x');
    expect(narrow.stopping).toBe(false);
  });

  it('--max-errors 5% applies from the 100th row on', () => {
    const s = new StopControl({ maxErrors: { percent: 5 }, circuitBreaker: 10, stopTimeoutMs: 1000, logger: quiet });
    s.onRow('failed', false, counts(9, 99), 'x'); // 9 % of 99 rows, but fewer than 100 rows
    expect(s.stopping).toBe(false);
    s.onRow('failed', false, counts(4, 100), 'x'); // 4 %
    expect(s.stopping).toBe(false);
    s.onRow('failed', false, counts(5, 100), 'x'); // 5 %
    expect(s.outcome.aborted).toMatch(/--max-errors reached: 5 of 100/);
    expect(exitCodeFor(s.outcome, counts(5, 100))).toBe(EXIT.ABORTED);
  });

  it('the row circuit opens after K rows in a row fail to reach the API; any row that reached it resets the count', () => {
    const s = new StopControl({ maxErrors: undefined, circuitBreaker: 3, stopTimeoutMs: 1000, logger: quiet });
    s.onRow('failed', true, counts(1, 1), 'down');
    s.onRow('failed', true, counts(2, 2), 'down');
    s.onRow('unmatched', false, counts(2, 3), undefined);
    s.onRow('failed', true, counts(3, 4), 'down');
    s.onRow('failed', true, counts(4, 5), 'down');
    expect(s.stopping).toBe(false);
    s.onRow('failed', true, counts(5, 6), 'down');
    expect(s.outcome.aborted).toMatch(/^3 rows in a row could not reach the API \(last: down\)/);
    expect(s.cancelSignal.aborted).toBe(true); // a dead API: nothing on the wire will finish
  });

  it('the request circuit opens when K requests in a row failed and the API has been silent for 15 s', () => {
    let now = 0;
    const s = new StopControl({ maxErrors: undefined, circuitBreaker: 10, stopTimeoutMs: 1000, logger: quiet, now: () => now });
    for (let i = 0; i < 50; i++) s.onRequest(false); // a burst of failures, but not 15 s of silence
    expect(s.stopping).toBe(false);
    now = 14_000;
    s.onRequest(true);
    now = 28_000;
    for (let i = 0; i < 9; i++) s.onRequest(false);
    expect(s.stopping).toBe(false); // 14 s silent, 9 failures
    now = 29_500;
    s.onRequest(false);
    expect(s.outcome.aborted).toBe('the API has not answered for 16 s (10 requests in a row failed)');
    expect(s.cancelSignal.aborted).toBe(true);
  });

  it('a stop signal ends waits at once and cancels requests when the stop timeout runs out', () => {
    vi.useFakeTimers();
    try {
      const s = new StopControl({ maxErrors: undefined, circuitBreaker: 10, stopTimeoutMs: 2000, logger: quiet });
      s.interrupt();
      expect(s.stopSignal.aborted).toBe(true);
      expect(s.cancelSignal.aborted).toBe(false);
      vi.advanceTimersByTime(1999);
      expect(s.cancelSignal.aborted).toBe(false);
      vi.advanceTimersByTime(1);
      expect(s.cancelSignal.aborted).toBe(true);
      expect(exitCodeFor(s.outcome, counts(0, 3))).toBe(EXIT.INTERRUPTED);
      s.dispose();
    } finally {
      vi.useRealTimers();
    }
  });

  it('a fatal stop wins over an interruption and an abort, and cancels at once', () => {
    const s = new StopControl({ maxErrors: undefined, circuitBreaker: 10, stopTimeoutMs: 60_000, logger: quiet });
    s.abort('thresholds');
    s.interrupt();
    s.fatal('login refused');
    s.fatal('a later reason');
    expect(s.outcome).toEqual({ interrupted: true, aborted: 'thresholds', fatal: 'login refused' });
    expect(s.cancelSignal.aborted).toBe(true);
    expect(exitCodeFor(s.outcome, counts(0, 1))).toBe(EXIT.FATAL);
    s.dispose();
  });
});
