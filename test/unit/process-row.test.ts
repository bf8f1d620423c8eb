import { describe, expect, it } from 'vitest';
import type { ApiClient } from '../../src/api/client.js';
import { ApiError } from '../../src/errors.js';
import { parseMapping } from '../../src/mapping/load.js';
import { processRow } from '../../src/pipeline/process-row.js';
import { NO_STATS, testScheduler } from '../helpers/scheduler.js';
import type { RowAt } from '../../src/pipeline/row.js';

const mapping = parseMapping('match: { column: Call ID }\nfields: { customer_id: Customer }\n', 'm.yaml');
const ID = '11111111-1111-4111-8111-111111111111';

/** A client of our own interface whose search does what the test says (no HTTP: processRow is the unit here). */
function clientThat(search: () => Promise<unknown>): ApiClient {
  return {
    login: async () => {},
    searchSessions: search as ApiClient['searchSessions'],
    listSessions: search as ApiClient['listSessions'],
    putMetadata: async () => {},
    stats: NO_STATS,
    close: () => {},
  };
}

function context(client: ApiClient) {
  const { rows, results, stop } = testScheduler(mapping, client, 2);
  return { ctx: rows, results, stop };
}

const at = (row: number): RowAt => ({ file: 'x.csv', absFile: '/x.csv', header: ['Call ID', 'Customer'], row: { row, cells: ['K', 'C'] }, hash: 'h' });
const mapped = { key: 'K', lookup: 'K', keys: [{ index: 0, column: 'Call ID', key: 'K', lookup: 'K' }], values: { customer_id: 'C' } };

describe('processRow', () => {
  it('never rejects: a bug is the row failing with E_INTERNAL, and the run stops as fatal', async () => {
    const { ctx, results, stop } = context(
      clientThat(async () => {
        throw new TypeError("Cannot read properties of undefined (reading 'items')");
      }),
    );
    await expect(processRow(ctx, at(2), mapped, ctx.ticket())).resolves.toBeUndefined();
    expect(results).toEqual([
      expect.objectContaining({ row: 2, status: 'failed', errorCode: 'E_INTERNAL', errorMessage: expect.stringContaining('internal error') }),
    ]);
    expect(stop.outcome.fatal).toMatch(/internal error at x\.csv row 2: Cannot read properties/);
    stop.dispose();
  });

  it("an expected failure is the row's status, and the run goes on", async () => {
    const { ctx, results, stop } = context(
      clientThat(async () => {
        throw new ApiError('E_HTTP', 'GET /sessions answered HTTP 500', { status: 500 });
      }),
    );
    await processRow(ctx, at(3), mapped, ctx.ticket());
    expect(results).toEqual([expect.objectContaining({ status: 'failed', errorCode: 'E_HTTP', transport: true })]);
    expect(stop.stopping).toBe(false);
    stop.dispose();
  });

  it('a row that finds the run stopping before its first request is left for --resume', async () => {
    const { ctx, results, stop } = context(clientThat(async () => ({ total: 1, items: [{ id: ID, external_id: 'K' }] })));
    stop.abort('thresholds');
    await processRow(ctx, at(4), mapped, ctx.ticket());
    expect(results).toEqual([]);
    stop.dispose();
  });

  it('a later row of the same session waits for the earlier one, which holds its turn', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const puts: string[] = [];
    const client = clientThat(async () => ({ total: 1, items: [{ id: ID, external_id: 'K' }] }));
    client.putMetadata = async (_id, body) => {
      if (body.customer_id === 'first') await held;
      puts.push(String(body.customer_id));
    };
    const { ctx, results, stop } = context(client);
    const a = processRow(ctx, at(2), { ...mapped, values: { customer_id: 'first' } }, ctx.ticket());
    const b = processRow(ctx, at(3), { ...mapped, values: { customer_id: 'second' } }, ctx.ticket());
    await new Promise((r) => setTimeout(r, 20));
    expect(puts).toEqual([]);
    release();
    await Promise.all([a, b]);
    expect(puts).toEqual(['first', 'second']);
    expect(results.map((r) => [r.row, r.status])).toEqual([
      [2, 'updated'],
      [3, 'updated'],
    ]);
    stop.dispose();
  });
});
