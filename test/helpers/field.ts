import type { FieldSpec } from '../../src/mapping/types.js';

/** A field as the mapping loader makes it, with the loader's defaults, and what a test changes. */
export function fieldSpec(over: Partial<FieldSpec> = {}): FieldSpec {
  return {
    name: 'f',
    column: 'F',
    type: 'string',
    merge: 'replace',
    required: false,
    separator: ';',
    decimal: '.',
    thousands: [],
    truthy: [],
    falsy: [],
    formats: [],
    timezone: 'UTC',
    allowShapeChange: false,
    ...over,
  };
}
