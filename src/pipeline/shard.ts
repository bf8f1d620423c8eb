import { hashString } from './hash.js';

/**
 * Which shard (1..count) a key belongs to: FNV-1a over the key, so that every run, on any
 * machine, puts a key in the same shard. A row without a usable key belongs to shard 1, so that
 * it is reported exactly once.
 */
export function shardOf(key: string, count: number): number {
  if (count <= 1 || key === '') return 1;
  const { a } = hashString(key);
  // FNV's low bits mix poorly: fold the high half in before taking the remainder
  let h = a ^ (a >>> 16);
  h = Math.imul(h, 0x45d9f3b);
  h ^= h >>> 16;
  return ((h >>> 0) % count) + 1;
}
