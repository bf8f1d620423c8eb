import { describe, expect, it } from 'vitest';
import { barLine, formatLine, readable } from '../../src/cli/terminal.js';

const mid = { value: 4521, total: 10000, progress: 0.4521 };
const payload = { speed: 123.4, notWell: 17, extra: ['skipped 3', 'in flight ≤ 12'], eta: 44 };

describe('barLine', () => {
  it('fits the width, and keeps percent, ETA and the not-well count from 60 columns up', () => {
    for (const columns of [60, 80, 100, 160]) {
      const line = barLine(columns, true, mid, payload);
      expect(line.length, `${columns}: ${line}`).toBeLessThan(columns);
      expect(line).toMatch(/45% .*ETA 44s .*not well 17/);
    }
    // 80 columns: the rows and the speed still fit; the bar (least useful: the percent says it) takes what is left
    expect(barLine(80, true, mid, { ...payload, extra: [] })).toMatch(/█+░+ 45% \| 4521\/10000 rows \| 123.4 rows\/s \| ETA 44s \| not well 17/);
    // 160: everything
    expect(barLine(160, true, mid, payload)).toContain('| skipped 3 | in flight ≤ 12');
    expect(barLine(60, true, mid, { ...payload, eta: 4000 })).toContain('ETA 1h06m');
  });
  it('without a total: rows done and the not-well count', () => {
    expect(barLine(60, false, { value: 12, total: 0, progress: 0 }, { speed: 5, notWell: 1, extra: [] })).toBe(
      ' 12 rows | 5 rows/s | not well 1 | (total unknown)',
    );
  });
});

describe('log lines on a terminal', () => {
  it('are sentences with fields, at most five examples of a list, never a JSON dump', () => {
    const keys = Array.from({ length: 40 }, (_, i) => `CALL-${i}`);
    const line = formatLine(
      JSON.stringify({ level: 40, time: '2026-12-02T03:00:00.000Z', msg: 'rows repeat a key', keys, counts: { updated: 2, failed: 0 } }),
      false,
    );
    expect(line).toContain('WARN  rows repeat a key');
    expect(line).toContain('keys=CALL-0, CALL-1, CALL-2, CALL-3, CALL-4 and 35 more');
    expect(line).toContain('counts=(updated 2)');
    expect(line).not.toContain('{"');
    expect(readable('x'.repeat(300))).toHaveLength(201);
  });
});
