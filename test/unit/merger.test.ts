import { describe, expect, it } from 'vitest';
import type { FieldSpec } from '../../src/mapping/types.js';
import { mergeMetadata } from '../../src/pipeline/merger.js';
import { fieldSpec } from '../helpers/field.js';

const f = (name: string, merge: FieldSpec['merge'], type: FieldSpec['type'] = 'string'): FieldSpec => fieldSpec({ name, column: name, type, merge });

describe('mergeMetadata', () => {
  it('replace: the row wins; equal values are unchanged', () => {
    expect(mergeMetadata({ csi: 3 }, { csi: 4 }, [f('csi', 'replace', 'integer')])).toEqual({ body: { csi: 4 }, changed: ['csi'] });
    expect(mergeMetadata({ csi: 4 }, { csi: 4 }, [f('csi', 'replace', 'integer')])).toEqual({ body: { csi: 4 }, changed: [] });
  });
  it('append: existing items first, then new ones not already there; idempotent', () => {
    const fields = [f('s', 'append', 'list')];
    const first = mergeMetadata({ s: ['Opened'] }, { s: ['Closed', 'Opened'] }, fields);
    expect(first).toEqual({ body: { s: ['Opened', 'Closed'] }, changed: ['s'] });
    expect(mergeMetadata({ s: ['Opened', 'Closed'] }, { s: ['Closed', 'Opened'] }, fields).changed).toEqual([]);
    expect(mergeMetadata({}, { s: ['a'] }, fields).body).toEqual({ s: ['a'] });
    expect(mergeMetadata({ s: 'legacy' }, { s: ['a'] }, fields).body).toEqual({ s: ['legacy', 'a'] });
  });
  it('keep: only fills a missing, null or empty value', () => {
    const fields = [f('c', 'keep')];
    expect(mergeMetadata({ c: 'old' }, { c: 'new' }, fields)).toEqual({ body: {}, changed: [] });
    expect(mergeMetadata({ c: null }, { c: 'new' }, fields)).toEqual({ body: { c: 'new' }, changed: ['c'] });
    expect(mergeMetadata({ c: '' }, { c: 'new' }, fields).changed).toEqual(['c']);
    expect(mergeMetadata({}, { c: 'new' }, fields).changed).toEqual(['c']);
  });
  it('sends only mapped keys the row has values for', () => {
    const r = mergeMetadata({ other: 1, a: 'x' }, { a: 'x', b: 'y' }, [f('a', 'replace'), f('b', 'replace'), f('c', 'replace')]);
    expect(r).toEqual({ body: { a: 'x', b: 'y' }, changed: ['b'] });
  });
  it('does not read inherited keys of the session', () => {
    const r = mergeMetadata({}, { toString: 'x' }, [f('toString', 'keep')]);
    expect(r.changed).toEqual(['toString']);
  });
});
