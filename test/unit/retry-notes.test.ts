import { describe, expect, it } from 'vitest';
import { kindOf, RetryNotes } from '../../src/api/retry-notes.js';
import { createLogger } from '../../src/logger.js';

describe('RetryNotes', () => {
  it('tells retries at most once every 10 s, summed up by cause; single retries only at debug', () => {
    const lines: Record<string, unknown>[] = [];
    const logger = createLogger('info', { write: (s: string) => void lines.push(JSON.parse(s)) });
    let now = 0;
    const notes = new RetryNotes(logger, () => now);
    // 5 % of 600 requests a second for a minute: 30 retries a second
    for (let s = 0; s < 60; s++)
      for (let i = 0; i < 30; i++) {
        now = s * 1000 + i * 30;
        notes.note({ retry: 1 }, i % 5 === 0 ? 'connect ECONNRESET 127.0.0.1:80' : 'HTTP 503');
      }
    notes.tell();
    expect(lines.every((l) => l.msg !== 'retrying request')).toBe(true);
    expect(lines.length).toBeLessThanOrEqual(8);
    expect(lines[1]!.msg).toMatch(/^retrying: \d+ × HTTP 503, \d+ × reset in the last 10 s$/);
    const told = lines.reduce((n, l) => n + Object.values(l.retries as Record<string, number>).reduce((a, b) => a + b, 0), 0);
    expect(told).toBe(1800);
  });
  it('names causes in a word', () => {
    expect(kindOf('HTTP 429')).toBe('HTTP 429');
    expect(kindOf('socket hang up')).toBe('reset');
    expect(kindOf('request timed out after 30 s')).toBe('timeout');
  });
});
