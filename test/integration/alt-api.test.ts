import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readConnection } from '../../src/api/connection.js';
import { startAltApi } from '../helpers/alt-api.js';
import { importInto } from '../helpers/run.js';
import { PASSWORD, USER, tempDir } from '../helpers/sandbox.js';

const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

describe('against a different implementation of the API', () => {
  let api: Awaited<ReturnType<typeof startAltApi>>;
  beforeAll(async () => {
    // A1 is a prefix of A10..A19 and A100: its search spans several 3-item pages
    const sessions = [
      { id: id(1), external_id: 'A1', crm_statuses: ['old'] },
      ...Array.from({ length: 10 }, (_, i) => ({ id: id(10 + i), external_id: `A1${i}` })),
      { id: id(100), external_id: 'A100', csi: 3 },
      { id: id(200), external_id: 'B2', customer_id: 'kept' },
      { id: id(300), external_id: 'DUP' },
      { id: id(301), external_id: 'DUP' },
    ];
    api = await startAltApi(sessions, { username: USER, password: PASSWORD });
  });
  afterAll(() => api.close());

  it('leaves every session with the metadata the mapping implies, and counts that match', async () => {
    const dir = tempDir();
    const input = join(dir, 'in.csv');
    writeFileSync(
      input,
      ['Key,Score,Tags,Customer', 'A1,5,new;old,C1', 'A10,4,,C10', 'A100,3,,', 'B2,2,x,C2', 'DUP,1,,', 'A1000,1,,', 'A15,9,,', 'A1,5,again,C1'].join('\n'),
    );
    const mapping = join(dir, 'm.yaml');
    writeFileSync(
      mapping,
      'match: { column: Key }\nfields:\n  csi: { column: Score, type: integer, min: 1, max: 5 }\n  crm_statuses: { column: Tags, type: list, merge: append }\n  customer_id: { column: Customer, merge: keep }\n',
    );
    const reportDir = tempDir('et-report-');
    const r = await importInto(api.url, {
      inputs: [input],
      mapping,
      reportDir,
      concurrency: 4,
      connection: readConnection({ ET_URL: api.url, ET_AUTH_KEY: USER, ET_AUTH_SECRET: PASSWORD, ET_API_VERSION: 'v2' }),
    });
    const meta = (n: number) => {
      const { id: _i, external_id: _e, ...m } = api.session(id(n))!;
      return m;
    };
    expect(meta(1)).toEqual({ crm_statuses: ['old', 'new', 'again'], csi: 5, customer_id: 'C1' });
    expect(meta(10)).toEqual({ csi: 4, customer_id: 'C10' });
    expect(meta(100)).toEqual({ csi: 3 });
    expect(meta(200)).toEqual({ csi: 2, crm_statuses: ['x'], customer_id: 'kept' });
    expect(meta(300)).toEqual({});
    expect(meta(15)).toEqual({});
    for (const n of [11, 12, 13, 14, 16, 17, 18, 19]) expect(meta(n)).toEqual({});

    expect(r.counts).toEqual({
      updated: 4,
      unchanged: 1,
      would_update: 0,
      skipped: 0,
      valid: 0,
      unmatched: 1,
      ambiguous: 1,
      invalid: 1,
      failed: 0,
      kept: 0,
      conflict: 0,
      total: 8,
    });
    const summary = JSON.parse(readFileSync(join(reportDir, 'summary.json'), 'utf8'));
    expect(summary.counts).toEqual(r.counts);
    expect(api.stats.puts).toBe(4);
  });
});
