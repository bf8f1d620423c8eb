import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { parseMapping, planColumns } from '../../src/mapping/load.js';

const parse = (yaml: string) => parseMapping(yaml, 'mapping.yaml');
const issuesOf = (yaml: string) => {
  try {
    parse(yaml);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).issues;
  }
  throw new Error('expected a ConfigError');
};

describe('mapping config', () => {
  it('reads the example shape with defaults', () => {
    const m = parse(`
match: { column: Call ID }
fields:
  csi: { column: CSAT, type: integer, min: 1, max: 5 }
  fcr: { column: FCR, type: integer, values: { "Yes": 1, "No": 0 } }
  crm_statuses: { column: CRM Status, type: list, separator: ";", merge: append }
  campaign_name: { column: Campaign }
  short: Agent
`);
    expect(m.match).toEqual({
      keys: [{ column: 'Call ID', by: 'external_id', sessionFields: ['external_id'] }],
      onMultiple: 'fail',
      newestField: 'start_time',
      duplicates: 'all',
      lookup: 'search',
      datePad: 1,
    });
    expect(m.fields.map((f) => [f.name, f.type, f.merge])).toEqual([
      ['csi', 'integer', 'replace'],
      ['fcr', 'integer', 'replace'],
      ['crm_statuses', 'list', 'append'],
      ['campaign_name', 'string', 'replace'],
      ['short', 'string', 'replace'],
    ]);
    expect(m.fields[1]!.values?.get('Yes')).toBe(1);
  });

  it("refuses a field that would write the session field any key matches on, the second key's too", () => {
    const issues = issuesOf(
      'match:\n  keys:\n    - { column: Call ID }\n    - { column: Recording, by: audio_filename }\nfields:\n  file_name: { column: Recording }\n  csi: CSAT\n',
    );
    expect(issues).toEqual([expect.objectContaining({ path: 'fields.file_name', message: expect.stringContaining('match.keys.1.sessionFields') })]);
  });

  it('defaults sessionFields to file_name when matching by audio file name', () => {
    expect(parse('match: { column: File, by: audio_filename }\nfields: { csi: CSAT }').match.keys[0]!.sessionFields).toEqual(['file_name']);
  });

  it('reports every problem at once, each with its path', () => {
    const issues = issuesOf(`
match: { column: Call ID, by: phone, onMultipel: newest }
fields:
  csi: { column: CSAT, type: int }
  nps: { colum: NPS }
  fcr: { column: FCR, type: integer, merge: append, values: { "Yes": "one" } }
extra: 1
`);
    const paths = issues.map((i) => i.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        'extra',
        'match.onMultipel',
        'match.by',
        'fields.csi.type',
        'fields.nps.colum',
        'fields.nps.column',
        'fields.fcr.merge',
        'fields.fcr.values.Yes',
      ]),
    );
    expect(issues.find((i) => i.path === 'match.onMultipel')!.message).toContain('did you mean "onMultiple"');
    expect(issues.find((i) => i.path === 'fields.csi.type')!.message).toContain('did you mean "integer"');
  });

  it('refuses reserved and prototype keys as metadata names', () => {
    const issues = issuesOf('match: { column: K }\nfields:\n  id: A\n  __proto__: B\n  constructor: C\n  prototype: D\n');
    expect(issues.map((i) => i.path)).toEqual(['fields.id', 'fields.__proto__', 'fields.constructor', 'fields.prototype']);
    expect(issues.map((i) => i.line)).toEqual([3, 4, 5, 6]);
    // JSON keeps "__proto__" as an own key too: refused the same way
    expect(() => parseMapping('{"match":{"column":"K"},"fields":{"__proto__":"B"}}', 'm.json')).toThrow(
      /fields\.__proto__: "__proto__" cannot be used as a metadata key/,
    );
  });

  it('refuses writing to the field used for matching', () => {
    const issues = issuesOf('match: { column: K }\nfields:\n  external_id: A\n');
    expect(issues[0]!.path).toBe('fields.external_id');
  });

  it('names bad YAML and bad JSON', () => {
    expect(issuesOf('match: [')[0]!.message).toMatch(/not valid YAML/);
    expect(() => parseMapping('{', 'm.json')).toThrow(/not valid JSON/);
  });

  it('finds columns exactly, then case-insensitively, and lists the columns that exist', () => {
    const m = parse('match: { column: call id }\nfields: { csi: CSAT, nps: NPS }');
    expect(planColumns(m, ['Call ID', 'CSAT', 'NPS'], 'x.csv')).toEqual({
      ok: true,
      value: { keyIndex: 0, keyIndexes: [0], equalIndexes: [[]], fieldIndexes: [1, 2] },
    });
    const bad = planColumns(m, ['Call ID', 'CSATT'], 'x.csv');
    if (bad.ok) throw new Error('expected missing columns');
    expect(bad.error.map((i) => i.path)).toEqual(['fields.csi.column', 'fields.nps.column']);
    expect(bad.error[0]!.message).toContain('did you mean "CSATT"');
    expect(bad.error[0]!.message).toContain('its columns are: "Call ID", "CSATT"');
  });

  it('reads match.keys, tried in order, and refuses mixing them with the shorthand', () => {
    const m = parse(
      'match:\n  keys:\n    - { column: Call ID }\n    - { column: Recording File, by: audio_filename }\n  lookup: index\n  dateColumn: Date\n  datePad: 2\nfields: { csi: CSAT }\n',
    );
    expect(m.match.keys).toEqual([
      { column: 'Call ID', by: 'external_id', sessionFields: ['external_id'] },
      { column: 'Recording File', by: 'audio_filename', sessionFields: ['file_name'] },
    ]);
    expect(m.match).toMatchObject({ lookup: 'index', dateColumn: 'Date', datePad: 2 });
    expect(m.match).not.toHaveProperty('column');
    expect(issuesOf('match: { column: A, keys: [B] }\nfields: { csi: CSAT }\n').map((i) => i.path)).toEqual(['match.keys']);
    expect(issuesOf('match: { keys: [{ column: A, bye: x }], lookup: indx }\nfields: { csi: CSAT }\n').map((i) => i.path)).toEqual([
      'match.keys.0.bye',
      'match.lookup',
    ]);
  });
});
