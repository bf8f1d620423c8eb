import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type ApiClient, createClient } from '../../src/api/client.js';
import { createLogger } from '../../src/logger.js';
import { parseMapping } from '../../src/mapping/load.js';
import { buildIndex, type IndexOptions, indexListings, windowsFromFiles } from '../../src/pipeline/index-build.js';
import { openSources } from '../../src/pipeline/sources.js';
import type { SandboxSession } from '../../src/sandbox/store.js';
import { bulkId, bulkKey } from '../helpers/bulk.js';
import { startLyingApi } from '../helpers/lying-api.js';
import { connectionFor, PASSWORD, startSandbox, tempDir, USER } from '../helpers/sandbox.js';

const mapping = parseMapping('match: { column: Call ID }\nfields: { csi: { column: CSAT, type: integer } }\n', 'm.yaml');
const logger = createLogger('silent');

/** `n` sessions, a tenth of them a day, from 2025-06-01 on. */
const sessions = (n: number): SandboxSession[] =>
  Array.from({ length: n }, (_, i) => ({
    id: bulkId(i),
    external_id: bulkKey(i),
    start_time: `2025-06-${String(1 + Math.floor(i / (n / 10))).padStart(2, '0')}T09:00:00Z`,
    metadata: {},
  }));

const open: { close(): unknown }[] = [];
afterEach(async () => {
  for (const o of open.splice(0)) await o.close();
});

function clientOf(url: string): ApiClient {
  const client = createClient(connectionFor(url), {
    maxSockets: 4,
    timeoutMs: 5_000,
    retries: 0,
    retryBaseMs: 1,
    maxResponseBytes: 8 << 20,
    maxBodyBytes: 1 << 19,
  });
  open.push(client);
  return client;
}

const options = (o: Partial<IndexOptions> = {}): IndexOptions => ({ pageSize: 7, concurrency: 3, maxSessions: 10_000, logger, stopping: () => false, ...o });

describe('buildIndex', () => {
  it('lists each day of the window into the index, paging past pages shorter than asked, and nothing outside it', async () => {
    // the server serves at most 5 a page whatever is asked: a short page is not the end
    const sandbox = await startSandbox({ sessions: sessions(200), maxPageSize: 5 });
    open.push(sandbox);
    const index = await buildIndex(clientOf(sandbox.url), mapping, [{ from: '2025-06-03', to: '2025-06-05' }], options());
    // days 3, 4 and 5: sessions 40-99
    expect(index.sessions).toBe(60);
    expect(index.windows).toEqual(['2025-06-03..2025-06-05']);
    for (const i of [40, 77, 99]) expect(index.resolve(0, bulkKey(i))).toMatchObject({ kind: 'matched', session: { id: bulkId(i) } });
    expect(index.resolve(0, bulkKey(39))).toBeUndefined();
    expect(index.resolve(0, bulkKey(100))).toBeUndefined();
    // 4 pages of 5 a day, then the empty page that ends it (a first page of the whole day would need none)
    expect(index.pages).toBe(3 * 5);
  });

  it('refuses a window of more sessions than --index-max at the first page, saying what to do', async () => {
    const sandbox = await startSandbox({ sessions: sessions(200) });
    open.push(sandbox);
    await expect(buildIndex(clientOf(sandbox.url), mapping, [{ from: '2025-06-01', to: '2025-06-10' }], options({ maxSessions: 30 }))).rejects.toMatchObject({
      code: 'E_USAGE',
      message: expect.stringMatching(/more than --index-max 30 sessions .*give a narrower --window/),
    });
  });

  it('stops on a listing whose paging cannot be trusted: the same page for every skip', async () => {
    const api = await startLyingApi('ignores-skip', 50, { username: USER, password: PASSWORD });
    open.push(api);
    await expect(buildIndex(clientOf(api.url), mapping, [{ from: '2025-06-10', to: '2025-06-10' }], options({ pageSize: 10 }))).rejects.toMatchObject({
      code: 'E_LISTING',
      message: expect.stringMatching(/answered the same page for skip=\d+ as for the page before it/),
    });
  });
});

describe('indexListings', () => {
  it('one listing for the ID keys, one more for each set of fixed filters', () => {
    const m = parseMapping(
      [
        'match:',
        '  keys:',
        '    - { column: Call ID, by: external_id }',
        '    - { column: File, by: audio_filename }',
        '    - { by: conversation, time: { column: Time }, equal: [{ column: Agent, sessionField: agent }], filters: { types: call } }',
        'fields: { csi: { column: CSAT, type: integer } }',
      ].join('\n'),
      'm.yaml',
    );
    expect(indexListings(m.match)).toEqual([
      { filters: [], keys: [0, 1] },
      { filters: ['types,call'], keys: [2] },
    ]);
  });
});

describe('windowsFromFiles', () => {
  it('pads each date of match.dateColumn by match.datePad days and merges spans that touch; a date it cannot read is no window', async () => {
    const dir = tempDir();
    const file = join(dir, 'in.csv');
    writeFileSync(file, 'Call ID,Date,CSAT\nA,2025-06-01,1\nB,2025-06-02,1\nC,2025-06-10,1\nD,not a date,1\nE,2025-06-04,1\n');
    const dated = parseMapping('match: { column: Call ID, dateColumn: Date, datePad: 1 }\nfields: { csi: { column: CSAT, type: integer } }\n', 'm.yaml');
    const { sources } = await openSources([file], dated);
    try {
      expect(await windowsFromFiles(sources, dated)).toEqual([
        { from: '2025-05-31', to: '2025-06-05' },
        { from: '2025-06-09', to: '2025-06-11' },
      ]);
    } finally {
      await Promise.all(sources.map((s) => s.close()));
    }
  });
});
