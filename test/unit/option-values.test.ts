import { describe, expect, it } from 'vitest';
import { parseErrorStatuses, parseMaxErrors, parseShard, parseWindow } from '../../src/run/option-values.js';

describe('parseMaxErrors', () => {
  it('takes a count or a percentage', () => {
    expect(parseMaxErrors('100')).toEqual({ count: 100 });
    expect(parseMaxErrors('5%')).toEqual({ percent: 5 });
    expect(parseMaxErrors(undefined)).toBeUndefined();
    expect(() => parseMaxErrors('five')).toThrow(/--max-errors/);
    expect(() => parseMaxErrors('0')).toThrow(/--max-errors/);
  });
});

describe('parseWindow', () => {
  it('takes FROM..TO as days of the calendar, FROM not after TO', () => {
    expect(parseWindow(' 2025-06-01 .. 2025-06-30 ')).toEqual({ from: '2025-06-01', to: '2025-06-30' });
    expect(parseWindow('2025-06-01..2025-06-01')).toEqual({ from: '2025-06-01', to: '2025-06-01' });
    for (const bad of ['2025-06-30..2025-06-01', '2025-02-30..2025-03-01', '2025-06-01', '2025-6-1..2025-6-2'])
      expect(() => parseWindow(bad), bad).toThrow(expect.objectContaining({ code: 'E_USAGE' }));
    expect(() => parseWindow('2025-02-30..2025-03-01')).toThrow('got "2025-02-30..2025-03-01"');
  });
});

describe('parseShard', () => {
  it('takes i/n with 1 <= i <= n', () => {
    expect(parseShard(' 2 / 3 ')).toEqual({ index: 2, count: 3 });
    for (const bad of ['0/3', '4/3', '2', 'a/b']) expect(() => parseShard(bad), bad).toThrow(expect.objectContaining({ code: 'E_USAGE' }));
  });
});

describe('parseErrorStatuses', () => {
  it('takes a list, comma-separated or not, of the statuses --max-errors may count', () => {
    expect([...parseErrorStatuses('failed, invalid')]).toEqual(['failed', 'invalid']);
    expect([...parseErrorStatuses(['failed', 'unmatched'])]).toEqual(['failed', 'unmatched']);
    expect(() => parseErrorStatuses('updated')).toThrow(expect.objectContaining({ code: 'E_USAGE' }));
    expect(() => parseErrorStatuses('')).toThrow(expect.objectContaining({ code: 'E_USAGE' }));
  });
});
