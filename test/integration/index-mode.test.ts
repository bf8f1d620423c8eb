import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SandboxSession } from '../../src/sandbox/store.js';
import { bulkId, bulkKey } from '../helpers/bulk.js';
import { importInto } from '../helpers/run.js';
import { startLyingApi } from '../helpers/lying-api.js';
import { PASSWORD, USER, metadataById, startSandbox, tempDir } from '../helpers/sandbox.js';

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
  writeFileSync(
    twoKeys,
    `match:\n  keys:\n    - { column: Call ID, by: external_id, sessionFields: [external_id] }\n    - { column: Recording File, by: audio_filename, sessionFields: [file_name] }\n  dateColumn: Date\n${MAPPING}`,
  );
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
      expect(byRow['2']).toMatchObject({
        status: 'unmatched',
        error_message: expect.stringMatching(
          /no key matched: Call ID: no session has external_id equal to "NOPE-1" .*; Recording File: no session has file_name equal to "nope"/,
        ),
      });
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
      expect((metadataById(sandbox)[bulkId(0)]!.crm_statuses as string[]).filter((s) => s.startsWith('s'))).toEqual(
        Array.from({ length: 8 }, (_, k) => `s${k * 3}`),
      );
      expect(sandbox.stats.overlappingWrites).toBe(0);
    } finally {
      await sandbox.close();
    }
  });

  it('another client appending statuses during the run: none of them lost, at most 1.10 requests a row', async () => {
    // 6,000 rows over 3,000 sessions, each twice; right after the run's first write to a session,
    // a second client appends a status of its own to it: the run's later row of that session
    // must merge with it (a copy from the listing, or of the run's own write, would drop it)
    const sandbox = await startSandbox({ sessions: juneSessions(3000), latencyMs: 2 });
    try {
      // every session twice, one row after the other, the sessions in a shuffled order
      const dir = tempDir();
      const order = Array.from({ length: 3000 }, (_, r) => (r * 7919) % 3000).flatMap((i) => [i, i]);
      const rows = order.map((i, r) => `${bulkKey(i)},${1 + (r % 5)},st-${r % 4}`);
      writeFileSync(join(dir, 'in.csv'), `Call ID,CSAT,Status\n${rows.join('\n')}\n`);
      writeFileSync(join(dir, 'm.yaml'), `match: { column: Call ID }\n${MAPPING}`);
      const f = { input: join(dir, 'in.csv'), oneKey: join(dir, 'm.yaml') };
      const others = new Set<string>();
      sandbox.afterWrite = (id, meta) => {
        if (others.has(id)) return;
        others.add(id);
        meta.crm_statuses = [...((meta.crm_statuses as string[] | undefined) ?? []), `other-${id}`];
      };
      const r = await importInto(sandbox.url, { inputs: [f.input], mapping: f.oneKey, concurrency: 8, lookup: 'index', window: '2025-06-01..2025-06-30' });
      expect(r.counts.updated + r.counts.unchanged).toBe(6000);
      const meta = metadataById(sandbox);
      const lost = [...others].filter((id) => !(meta[id]!.crm_statuses as string[]).includes(`other-${id}`));
      expect(others.size).toBe(3000);
      expect(lost).toEqual([]);
      expect(r.summary.requests!.requests / r.counts.total).toBeLessThanOrEqual(1.1);
    } finally {
      await sandbox.close();
    }
  }, 120_000);

  it('a listing that lies (a total of a billion, skip ignored or clamped, the last page repeated) stops with exit 3 and a summary', async () => {
    for (const lie of ['huge-total', 'ignores-skip', 'clamps-skip', 'repeats-last-page'] as const) {
      const api = await startLyingApi(lie, 450, { username: USER, password: PASSWORD });
      try {
        const dir = tempDir();
        writeFileSync(join(dir, 'in.csv'), 'Call ID,CSAT,Status\nK-000001,3,a\n');
        writeFileSync(join(dir, 'm.yaml'), `match: { column: Call ID }\n${MAPPING}`);
        const r = await importInto(api.url, { inputs: [join(dir, 'in.csv')], mapping: join(dir, 'm.yaml'), lookup: 'index', window: '2025-06-09..2025-06-11' });
        expect(r.exitCode, lie).toBe(3);
        expect(r.summary.aborted, lie).toMatch(lie === 'huge-total' ? /--index-max/ : /listing of 2025-06-10/);
        expect(api.stats.puts).toBe(0);
        expect(api.stats.listings, lie).toBeLessThan(20);
        expect(existsSync(join(r.reportDir, 'summary.json'))).toBe(true);
      } finally {
        await api.close();
      }
    }
  });

  it('a June call and an August chat share 20 keys: with a date column both modes write the June call, and say the date decided', async () => {
    const june = juneSessions(40);
    const august = june.slice(0, 20).map((s, i) => ({ ...s, id: bulkId(5000 + i), type: 'chat', start_time: '2025-08-14T09:00:00Z', metadata: {} }));
    const dir = tempDir();
    const rows = june.map((s) => `${s.external_id as string},${(s.start_time as string).slice(0, 10)},4,checked`);
    writeFileSync(join(dir, 'in.csv'), `Call ID,Date,CSAT,Status\n${rows.join('\n')}\n`);
    writeFileSync(join(dir, 'm.yaml'), `match: { column: Call ID, dateColumn: Date, onMultiple: fail }\n${MAPPING}`);
    for (const lookup of ['search', 'index'] as const) {
      const sandbox = await startSandbox({ sessions: [...june, ...august] });
      try {
        const r = await importInto(sandbox.url, { inputs: [join(dir, 'in.csv')], mapping: join(dir, 'm.yaml'), lookup });
        expect(r.counts.updated, lookup).toBe(40);
        const meta = metadataById(sandbox);
        for (let i = 0; i < 20; i++) {
          expect(meta[bulkId(i)]!.csi, lookup).toBe(4);
          expect(meta[bulkId(5000 + i)], lookup).toEqual({});
        }
        const shared = new Set(june.slice(0, 20).map((s) => s.external_id as string));
        const decided = r.results.filter((x) => shared.has(x.key) && /^the date decided/.test(x.match_note));
        expect(decided.length, lookup).toBe(20);
        if (lookup === 'search') expect(decided.every((x) => /1 of 2 sessions/.test(x.match_note))).toBe(true);
      } finally {
        await sandbox.close();
      }
    }
  });

  it('a date that cannot be read in match.dateColumn makes its row invalid, never a crash', async () => {
    const sandbox = await startSandbox({ sessions: juneSessions(10) });
    try {
      const dir = tempDir();
      writeFileSync(join(dir, 'in.csv'), `Call ID,Date,CSAT,Status\n${bulkKey(1)},2025-06-02,3,a\n${bulkKey(2)},2025-13-45,3,a\n${bulkKey(3)},,3,a\n`);
      writeFileSync(join(dir, 'm.yaml'), `match: { column: Call ID, dateColumn: Date }\n${MAPPING}`);
      for (const lookup of ['search', 'index'] as const) {
        const r = await importInto(sandbox.url, { inputs: [join(dir, 'in.csv')], mapping: join(dir, 'm.yaml'), lookup });
        expect(r.exitCode).toBe(1);
        const byRow = Object.fromEntries(r.results.map((x) => [x.row, x]));
        expect(byRow['3']).toMatchObject({
          status: 'invalid',
          error_code: 'E_INVALID_VALUE',
          error_message: expect.stringMatching(/column "Date": expected a date .*got "2025-13-45"/),
        });
        expect(byRow['2']!.status).not.toBe('invalid');
        expect(byRow['4']!.status).not.toBe('invalid');
      }
    } finally {
      await sandbox.close();
    }
  });

  it('resuming a finished index-mode run sends no request, not even a login', async () => {
    const sandbox = await startSandbox({ sessions: juneSessions(30) });
    try {
      const dir = tempDir();
      writeFileSync(join(dir, 'in.csv'), `Call ID,CSAT,Status\n${Array.from({ length: 30 }, (_, i) => `${bulkKey(i)},3,a`).join('\n')}\n`);
      writeFileSync(join(dir, 'm.yaml'), `match: { column: Call ID }\n${MAPPING}`);
      const first = await importInto(sandbox.url, {
        inputs: [join(dir, 'in.csv')],
        mapping: join(dir, 'm.yaml'),
        lookup: 'index',
        window: '2025-06-01..2025-06-30',
      });
      expect(first.exitCode).toBe(0);
      const before = Object.values(sandbox.stats.requests).reduce((a, b) => a + b, 0);
      const again = await importInto(sandbox.url, {
        inputs: [join(dir, 'in.csv')],
        mapping: join(dir, 'm.yaml'),
        lookup: 'index',
        window: '2025-06-01..2025-06-30',
        resume: first.reportDir,
      });
      expect(again.counts.skipped).toBe(30);
      expect(Object.values(sandbox.stats.requests).reduce((a, b) => a + b, 0)).toBe(before);
    } finally {
      await sandbox.close();
    }
  });
});
