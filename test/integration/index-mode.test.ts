import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SandboxSession } from '../../src/sandbox/store.js';
import { bulkId, bulkKey } from '../helpers/bulk.js';
import { importInto } from '../helpers/run.js';
import { metadataById, startSandbox, tempDir } from '../helpers/sandbox.js';

/** `n` sessions spread over June 2025, each with a call ID and a recording file name. */
function juneSessions(n: number): SandboxSession[] {
  return Array.from({ length: n }, (_, i) => ({
    id: bulkId(i),
    external_id: bulkKey(i),
    file_name: `rec/2025-06/${bulkKey(i).toLowerCase()}.wav`,
    start_time: `2025-06-${String(1 + (i % 30)).padStart(2, '0')}T${String(8 + (i % 10)).padStart(2, '0')}:00:00Z`,
    metadata: i % 5 === 0 ? { crm_statuses: ['Opened'] } : {},
  }));
}

const MAPPING = 'fields:\n  csi: { column: CSAT, type: integer }\n  crm_statuses: { column: Status, type: list, merge: append }\n';

/** 2,970 rows over 3,000 sessions: most once, some twice, in a shuffled order. */
function juneExport(opts: { broken?: boolean } = {}) {
  const dir = tempDir();
  const lines = ['Call ID,Recording File,Date,CSAT,Status'];
  for (let r = 0; r < 2970; r++) {
    const i = (r * 7919) % 3000;
    const day = `2025-06-${String(1 + (i % 30)).padStart(2, '0')}`;
    let call = bulkKey(i);
    // every 10th row: the call ID is empty or mistyped, the recording file still names the call
    if (opts.broken && r % 10 === 0) call = r % 20 === 0 ? '' : `${call}-TYPO`;
    lines.push(`${call},C:\\recordings\\${bulkKey(i).toLowerCase()}.wav,${day},${1 + (r % 5)},st-${r % 4}`);
  }
  writeFileSync(join(dir, 'in.csv'), `${lines.join('\n')}\n`);
  const oneKey = join(dir, 'one-key.yaml');
  writeFileSync(oneKey, `match: { column: Call ID }\n${MAPPING}`);
  const twoKeys = join(dir, 'two-keys.yaml');
  writeFileSync(twoKeys, `match:\n  keys:\n    - { column: Call ID, by: external_id, sessionFields: [external_id] }\n    - { column: Recording File, by: audio_filename, sessionFields: [file_name] }\n  dateColumn: Date\n${MAPPING}`);
  return { input: join(dir, 'in.csv'), oneKey, twoKeys };
}

describe('index mode', () => {
  it('lists June once and resolves from it: the same state and counts as search mode, at most 1.05 requests a row; a half window is still right', async () => {
    const f = juneExport();
    const bySearch = await startSandbox({ sessions: juneSessions(3000) });
    // the listing API caps pages at 40 sessions, whatever --page-size asks
    const byIndex = await startSandbox({ sessions: juneSessions(3000), maxPageSize: 40 });
    const halfWindow = await startSandbox({ sessions: juneSessions(3000) });
    try {
      const s = await importInto(bySearch.url, { inputs: [f.input], mapping: f.oneKey, concurrency: 16 });
      const x = await importInto(byIndex.url, { inputs: [f.input], mapping: f.oneKey, concurrency: 16, lookup: 'index', window: '2025-06-01..2025-06-30' });
      expect(x.counts).toEqual(s.counts);
      expect(metadataById(byIndex)).toEqual(metadataById(bySearch));
      expect(x.summary.index).toMatchObject({ windows: ['2025-06-01..2025-06-30'], sessionsIndexed: 3000, fallbackSearches: 0 });
      // a PUT a row, the listing, and the pages read again so that no row merges with a copy older than --index-fresh
      expect(x.summary.requests!.requests / x.counts.total).toBeLessThanOrEqual(1.1);
      expect(s.summary.requests!.requests / s.counts.total).toBeGreaterThan(1.5);

      const h = await importInto(halfWindow.url, { inputs: [f.input], mapping: f.oneKey, concurrency: 16, lookup: 'index', window: '2025-06-01..2025-06-15' });
      expect(h.counts).toEqual(s.counts);
      expect(metadataById(halfWindow)).toEqual(metadataById(bySearch));
      expect(h.summary.index!.fallbackSearches).toBeGreaterThan(1000);
      expect(h.summary.index!.sessionsIndexed).toBe(1500);
    } finally {
      await bySearch.close();
      await byIndex.close();
      await halfWindow.close();
    }
  }, 120_000);

  it('match.keys: rows whose Call ID is empty or wrong are found by their Recording File, with the same final state as the clean file', async () => {
    const clean = juneExport();
    const broken = juneExport({ broken: true });
    const a = await startSandbox({ sessions: juneSessions(3000) });
    const b = await startSandbox({ sessions: juneSessions(3000) });
    const c = await startSandbox({ sessions: juneSessions(3000) });
    try {
      const ref = await importInto(a.url, { inputs: [clean.input], mapping: clean.oneKey, concurrency: 16 });
      const bySearch = await importInto(b.url, { inputs: [broken.input], mapping: broken.twoKeys, concurrency: 16 });
      expect(metadataById(b)).toEqual(metadataById(a));
      expect(bySearch.counts).toEqual(ref.counts);
      const fallbacks = bySearch.results.filter((r) => r.matched_by === 'Recording File');
      expect(fallbacks).toHaveLength(297);
      for (const r of fallbacks) expect(Number(r.row) % 10).toBe(2); // file row = r + 2, r % 10 === 0
      expect(bySearch.results.filter((r) => r.matched_by === 'Call ID')).toHaveLength(2970 - 297);
      // the same with index mode, its windows taken from the Date column
      const byIndex = await importInto(c.url, { inputs: [broken.input], mapping: broken.twoKeys, concurrency: 16, lookup: 'index' });
      expect(metadataById(c)).toEqual(metadataById(a));
      expect(byIndex.summary.index!.windows).toEqual(['2025-05-31..2025-07-01']);
    } finally {
      await a.close();
      await b.close();
      await c.close();
    }
  }, 120_000);

  it('an unmatched row names what each key tried', async () => {
    const sandbox = await startSandbox({ sessions: juneSessions(10) });
    try {
      const dir = tempDir();
      writeFileSync(join(dir, 'in.csv'), 'Call ID,Recording File,CSAT,Status\nNOPE-1,nope.wav,3,a\n,,4,b\n');
      writeFileSync(join(dir, 'm.yaml'), `match:\n  keys: [{ column: Call ID }, { column: Recording File, by: audio_filename }]\n${MAPPING}`);
      const r = await importInto(sandbox.url, { inputs: [join(dir, 'in.csv')], mapping: join(dir, 'm.yaml') });
      const byRow = Object.fromEntries(r.results.map((x) => [x.row, x]));
      expect(byRow['2']).toMatchObject({ status: 'unmatched', error_message: expect.stringMatching(/no key matched: Call ID: no session has external_id equal to "NOPE-1" .*; Recording File: no session has file_name equal to "nope"/) });
      expect(byRow['3']).toMatchObject({ status: 'invalid', error_code: 'E_INVALID_KEY', error_message: expect.stringContaining('no usable key') });
    } finally {
      await sandbox.close();
    }
  });

  it('search mode: a key repeated while its session is in flight is searched once', async () => {
    const sandbox = await startSandbox({ sessions: juneSessions(10), latencyMs: 30 });
    try {
      const dir = tempDir();
      const rows = Array.from({ length: 24 }, (_, i) => `${bulkKey(i % 3)},${1 + (i % 5)},s${i}`);
      writeFileSync(join(dir, 'in.csv'), `Call ID,CSAT,Status\n${rows.join('\n')}\n`);
      writeFileSync(join(dir, 'm.yaml'), `match: { column: Call ID }\n${MAPPING}`);
      const r = await importInto(sandbox.url, { inputs: [join(dir, 'in.csv')], mapping: join(dir, 'm.yaml'), concurrency: 8 });
      expect(r.counts.updated).toBe(24);
      expect(r.summary.requests!.searches).toBeLessThan(12);
      expect((metadataById(sandbox)[bulkId(0)]!.crm_statuses as string[]).filter((s) => s.startsWith('s'))).toEqual(Array.from({ length: 8 }, (_, k) => `s${k * 3}`));
      expect(sandbox.stats.overlappingWrites).toBe(0);
    } finally {
      await sandbox.close();
    }
  });
});
