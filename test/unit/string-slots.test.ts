import { describe, expect, it } from 'vitest';
import { hashString } from '../../src/pipeline/hash.js';
import { StringSlots } from '../../src/pipeline/string-slots.js';

describe('StringSlots', () => {
  it('maps 100,000 keys to their slots through many growths, and knows no other key', () => {
    const t = new StringSlots();
    for (let i = 0; i < 100_000; i++) t.set(`CALL-${i}`, i);
    expect(t.size).toBe(100_000);
    for (let i = 0; i < 100_000; i += 997) expect(t.get(`CALL-${i}`)).toBe(i);
    expect(t.get('CALL-100000')).toBeUndefined();
    expect(t.get('CALL-')).toBeUndefined();
    expect(t.get('')).toBeUndefined();
  });

  it('keeps a key shared by several sessions as a list, and replaces a value', () => {
    const t = new StringSlots();
    t.set('a', 1);
    t.set('a', [1, 7]);
    expect(t.get('a')).toEqual([1, 7]);
    t.set('a', [1, 7, 9]);
    expect(t.get('a')).toEqual([1, 7, 9]);
    expect(t.size).toBe(1);
  });

  it('tells apart keys whose hashes are equal: the text is compared, not only the hash', () => {
    // two different keys with the same first hash, found by brute force over a small space
    const seen = new Map<number, string>();
    let pair: [string, string] | undefined;
    for (let i = 0; !pair; i++) {
      const k = `k${i.toString(36)}`;
      const h = hashString(k).a;
      const other = seen.get(h);
      if (other !== undefined) pair = [other, k];
      else seen.set(h, k);
    }
    const t = new StringSlots();
    t.set(pair[0], 1);
    expect(t.get(pair[1])).toBeUndefined();
    t.set(pair[1], 2);
    expect([t.get(pair[0]), t.get(pair[1])]).toEqual([1, 2]);
  });

  it('keeps non-ASCII keys and long keys exactly', () => {
    const t = new StringSlots();
    const long = `rec_${'é'.repeat(500)}.mp3`;
    t.set('Запись 1.wav', 3);
    t.set('Запись 2.wav', 4);
    t.set(long, 5);
    t.set('😀', 6);
    expect([t.get('Запись 1.wav'), t.get('Запись 2.wav'), t.get(long), t.get('😀'), t.get('Запись 3.wav')]).toEqual([3, 4, 5, 6, undefined]);
  });
});
