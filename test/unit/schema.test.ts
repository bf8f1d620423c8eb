import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONVERSATION_KEYS, EQUAL_KEYS, TIME_KEYS } from '../../src/mapping/validate-conversation.js';
import { DUPLICATES, FIELD_TYPES, MAPPING_DEFAULTS, MATCH_BY, MERGE_POLICIES, ON_MULTIPLE } from '../../src/mapping/types.js';
import { ENCODING_NAMES, FIELD_KEYS, INPUT_KEYS, MATCH_KEYS, RESERVED_METADATA_KEYS, TOP_KEYS } from '../../src/mapping/validate.js';
import { parseMapping } from '../../src/mapping/load.js';

const root = join(import.meta.dirname, '..', '..');
const schema = JSON.parse(readFileSync(join(root, 'config', 'mapping.schema.json'), 'utf8'));
const keys = (o: { properties: object }) => Object.keys(o.properties).sort();

describe('config/mapping.schema.json is in step with the loader', () => {
  it('names the same keys at every level', () => {
    expect(keys(schema)).toEqual([...TOP_KEYS].sort());
    expect(keys(schema.properties.match)).toEqual([...MATCH_KEYS].sort());
    const conversation = schema.properties.match.properties.keys.items.oneOf[2];
    expect(keys(conversation)).toEqual([...CONVERSATION_KEYS].sort());
    expect(keys(conversation.properties.time.oneOf[1])).toEqual([...TIME_KEYS].sort());
    expect(keys(conversation.properties.equal.items)).toEqual([...EQUAL_KEYS].sort());
    for (const [k, v] of Object.entries(MAPPING_DEFAULTS.conversation))
      expect((k === 'as' ? conversation.properties.equal.items : conversation.properties.time.oneOf[1]).properties[k].default, `conversation.${k}`).toEqual(v);
    expect(keys(schema.properties.input)).toEqual([...INPUT_KEYS].sort());
    expect(keys(schema.$defs.field)).toEqual([...FIELD_KEYS].sort());
  });
  it('allows the same values', () => {
    expect(schema.properties.match.properties.by.enum).toEqual([...MATCH_BY]);
    expect(schema.properties.match.properties.onMultiple.enum).toEqual([...ON_MULTIPLE]);
    expect(schema.properties.match.properties.duplicates.enum).toEqual([...DUPLICATES]);
    expect(schema.properties.input.properties.encoding.enum).toEqual([...ENCODING_NAMES]);
    expect(schema.$defs.field.properties.type.enum).toEqual([...FIELD_TYPES]);
    expect(schema.$defs.field.properties.merge.enum).toEqual([...MERGE_POLICIES]);
    expect(schema.properties.fields.propertyNames.not.enum.sort()).toEqual([...RESERVED_METADATA_KEYS].sort());
  });
  it('states each of the loader defaults (MAPPING_DEFAULTS)', () => {
    for (const [k, v] of Object.entries(MAPPING_DEFAULTS.match)) expect(schema.properties.match.properties[k].default, `match.${k}`).toEqual(v);
    for (const [k, v] of Object.entries(MAPPING_DEFAULTS.field)) expect(schema.$defs.field.properties[k].default, `fields.*.${k}`).toEqual(v);
    expect(schema.properties.input.properties.maxCellBytes.default).toBe(MAPPING_DEFAULTS.maxCellBytes);
    expect(schema.properties.input.properties.maxSharedStringsMb.default).toBe(MAPPING_DEFAULTS.maxSharedStringsMb);
  });
  it('the example mappings load, and point editors at the schema', () => {
    for (const f of ['mapping.example.yaml', 'mapping.audio-filename.yaml']) {
      const text = readFileSync(join(root, 'config', f), 'utf8');
      expect(text.startsWith('# yaml-language-server: $schema=./mapping.schema.json')).toBe(true);
      expect(() => parseMapping(text, f)).not.toThrow();
    }
  });
});
