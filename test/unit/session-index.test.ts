import { describe, expect, it } from 'vitest';
import type { MatchSpec } from '../../src/mapping/types.js';
import { SessionIndex } from '../../src/pipeline/session-index.js';

const key = { column: 'Call ID', by: 'external_id' as const, sessionFields: ['external_id'] };
const match: MatchSpec = { keys: [key], lookup: 'index', datePad: 1, onMultiple: 'fail', newestField: 'start_time', duplicates: 'all' };
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

  it('past its budget of written values, drops the sessions written longest ago, whose keys are then searched for', () => {
    // room for two writes of this size (59 characters of JSON each)
    const index = indexOf(5, 120);
    const write = (n: number, csi: number) => {
      const r = index.resolve(0, `CALL-${n}`) as { session: Record<string, unknown> & { id: string } };
      index.noteWrite(r.session, { csi, crm_statuses: ['Opened', 'Closed', 'Survey sent'] });
    };
    write(0, 1);
    write(1, 1);
    // written again: now the newest
    write(0, 2);
    write(2, 1);
    expect(index.resolve(0, 'CALL-0')).toEqual({ kind: 'matched', session: { id: id(0), csi: 2, crm_statuses: ['Opened', 'Closed', 'Survey sent'] } });
    expect(index.resolve(0, 'CALL-2')).toEqual({ kind: 'matched', session: { id: id(2), csi: 1, crm_statuses: ['Opened', 'Closed', 'Survey sent'] } });
    expect(index.resolve(0, 'CALL-1')).toBeUndefined();
    // a session that left stays out, even when a searched-for row of it writes again
    index.noteWrite({ id: id(1), external_id: 'CALL-1' }, { csi: 3 });
    expect(index.resolve(0, 'CALL-1')).toBeUndefined();
    // the sessions never written are still known
    expect(index.resolve(0, 'CALL-3')?.kind).toBe('matched');
  });
});
