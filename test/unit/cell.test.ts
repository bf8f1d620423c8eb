import { describe, expect, it } from 'vitest';
import { cellText } from '../../src/input/cell.js';

describe('cellText', () => {
  it('writes whole numbers as whole digits and other values as they read', () => {
    expect([37250987916, 1e21, 2.5, -0.25, true, null, ' text '].map((c) => cellText(c))).toEqual([
      '37250987916',
      '1000000000000000000000',
      '2.5',
      '-0.25',
      'true',
      '',
      ' text ',
    ]);
  });

  it('writes an Excel date cell as the spreadsheet shows it: wall-clock time, no zone', () => {
    expect(cellText(new Date(Date.UTC(2025, 5, 29)))).toBe('2025-06-29');
    expect(cellText(new Date(Date.UTC(2025, 5, 29, 11, 48)))).toBe('2025-06-29 11:48:00');
    expect(cellText(new Date(Date.UTC(2025, 5, 29, 11, 48, 5, 250)))).toBe('2025-06-29 11:48:05.250');
    expect(cellText(new Date(Number.NaN))).toBe('Invalid Date');
  });
});
