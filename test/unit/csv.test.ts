import { describe, expect, it } from 'vitest';
import { sniffDelimiter } from '../../src/input/csv.js';

describe('sniffDelimiter', () => {
  it('picks the delimiter that splits lines consistently, ignoring quoted text', () => {
    expect(sniffDelimiter('a,b,c\n1,2,3\n')).toBe(',');
    expect(sniffDelimiter('a;b;c\n"1,5";2;3\n')).toBe(';');
    expect(sniffDelimiter('a\tb\n1\t2\n')).toBe('\t');
    expect(sniffDelimiter('a|b\n1|2\n')).toBe('|');
  });
});
