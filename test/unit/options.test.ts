import { describe, expect, it } from 'vitest';
import { parseMaxErrors } from '../../src/run/index.js';

describe('parseMaxErrors', () => {
  it('takes a count or a percentage', () => {
    expect(parseMaxErrors('100')).toEqual({ count: 100 });
    expect(parseMaxErrors('5%')).toEqual({ percent: 5 });
    expect(parseMaxErrors(undefined)).toBeUndefined();
    expect(() => parseMaxErrors('five')).toThrow(/--max-errors/);
    expect(() => parseMaxErrors('0')).toThrow(/--max-errors/);
  });
});
