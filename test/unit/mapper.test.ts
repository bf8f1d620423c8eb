import { describe, expect, it } from 'vitest';
import { RowError } from '../../src/errors.js';
import { parseMapping } from '../../src/mapping/load.js';
import { filterValueProblem } from '../../src/api/sessions.js';
import { baseName, mapRow } from '../../src/pipeline/mapper.js';

const mapping = parseMapping(
  'match: { column: Call ID }\nfields:\n  csi: { column: CSAT, type: integer, min: 1, max: 5 }\n  nps: { column: NPS, type: integer }\n',
  'm.yaml',
);
const plan = { keyIndex: 0, keyIndexes: [0], equalIndexes: [[]], fieldIndexes: [1, 2] };
const rowError = (r: ReturnType<typeof mapRow>): RowError => {
  if (r.ok) throw new Error(`expected a row error, got ${JSON.stringify(r.value)}`);
  return r.error;
};

describe('mapRow', () => {
  it('maps a row to a trimmed key and typed values', () => {
    expect(mapRow(mapping, plan, { row: 2, cells: [' CALL-1 ', '5', ''] }, 'x.csv')).toEqual({
      ok: true,
      value: { key: 'CALL-1', lookup: 'CALL-1', keys: [{ index: 0, column: 'Call ID', key: 'CALL-1', lookup: 'CALL-1' }], values: { csi: 5 } },
    });
  });
  it('names the file, row and every bad column', () => {
    const r = rowError(mapRow(mapping, plan, { row: 7, cells: ['CALL-1', '9', 'x'] }, 'x.csv'));
    expect(r).toBeInstanceOf(RowError);
    expect(r.code).toBe('E_INVALID_VALUE');
    expect([r.file, r.row, r.column]).toEqual(['x.csv', 7, 'CSAT']);
    expect(r.message).toBe('x.csv row 7, column "CSAT": expected a whole number from 1 to 5, got "9"; column "NPS": expected a whole number, got "x"');
  });
  it('refuses keys that would change the search filter', () => {
    for (const key of ['', '  ', 'A±types,call', 'A\nB']) {
      const r = rowError(mapRow(mapping, plan, { row: 3, cells: [key, '1', '1'] }, 'x.csv'));
      expect(r.code).toBe('E_INVALID_KEY');
      expect(r.column).toBe('Call ID');
      expect(r.message).toMatch(/^x\.csv row 3, column "Call ID": /);
    }
    expect(filterValueProblem('some.external-id-badb')).toBeUndefined();
  });
  it('reports a row with the wrong number of cells', () => {
    const r = rowError(mapRow(mapping, plan, { row: 4, cells: ['a'], shapeError: 'has 1 cell but the header has 3' }, 'x.csv'));
    expect(r.code).toBe('E_ROW_SHAPE');
  });
});

describe('baseName', () => {
  it('drops directories (either slash) and the extension', () => {
    expect(baseName('C:\\exports\\20250629_1348_cdarwin_37250987916_IN_1.wav')).toBe('20250629_1348_cdarwin_37250987916_IN_1');
    expect(baseName('/mnt/rec/a.b.mp3')).toBe('a.b');
    expect(baseName('noext')).toBe('noext');
    expect(baseName('.hidden')).toBe('.hidden');
  });
});
