import { describe, expect, it } from 'vitest';

describe('parseJsonSafe', () => {
  it('drops prototype keys, also when written with \\u escapes, and remembers the objects that lost them', async () => {
    const { parseJsonSafe, hasDroppedKeys } = await import('../../src/api/json.js');
    const plain = parseJsonSafe('{"a":[1,{"b":2}]}') as Record<string, unknown>;
    expect(plain).toEqual({ a: [1, { b: 2 }] });
    expect(hasDroppedKeys(plain)).toBe(false);
    for (const text of [
      '{"list":[{"__proto__":{"x":1},"k":1}]}',
      '{"list":[{"__prot\\u006f__":{"x":1},"k":1}]}',
      '{"list":[{"constructor":{"prototype":{"x":1}},"k":1}]}',
    ]) {
      const v = parseJsonSafe(text) as { list: Record<string, unknown>[] };
      expect(Object.keys(v.list[0]!)).toEqual(['k']);
      expect(hasDroppedKeys(v.list)).toBe(true);
      expect(({} as Record<string, unknown>).x).toBeUndefined();
    }
  });
});
