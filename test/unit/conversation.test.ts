import { describe, expect, it } from 'vitest';
import type { ConversationKey } from '../../src/mapping/types.js';
import {
  candidateDelta,
  candidatesAmong,
  conversationLookup,
  decideConversation,
  normalised,
  rowBuckets,
  rowConversation,
  sessionBuckets,
} from '../../src/pipeline/conversation.js';

const KEY: ConversationKey = {
  column: 'Time',
  by: 'conversation',
  sessionFields: ['start_time', 'agent', 'caller', 'destination'],
  time: { column: 'Time', sessionField: 'start_time', tolerance: 120, timezone: 'Europe/Berlin', formats: ['DD.MM.YYYY HH:mm:ss'], margin: 10 },
  equal: [
    { column: 'Agent', sessionFields: ['agent'], as: 'text' },
    { column: 'Phone', sessionFields: ['caller', 'destination'], as: 'phone', region: 'DE' },
  ],
  filters: [],
};
const at = Date.parse('2025-06-03T08:15:00Z');
const session = (id: string, start: string, agent = 'jdoe', caller = '4915112345678') => ({ id, start_time: start, agent, caller, destination: '4930555000' });

describe('normalised', () => {
  it('reads phone numbers in local and international forms as one E.164 number', () => {
    const e = { as: 'phone' as const, region: 'DE' };
    expect(normalised(e, '0151 12345678')).toEqual(['+4915112345678']);
    expect(normalised(e, '+49 151 12345678')).toEqual(['+4915112345678']);
    expect(normalised(e, '(0151) 123-456-78')).toEqual(['+4915112345678']);
    // digits alone, as telephony stores them: national, or international without its +
    expect(normalised(e, '4915112345678')).toContain('+4915112345678');
    expect(normalised(e, 'not a number')).toEqual([]);
  });
  it('compares text trimmed, spaces collapsed, case ignored', () => {
    expect(normalised({ as: 'text' }, '  J  Doe ')).toEqual(['j doe']);
    expect(normalised({ as: 'text' }, '   ')).toEqual([]);
  });
});

describe('rowConversation', () => {
  it('reads a Berlin wall-clock time and the equalities; an empty or bad cell names its column', () => {
    const r = rowConversation(KEY, '03.06.2025 10:15:00', ['JDoe', '0151 12345678']);
    expect(r).toEqual({ ok: true, value: { at, equal: [['jdoe'], ['+4915112345678']] } });
    if (r.ok) expect(conversationLookup(r.value)).toBe('2025-06-03T08:15:00Z | jdoe | +4915112345678');
    expect(rowConversation(KEY, '', ['jdoe', '0151 12345678'])).toMatchObject({ ok: false, error: { column: 'Time', problem: 'the key is empty' } });
    expect(rowConversation(KEY, 'soon', ['jdoe', '0151 12345678'])).toMatchObject({ ok: false, error: { column: 'Time' } });
    expect(rowConversation(KEY, '03.06.2025 10:15:00', ['jdoe', 'n/a'])).toMatchObject({
      ok: false,
      error: { column: 'Phone', problem: expect.stringContaining('phone number') },
    });
  });
});

describe('candidates and the decision', () => {
  const v = { at, equal: [['jdoe'], ['+4915112345678']] };
  it('keeps sessions within the tolerance that meet every equality, with their time difference', () => {
    expect(candidateDelta(KEY, v, session('a', '2025-06-03T08:15:14Z'))).toBe(14_000);
    expect(candidateDelta(KEY, v, session('a', '2025-06-03T08:17:01Z'))).toBeUndefined();
    expect(candidateDelta(KEY, v, session('a', '2025-06-03T08:15:00Z', 'amiller'))).toBeUndefined();
    expect(candidateDelta(KEY, v, session('a', '2025-06-03T08:15:00Z', 'jdoe', '4915199999999'))).toBeUndefined();
    expect(candidateDelta(KEY, v, session('a', '2025-06-04T08:15:00Z'))).toBeUndefined();
  });
  it('nearest takes the nearest only by more than the margin; fail and ties are ambiguous', () => {
    const two = candidatesAmong(KEY, v, [session('a', '2025-06-03T08:15:05Z'), session('b', '2025-06-03T08:16:30Z')]);
    expect(decideConversation(KEY, two, { onMultiple: 'nearest', newestField: 'start_time' })).toMatchObject({
      kind: 'matched',
      session: { id: 'a' },
      delta: 5000,
    });
    expect(decideConversation(KEY, two, { onMultiple: 'fail', newestField: 'start_time' })).toMatchObject({ kind: 'ambiguous', ids: ['a', 'b'] });
    const tie = candidatesAmong(KEY, v, [session('a', '2025-06-03T08:14:30Z'), session('b', '2025-06-03T08:15:25Z')]);
    expect(decideConversation(KEY, tie, { onMultiple: 'nearest', newestField: 'start_time' })).toMatchObject({ kind: 'ambiguous' });
    expect(decideConversation(KEY, [], { onMultiple: 'nearest', newestField: 'start_time' })).toMatchObject({ kind: 'unmatched' });
  });
  it('files a session under buckets a row within the tolerance looks in', () => {
    for (const start of ['2025-06-03T08:13:01Z', '2025-06-03T08:15:00Z', '2025-06-03T08:16:59Z']) {
      const filed = sessionBuckets(KEY, session('a', start));
      expect(
        rowBuckets(KEY, v).some((b) => filed.includes(b)),
        start,
      ).toBe(true);
    }
  });
});
