import { describe, expect, it } from 'vitest';
import { shapeChange } from '../../src/pipeline/shape-guard.js';
import { fieldSpec } from '../helpers/field.js';

const fields = [
  fieldSpec({ name: 'crm_statuses', type: 'list' }),
  fieldSpec({ name: 'csi', type: 'integer' }),
  fieldSpec({ name: 'free', allowShapeChange: true }),
];

describe('shapeChange', () => {
  it('a list replaced by a string, a number by a string or boolean, an object by a scalar: named with both shapes', () => {
    expect(shapeChange(fields, { crm_statuses: ['a'] }, { crm_statuses: 'a;b' }, ['crm_statuses'])).toBe(
      'field crm_statuses: the session holds a list (["a"]), the row would write a string ("a;b"); not sent (allowShapeChange: true on the field allows it)',
    );
    expect(shapeChange(fields, { csi: 4 }, { csi: 'N/A' }, ['csi'])).toMatch(/holds a number \(4\), the row would write a string \("N\/A"\)/);
    expect(shapeChange(fields, { csi: { a: 1 } }, { csi: 3 }, ['csi'])).toMatch(/holds an object/);
  });
  it('the same shape, a key the session does not hold, null, or a field that allows it: no objection', () => {
    expect(shapeChange(fields, { csi: 4 }, { csi: 5 }, ['csi'])).toBeUndefined();
    expect(shapeChange(fields, {}, { csi: 'x' }, ['csi'])).toBeUndefined();
    expect(shapeChange(fields, { csi: null }, { csi: 'x' }, ['csi'])).toBeUndefined();
    expect(shapeChange(fields, { free: [1] }, { free: 'x' }, ['free'])).toBeUndefined();
    // a string where a number was is not listed: a number where a string was is a common fix
    expect(shapeChange(fields, { csi: '4' }, { csi: 4 }, ['csi'])).toBeUndefined();
  });
});
