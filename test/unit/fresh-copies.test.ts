import pLimit from 'p-limit';
import { describe, expect, it } from 'vitest';
import type { ApiClient } from '../../src/api/client.js';
import type { MatchSpec } from '../../src/mapping/types.js';
import { FreshCopies } from '../../src/pipeline/fresh-copies.js';
import { SessionIndex } from '../../src/pipeline/session-index.js';
import type { Session } from '../../src/pipeline/resolver.js';

const key = { column: 'Call ID', by: 'external_id' as const, sessionFields: ['external_id'] };
const match: MatchSpec = { keys: [key], lookup: 'index', datePad: 1, onMultiple: 'fail', newestField: 'start_time', duplicates: 'all' };
const id = (i: number) => `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;
const item = (i: number, statuses: string[]) => ({ id: id(i), external_id: `CALL-${i}`, crm_statuses: statuses });

/** Two listing pages of 3 sessions, read at t=0; a "server" whose pages can change; a clock the test moves. */
function setup(o: { maxWaitMs?: number; lookAhead?: number } = {}) {
  let t = 0;
  const server = [0, 1, 2, 3, 4, 5].map((i) => item(i, ['Opened']));
  const index = new SessionIndex(match, ['crm_statuses']);
  for (const p of [0, 1]) {
    const n = index.notePage('date_range,2025-06-01||2025-06-01', p * 3, 3, t);
    for (const s of server.slice(p * 3, p * 3 + 3)) index.add(structuredClone(s), n);
  }
  const asked: number[] = [];
  const client = {
    listSessions: async (_f: string, skip: number, limit: number) => {
      asked.push(skip);
      return { total: 6, items: structuredClone(server.slice(skip, skip + limit)) };
    },
  } as unknown as ApiClient;
  const stop = new AbortController();
  const fresh = new FreshCopies(index, client, {
    freshMs: 0,
    limit: pLimit(4),
    lookAhead: o.lookAhead ?? 100,
    maxWaitMs: o.maxWaitMs ?? 60_000,
    flushes: 2,
    groupMax: 10,
    stopSignal: stop.signal,
    now: () => t,
  });
  const session = (i: number) => (index.resolve(0, `CALL-${i}`) as { session: Session }).session;
  return { fresh, index, server, asked, stop, session, tick: (ms: number) => (t += ms) };
}

const settled = async <T>(p: Promise<T>) => {
  let done = false;
  void p.then(() => (done = true));
  await new Promise((r) => setTimeout(r, 5));
  return done;
};

describe('FreshCopies', () => {
  it('rows of one page wait together; one read of the page lets them all merge with what the server holds now', async () => {
    const s = setup();
    s.tick(10);
    s.server[1]!.crm_statuses.push('Another writer');
    const a = s.fresh.ready(s.session(0));
    const b = s.fresh.ready(s.session(1));
    expect(await settled(a)).toBe(false);
    const c = s.fresh.ready(s.session(2)); // the page's third session: the group is full
    const [ra, rb, rc] = await Promise.all([a, b, c]);
    expect(s.asked).toEqual([0]);
    const copy = await s.fresh.current(s.session(1), rb.readSince);
    expect(copy).toEqual({ session: expect.objectContaining({ crm_statuses: ['Opened', 'Another writer'] }) });
    for (const r of [ra, rb, rc]) r.sent();
    expect(s.asked).toEqual([0]);
  });

  it('a row waits at most maxWaitMs for its group to fill', async () => {
    const s = setup({ maxWaitMs: 20 });
    s.tick(10);
    const a = s.fresh.ready(s.session(4));
    expect(await settled(a)).toBe(false);
    s.tick(25);
    (await a).sent();
    expect(s.asked).toEqual([3]);
  });

  it('once the input is read, every free read takes the largest group', async () => {
    const s = setup();
    s.tick(10);
    const rows = [0, 3, 4].map((i) => s.fresh.ready(s.session(i)));
    expect(await settled(Promise.all(rows))).toBe(false);
    s.fresh.inputDone();
    for (const r of await Promise.all(rows)) r.sent();
    expect(s.asked.sort()).toEqual([0, 3]);
  });

  it('a session no longer on its page is searched for; a stop releases every waiting row', async () => {
    const s = setup();
    s.tick(10);
    s.server.splice(0, 1); // the page shifted: session 0 is gone from it
    const moved = s.session(0);
    const a = s.fresh.ready(moved);
    const b = s.fresh.ready(s.session(4));
    s.fresh.inputDone();
    const ra = await a;
    expect(await s.fresh.current(moved, ra.readSince)).toBe('search');
    ra.sent();
    const waiting = setup();
    waiting.tick(10);
    const w = waiting.fresh.ready(waiting.session(5));
    waiting.stop.abort();
    expect((await w).readSince).toBe(Infinity);
    (await b).sent();
  });
});
