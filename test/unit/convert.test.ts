import { describe, expect, it } from 'vitest';
import type { FieldSpec } from '../../src/mapping/types.js';
import { convertCell } from '../../src/pipeline/convert.js';
import { fieldSpec } from '../helpers/field.js';

const field = (over: Partial<FieldSpec>): FieldSpec => fieldSpec(over);
const value = (cell: Parameters<typeof convertCell>[0], over: Partial<FieldSpec>) => {
  const r = convertCell(cell, field(over));
  if (!r.ok) throw new Error(r.error);
  return r.value;
};
const expected = (cell: Parameters<typeof convertCell>[0], over: Partial<FieldSpec>) => {
  const r = convertCell(cell, field(over));
  if (r.ok) throw new Error(`expected failure, got ${JSON.stringify(r.value)}`);
  return r.error;
};

describe('convertCell', () => {
  it('a null marker (nullValues, trimmed, ignoring case) is an empty cell; in a list, such items are dropped; values may map a text to null', () => {
    const nullValues = new Set(['n/a', '-']);
    expect(value(' N/A ', { type: 'integer', nullValues })).toBeUndefined();
    expect(expected('N/A', { type: 'integer', nullValues, required: true })).toMatch(/required/);
    expect(value('a;n/a;b', { type: 'list', nullValues })).toEqual(['a', 'b']);
    expect(
      value('maybe', {
        type: 'integer',
        values: new Map<string, number | null>([
          ['Yes', 1],
          ['maybe', null],
        ]),
      }),
    ).toBeUndefined();
    expect(
      value('Yes', {
        type: 'integer',
        values: new Map<string, number | null>([
          ['Yes', 1],
          ['maybe', null],
        ]),
      }),
    ).toBe(1);
  });

  it('sends nothing for an empty cell, unless required', () => {
    expect(value('  ', {})).toBeUndefined();
    expect(value(null, { type: 'integer' })).toBeUndefined();
    expect(expected('', { required: true })).toMatch(/required/);
  });
  it('string: trims; whole numbers from Excel as whole digits', () => {
    expect(value('  C-77 ', {})).toBe('C-77');
    expect(value(37250987916, {})).toBe('37250987916');
  });
  it('integer: whole numbers only, within min/max', () => {
    expect(value(' 5 ', { type: 'integer', min: 1, max: 5 })).toBe(5);
    expect(value(3, { type: 'integer' })).toBe(3);
    expect(expected('6', { type: 'integer', min: 1, max: 5 })).toBe('a whole number from 1 to 5, got "6"');
    expect(expected('4.5', { type: 'integer' })).toMatch(/whole number/);
    expect(expected('abc', { type: 'integer' })).toMatch(/got "abc"/);
  });
  it('number', () => {
    expect(value('4.25', { type: 'number' })).toBe(4.25);
    expect(expected('4,25', { type: 'number' })).toMatch(/a number/);
  });
  it('boolean from yes/no/true/false/1/0/y/n', () => {
    expect(['yes', 'Y', 'TRUE', '1'].map((v) => value(v, { type: 'boolean' }))).toEqual([true, true, true, true]);
    expect(['no', 'n', 'False', '0'].map((v) => value(v, { type: 'boolean' }))).toEqual([false, false, false, false]);
    expect(expected('maybe', { type: 'boolean' })).toMatch(/true\/false/);
  });
  it('date: ISO or Excel date, never moved a day', () => {
    expect(value('2025-06-29', { type: 'date' })).toBe('2025-06-29');
    expect(value(new Date(Date.UTC(2025, 5, 29)), { type: 'date' })).toBe('2025-06-29');
    expect(expected('2025-02-30', { type: 'date' })).toMatch(/YYYY-MM-DD/);
  });
  it('list: split, trimmed, empty items and repeats dropped', () => {
    expect(value(' a ; b;;a ', { type: 'list' })).toEqual(['a', 'b']);
    expect(value('a|b', { type: 'list', separator: '|' })).toEqual(['a', 'b']);
    expect(value(' ; ', { type: 'list' })).toBeUndefined();
  });
  it('values map: exact, then case-insensitive; anything else is named', () => {
    const values = new Map<string, string | number | boolean>([
      ['Yes', 1],
      ['No', 0],
    ]);
    expect(value('Yes', { type: 'integer', values })).toBe(1);
    expect(value('no', { type: 'integer', values })).toBe(0);
    expect(expected('Maybe', { type: 'integer', values })).toBe('one of "Yes", "No", got "Maybe"');
  });
  it('enum, pattern, maxLength', () => {
    expect(expected('x', { enum: ['a', 'b'] })).toMatch(/one of "a", "b"/);
    expect(value('C-1', { pattern: /^C-\d+$/u })).toBe('C-1');
    expect(expected('D-1', { pattern: /^C-\d+$/u })).toMatch(/matching/);
    expect(expected('abcdef', { maxLength: 3 })).toMatch(/at most 3 characters/);
  });
});
