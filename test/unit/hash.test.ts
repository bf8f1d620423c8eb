import { describe, expect, it } from 'vitest';
import { hashString, rowHash } from '../../src/pipeline/hash.js';

describe('hashString', () => {
  it("starts from FNV-1a's offset basis and the second hash's seed, and tells one character from another", () => {
    const b = 0x9747b28c;
    expect(hashString('')).toEqual({ a: 0x811c9dc5, b: (b ^ (b >>> 15)) >>> 0 });
    const x = hashString('K-1');
    const y = hashString('K-2');
    expect([x.a === y.a, x.b === y.b]).toEqual([false, false]);
  });
});

describe('rowHash', () => {
  it('is the value journals of earlier versions hold, so they still resume', () => {
    expect(rowHash(['K-000001', { csi: 3, crm_statuses: ['a', 'b'] }])).toBe('d48257d45859f86c');
    expect(rowHash('')).toBe('ffcaaa858f310905');
  });
});
