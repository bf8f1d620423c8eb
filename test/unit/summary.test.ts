import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { emptyCounts, type Counts } from '../../src/row-result.js';
import { EXIT, exitCodeFor } from '../../src/run/summary.js';

const _quiet = createLogger('silent');
const _counts = (failed: number, total: number): Counts => ({ ...emptyCounts(), failed, updated: total - failed, total });

describe('exitCodeFor', () => {
  it('is 0 when every row ended well, 1 otherwise', () => {
    expect(exitCodeFor({ interrupted: false }, { ...emptyCounts(), updated: 2, skipped: 1, total: 3 })).toBe(EXIT.OK);
    expect(exitCodeFor({ interrupted: false }, { ...emptyCounts(), updated: 2, unmatched: 1, total: 3 })).toBe(EXIT.ROWS_FAILED);
  });
});
