import { describe, expect, it } from 'vitest';
import type { ApiClient } from '../../src/api/client.js';
import { parseMapping } from '../../src/mapping/load.js';
import { processRow } from '../../src/pipeline/process-row.js';
import { NO_STATS, testScheduler } from '../helpers/scheduler.js';
import type { RowAt } from '../../src/pipeline/row.js';

const mapping = parseMapping('match: { column: Call ID }\nfields: { customer_id: Customer }\n', 'm.yaml');
const idOf = (key: string) => `00000000-0000-4000-8000-${key.slice(1).padStart(12, '0')}`;

/** A client of our own interface that answers each key with its session and counts what runs at once (no HTTP: the scheduler is the unit). */
function countingClient() {
  const seen = { searches: new Map<string, number>(), inFlight: 0, most: 0, puts: [] as string[] };
  const during = async <T>(f: () => T): Promise<T> => {
    seen.most = Math.max(seen.most, ++seen.inFlight);
    await new Promise((r) => setTimeout(r, 5));
    seen.inFlight--;
    return f();
  };
  const client: ApiClient = {
    login: async () => {},
    searchSessions: (filters) =>
      during(() => {
        const key = /search_query,(.*)$/.exec(decodeURIComponent(filters))?.[1] ?? '';
        seen.searches.set(key, (seen.searches.get(key) ?? 0) + 1);
        return { total: 1, items: [{ id: idOf(key), external_id: key }] };
      }),
    listSessions: async () => ({ total: 0, items: [] }),
    putMetadata: (id, body) => during(() => void seen.puts.push(`${id.slice(-3)}:${String(body.customer_id)}`)),
    stats: NO_STATS,
    close: () => {},
  };
  return { client, seen };
}

const row = (n: number, key: string, customer: string) => {
  const at: RowAt = { file: 'x.csv', absFile: '/x.csv', header: ['Call ID', 'Customer'], row: { row: n, cells: [key, customer] }, hash: `h${n}` };
  const mapped = { key, lookup: key, keys: [{ index: 0, column: 'Call ID', key, lookup: key }], values: { customer_id: customer } };
  return { at, mapped };
};

describe('RowScheduler: its invariants, driven as the read loop drives it', () => {
  it('requests in flight never exceed the concurrency, searches and writes alike; rows of one session write in file order; a key in flight is searched once', async () => {
    const { client, seen } = countingClient();
    const { rows, results, stop } = testScheduler(mapping, client, 3);
    // 40 rows over 8 keys: each key repeats while earlier rows of it are in flight
    const all = Array.from({ length: 40 }, (_, i) => row(i + 2, `K${i % 8}`, `c${i}`));
    await Promise.all(all.map(({ at, mapped }) => processRow(rows, at, mapped, rows.ticket())));
    expect(results).toHaveLength(40);
    expect(results.every((r) => r.status === 'updated' || r.status === 'unchanged')).toBe(true);
    expect(seen.most).toBeLessThanOrEqual(3);
    // file order per session: each session's writes are its rows' values in file order
    for (let k = 0; k < 8; k++) {
      const mine = seen.puts.filter((p) => p.startsWith(`${idOf(`K${k}`).slice(-3)}:`)).map((p) => p.split(':')[1]);
      expect(mine).toEqual(all.filter((_, i) => i % 8 === k).map((r) => r.mapped.values.customer_id));
    }
    // a key repeated while it was in flight was not searched again for every row
    expect([...seen.searches.values()].reduce((a, b) => a + b, 0)).toBeLessThan(40);
    stop.dispose();
  });
});
