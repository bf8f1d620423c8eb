import { describe, expect, it } from 'vitest';
import { KeyTable } from '../../src/pipeline/key-table.js';

describe('KeyTable', () => {
  it('returns the row a key was seen on before, and 0 for a new key', () => {
    const t = new KeyTable();
    expect(t.set('CALL-1', 2)).toBe(0);
    expect(t.set('CALL-2', 3)).toBe(0);
    expect(t.set('CALL-1', 7)).toBe(2);
    expect(t.get('CALL-1')).toBe(7);
    expect(t.get('CALL-2')).toBe(3);
    expect(t.get('CALL-3')).toBe(0);
    expect(t.size).toBe(2);
  });

  it('keeps every key and its last row as it grows from a few slots to many', () => {
    const t = new KeyTable();
    const n = 50_000;
    const wrong: string[] = [];
    for (let i = 1; i <= n; i++) if (t.set(`K-${i}`, i + 1) !== 0) wrong.push(`first set of K-${i}`);
    for (let i = 1; i <= n; i += 2) if (t.set(`K-${i}`, n + i + 1) !== i + 1) wrong.push(`second set of K-${i}`);
    for (let i = 1; i <= n; i++) if (t.get(`K-${i}`) !== (i % 2 === 1 ? n + i + 1 : i + 1)) wrong.push(`get of K-${i}`);
    expect(wrong.slice(0, 5)).toEqual([]);
    expect(t.size).toBe(n);
    expect(t.get('K-0')).toBe(0);
  });
});
