import { describe, expect, it } from 'vitest';
import type { MatchSpec } from '../../src/mapping/types.js';
import { SessionIndex } from '../../src/pipeline/session-index.js';

const key = { column: 'Call ID', by: 'external_id' as const, sessionFields: ['external_id'] };
const match: MatchSpec = { keys: [key], column: key.column, by: key.by, sessionFields: key.sessionFields, lookup: 'index', datePad: 1, onMultiple: 'fail', newestField: 'start_time', duplicates: 'all' };
const id = (i: number) => `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;

function indexOf(n: number, budget?: number): SessionIndex {
  const index = new SessionIndex(match, ['csi', 'crm_statuses'], budget);
  for (let i = 0; i < n; i++) index.add({ id: id(i), external_id: `CALL-${i}`, crm_statuses: ['Opened'] });
  return index;
}

describe('SessionIndex', () => {
  it('gives later rows what this run wrote to a session', () => {
    const index = indexOf(3);
    const r = index.resolve(0, 'CALL-1');
    expect(r?.kind).toBe('matched');
    const session = (r as { session: Record<string, unknown> & { id: string } }).session;
    expect(session).toEqual({ id: id(1), crm_statuses: ['Opened'] });
    index.noteWrite(session, { csi: 5, crm_statuses: ['Opened', 'Closed'] });
    expect(index.resolve(0, 'CALL-1')).toEqual({ kind: 'matched', session: { id: id(1), csi: 5, crm_statuses: ['Opened', 'Closed'] } });
  });

  it('past its budget of written values, drops a written session, whose key is then searched for', () => {
    // room for about two writes of this size
    const index = indexOf(4, 100);
    for (const n of [0, 1, 2, 3]) {
      const r = index.resolve(0, `CALL-${n}`) as { session: Record<string, unknown> & { id: string } };
      index.noteWrite(r.session, { csi: n, crm_statuses: ['Opened', 'Closed', 'Survey sent'] });
    }
    expect(index.resolve(0, 'CALL-0')).toEqual({ kind: 'matched', session: { id: id(0), csi: 0, crm_statuses: ['Opened', 'Closed', 'Survey sent'] } });
    expect(index.resolve(0, 'CALL-3')).toBeUndefined();
    // the sessions never written are still known
    expect(indexOf(4, 100).resolve(0, 'CALL-3')?.kind).toBe('matched');
  });
});
