import type { ConfigIssue, Result } from '../errors.js';
import { closest } from './closest.js';
import { checkKeys, checkNullValues, isObj, isTimeZone, nonEmptyString, oneOf, type Obj, columnSpec } from './checks.js';
import { checkMatch } from './validate-match.js';
import {
  ENCODINGS,
  FIELD_TYPES,
  MAPPING_DEFAULTS,
  MERGE_POLICIES,
  type FieldSpec,
  type FieldType,
  type InputSpec,
  type Mapping,
  type Scalar,
} from './types.js';

export { closest };

/** Session fields that hold the conversation's identity; a mapping must not overwrite them. */
export const RESERVED_METADATA_KEYS = new Set(['id', '__proto__', 'constructor', 'prototype']);

export const TOP_KEYS = ['match', 'fields', 'input', 'nullValues'];
export { MATCH_KEYS } from './validate-match.js';
export const INPUT_KEYS = ['delimiter', 'sheet', 'encoding', 'headerRow', 'maxCellBytes', 'maxSharedStringsMb'];
export const FIELD_KEYS = [
  'column',
  'type',
  'merge',
  'required',
  'min',
  'max',
  'maxLength',
  'pattern',
  'enum',
  'values',
  'separator',
  'decimal',
  'thousands',
  'truthy',
  'falsy',
  'formats',
  'timezone',
  'nullValues',
  'allowShapeChange',
];
export const ENCODING_NAMES = Object.keys(ENCODINGS);

const isScalar = (v: unknown): v is Scalar => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';

/**
 * Checks a parsed mapping document in three steps (structure, defaults, cross-field rules) and
 * returns every problem at once, each with its path, or the checked mapping.
 */
export function validateMapping(doc: unknown, file: string): Result<Mapping, ConfigIssue[]> {
  const issues: ConfigIssue[] = [];
  const add = (path: string, message: string) => issues.push({ path, message });

  if (!isObj(doc)) {
    add('', 'expected a mapping object with `match` and `fields`');
    return { ok: false, error: issues };
  }
  checkKeys(doc, TOP_KEYS, '', add);

  const match = checkMatch(doc.match, add);
  const nullValues = checkNullValues(doc.nullValues, 'nullValues', add) ?? [];
  const fields = checkFields(doc.fields, add, nullValues);
  const input = checkInput(doc.input, add);

  if (match && fields) {
    // every key's session fields, not only the first key's (the one-key shorthand): a field that
    // wrote one would change what later rows are matched by
    for (const f of fields) {
      const k = match.keys.findIndex((key) => key.sessionFields.includes(f.name));
      if (k >= 0)
        add(
          `fields.${f.name}`,
          `"${f.name}" is a session field used for matching (${match.keys.length === 1 ? 'match.sessionFields' : `match.keys.${k}.sessionFields`}); it cannot be written as metadata`,
        );
    }
  }
  if (issues.length > 0 || !match || !fields || !input) return { ok: false, error: issues };
  return { ok: true, value: { file, match, fields, input } };
}

function checkInput(raw: unknown, add: (p: string, m: string) => void): InputSpec | undefined {
  if (raw === undefined) return {};
  if (!isObj(raw)) {
    add('input', 'expected an object, e.g. { delimiter: ";" }');
    return undefined;
  }
  checkKeys(raw, INPUT_KEYS, 'input', add);
  const out: InputSpec = {};
  if (raw.delimiter !== undefined) {
    const d = raw.delimiter === '\\t' ? '\t' : raw.delimiter;
    if (typeof d !== 'string' || d.length !== 1 || d === '"' || d === '\n' || d === '\r')
      add('input.delimiter', 'expected one character, e.g. "," ";" "\\t" or "|"');
    else out.delimiter = d;
  }
  if (raw.sheet !== undefined) {
    if (typeof raw.sheet === 'string' && raw.sheet.trim() !== '') out.sheet = raw.sheet;
    else if (typeof raw.sheet === 'number' && Number.isInteger(raw.sheet) && raw.sheet >= 1) out.sheet = raw.sheet;
    else add('input.sheet', 'expected a sheet name or a sheet number starting at 1');
  }
  if (raw.encoding !== undefined) {
    if (typeof raw.encoding === 'string' && ENCODING_NAMES.includes(raw.encoding.toLowerCase())) out.encoding = raw.encoding;
    else add('input.encoding', `expected one of ${ENCODING_NAMES.join(', ')}, got ${JSON.stringify(raw.encoding)}`);
  }
  if (raw.headerRow !== undefined) {
    if (typeof raw.headerRow === 'number' && Number.isInteger(raw.headerRow) && raw.headerRow >= 1) out.headerRow = raw.headerRow;
    else add('input.headerRow', 'expected the row number of the header, 1 or more');
  }
  if (raw.maxCellBytes !== undefined) {
    if (typeof raw.maxCellBytes === 'number' && Number.isInteger(raw.maxCellBytes) && raw.maxCellBytes >= 1024) out.maxCellBytes = raw.maxCellBytes;
    else add('input.maxCellBytes', 'expected a whole number of bytes, 1024 or more (default 1048576, 1 MB)');
  }
  if (raw.maxSharedStringsMb !== undefined) {
    if (typeof raw.maxSharedStringsMb === 'number' && raw.maxSharedStringsMb > 0) out.maxSharedStringsMb = raw.maxSharedStringsMb;
    else add('input.maxSharedStringsMb', 'expected a number of megabytes above 0 (default 100)');
  }
  return out;
}

function checkFields(raw: unknown, add: (p: string, m: string) => void, nullValues: string[]): FieldSpec[] | undefined {
  if (raw === undefined) {
    add('fields', 'is required: at least one metadata field mapped from a column');
    return undefined;
  }
  if (!isObj(raw) || Object.keys(raw).length === 0) {
    add('fields', 'expected an object of metadata keys, e.g. { csi: { column: CSAT, type: integer } }');
    return undefined;
  }
  const out: FieldSpec[] = [];
  let ok = true;
  for (const [name, spec] of Object.entries(raw)) {
    const f = checkField(name, spec, add, nullValues);
    if (f) out.push(f);
    else ok = false;
  }
  return ok ? out : undefined;
}

function checkField(name: string, raw: unknown, add: (p: string, m: string) => void, nullValues: string[]): FieldSpec | undefined {
  const path = `fields.${name}`;
  let problems = 0;
  const addc = (p: string, m: string) => {
    problems++;
    add(p, m);
  };
  if (name.trim() === '' || RESERVED_METADATA_KEYS.has(name)) {
    addc(path, `"${name}" cannot be used as a metadata key`);
  }
  // `csi: CSAT` is shorthand for `csi: { column: CSAT }`
  const spec = columnSpec(raw);
  if (!spec) {
    addc(path, 'expected an object such as { column: CSAT, type: integer } or a column name');
    return undefined;
  }
  checkKeys(spec, FIELD_KEYS, path, addc);
  const column = nonEmptyString(spec.column, `${path}.column`, addc);
  const type = oneOf(spec.type ?? MAPPING_DEFAULTS.field.type, FIELD_TYPES, `${path}.type`, addc) as FieldType | undefined;
  const merge = oneOf(spec.merge ?? MAPPING_DEFAULTS.field.merge, MERGE_POLICIES, `${path}.merge`, addc);
  if (merge === 'append' && type !== undefined && type !== 'list') addc(`${path}.merge`, `"append" needs type: list (this field is ${type})`);

  const c: FieldCheck = { spec, path, type, add: addc };
  const { min, max, maxLength } = checkNumbers(c);
  const { pattern, enumValues, values } = checkValueRules(c);
  const { separator, decimal, thousands, truthy, falsy, formats, timezone, required } = checkTextRules(c);
  const own = checkNullValues(spec.nullValues, `${path}.nullValues`, addc) ?? [];
  let allowShapeChange: boolean = MAPPING_DEFAULTS.field.allowShapeChange;
  if (spec.allowShapeChange !== undefined) {
    if (typeof spec.allowShapeChange !== 'boolean') addc(`${path}.allowShapeChange`, 'expected true or false');
    else allowShapeChange = spec.allowShapeChange;
  }
  if (problems > 0 || !column || !type || !merge) return undefined;
  const f: FieldSpec = { name, column, type, merge, required, separator, decimal, thousands, truthy, falsy, formats, timezone, allowShapeChange };
  if (own.length > 0 || nullValues.length > 0) f.nullValues = new Set([...nullValues, ...own]);
  if (min !== undefined) f.min = min;
  if (max !== undefined) f.max = max;
  if (maxLength !== undefined) f.maxLength = maxLength;
  if (pattern) f.pattern = pattern;
  if (enumValues) f.enum = enumValues;
  if (values) f.values = values;
  return f;
}

/** One field's spec being checked: its path, its type (when known) and where problems go. */
interface FieldCheck {
  spec: Obj;
  path: string;
  type: FieldType | undefined;
  add: (p: string, m: string) => void;
}

function checkNumbers(c: FieldCheck) {
  const num = (key: 'min' | 'max' | 'maxLength') => {
    const v = c.spec[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isFinite(v) || (key === 'maxLength' && (!Number.isInteger(v) || v < 1))) {
      c.add(`${c.path}.${key}`, key === 'maxLength' ? 'expected a whole number of at least 1' : 'expected a number');
      return undefined;
    }
    return v;
  };
  const min = num('min');
  const max = num('max');
  const maxLength = num('maxLength');
  if (min !== undefined && max !== undefined && min > max) c.add(`${c.path}.min`, `min (${min}) is greater than max (${max})`);
  if ((min !== undefined || max !== undefined) && c.type !== 'integer' && c.type !== 'number')
    c.add(`${c.path}.${min !== undefined ? 'min' : 'max'}`, `min/max apply to integer and number fields (this field is ${c.type})`);

  return { min, max, maxLength };
}

function checkValueRules(c: FieldCheck) {
  let pattern: RegExp | undefined;
  if (c.spec.pattern !== undefined) {
    if (typeof c.spec.pattern !== 'string') c.add(`${c.path}.pattern`, 'expected a regular expression as a string');
    else {
      try {
        pattern = new RegExp(c.spec.pattern, 'u');
      } catch (err) {
        c.add(`${c.path}.pattern`, `not a valid regular expression: ${(err as Error).message}`);
      }
    }
  }
  let enumValues: Scalar[] | undefined;
  if (c.spec.enum !== undefined) {
    if (!Array.isArray(c.spec.enum) || c.spec.enum.length === 0 || !c.spec.enum.every(isScalar))
      c.add(`${c.path}.enum`, 'expected a non-empty list of allowed values');
    else enumValues = c.spec.enum;
  }
  let values: Map<string, Scalar | null> | undefined;
  if (c.spec.values !== undefined) {
    if (!isObj(c.spec.values) || Object.keys(c.spec.values).length === 0)
      c.add(`${c.path}.values`, 'expected an object mapping cell text to the value to send, e.g. { "Yes": 1, "No": 0 }');
    else {
      values = new Map();
      for (const [k, v] of Object.entries(c.spec.values)) {
        if (v === null) values.set(k, null);
        else if (!isScalar(v)) c.add(`${c.path}.values.${k}`, 'expected a string, number or boolean, or null for "no value"');
        else if (c.type === 'integer' && !(typeof v === 'number' && Number.isInteger(v)))
          c.add(`${c.path}.values.${k}`, `expected an integer, because the field is type: integer (got ${JSON.stringify(v)})`);
        else if (c.type === 'number' && typeof v !== 'number')
          c.add(`${c.path}.values.${k}`, `expected a number, because the field is type: number (got ${JSON.stringify(v)})`);
        else if (c.type === 'boolean' && typeof v !== 'boolean')
          c.add(`${c.path}.values.${k}`, `expected true or false, because the field is type: boolean (got ${JSON.stringify(v)})`);
        else values.set(k, v);
      }
    }
  }
  return { pattern, enumValues, values };
}

function checkTextRules(c: FieldCheck) {
  let separator: string = MAPPING_DEFAULTS.field.separator;
  if (c.spec.separator !== undefined) {
    if (typeof c.spec.separator !== 'string' || c.spec.separator === '') c.add(`${c.path}.separator`, 'expected a non-empty string');
    else separator = c.spec.separator;
    if (c.type !== 'list') c.add(`${c.path}.separator`, `separator applies to list fields (this field is ${c.type})`);
  }
  let decimal: '.' | ',' = MAPPING_DEFAULTS.field.decimal;
  if (c.spec.decimal !== undefined) {
    if (c.spec.decimal === '.' || c.spec.decimal === ',') decimal = c.spec.decimal;
    else c.add(`${c.path}.decimal`, 'expected "." or ","');
  }
  const words = (key: 'thousands' | 'truthy' | 'falsy' | 'formats', types: FieldType[]): string[] => {
    const v = c.spec[key];
    if (v === undefined) return [];
    const list = typeof v === 'string' ? [v] : v;
    if (!Array.isArray(list) || !list.every((x) => typeof x === 'string' && x !== '')) {
      c.add(`${c.path}.${key}`, 'expected a string or a list of strings');
      return [];
    }
    if (c.type !== undefined && !types.includes(c.type)) c.add(`${c.path}.${key}`, `${key} applies to ${types.join(' and ')} fields (this field is ${c.type})`);
    return list as string[];
  };
  const thousands = words('thousands', ['integer', 'number']);
  if (thousands.includes(decimal)) c.add(`${c.path}.thousands`, `cannot include the decimal separator "${decimal}"`);
  const truthy = words('truthy', ['boolean']);
  const falsy = words('falsy', ['boolean']);
  const formats = words('formats', ['date', 'datetime']);
  for (const f of formats)
    if (!/(YYYY|YY)/.test(f) || !/(MM|M)/.test(f) || !/(DD|D)/.test(f))
      c.add(`${c.path}.formats`, `format ${JSON.stringify(f)} needs YYYY (or YY), MM (or M) and DD (or D)`);
  let timezone: string = MAPPING_DEFAULTS.field.timezone;
  if (c.spec.timezone !== undefined) {
    if (typeof c.spec.timezone !== 'string' || !isTimeZone(c.spec.timezone))
      c.add(`${c.path}.timezone`, `expected an IANA time zone such as "Europe/Berlin" or "UTC", got ${JSON.stringify(c.spec.timezone)}`);
    else timezone = c.spec.timezone;
    if (c.type !== 'datetime')
      c.add(`${c.path}.timezone`, `timezone applies to datetime fields (this field is ${c.type}); a date is a calendar day and never moves`);
  }
  let required = false;
  if (c.spec.required !== undefined) {
    if (typeof c.spec.required !== 'boolean') c.add(`${c.path}.required`, 'expected true or false');
    else required = c.spec.required;
  }
  return { separator, decimal, thousands, truthy, falsy, formats, timezone, required };
}
