import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { shardOf } from '../../src/pipeline/shard.js';

const _temp = () => mkdtempSync(join(tmpdir(), 'et-nightly-'));

describe('shardOf', () => {
  it('spreads 100,000 keys over 3 and over 7 shards within 5 % of each other', () => {
    for (const n of [3, 7]) {
      const sizes = new Array<number>(n).fill(0);
      for (let i = 0; i < 100_000; i++) sizes[shardOf(`CALL-${String(i).padStart(7, '0')}`, n) - 1]!++;
      expect(Math.max(...sizes) / Math.min(...sizes)).toBeLessThanOrEqual(1.05);
    }
  });
  it('puts a key in the same shard every time, and a row without a key in shard 1', () => {
    expect(shardOf('K-1', 5)).toBe(shardOf('K-1', 5));
    expect(shardOf('', 5)).toBe(1);
    expect(shardOf('anything', 1)).toBe(1);
  });
});
