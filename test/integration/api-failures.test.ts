import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bulkExport, bulkExportRepeating, bulkSessions } from '../helpers/bulk.js';
import { importInto, readResults } from '../helpers/run.js';
import type { Sandbox } from '../../src/sandbox/server.js';
import { metadataById, startSandbox, tempDir } from '../helpers/sandbox.js';

describe('a bad night', () => {
  it('a bad night at default settings loses nothing: 1,605 rows through 5xx, dropped connections, a 429 cap, 3-second tokens', async () => {
    // 1,500 sessions, every one named once, and 105 more rows repeating 80 of the keys
    const { input, mapping } = bulkExportRepeating(1_500, 105, 80);
    // the same latency as the stormy night, without its faults: the pace this machine reaches now
    const calm = await startSandbox({ sessions: bulkSessions(1_500), latencyMs: 20 });
    let stormy: Sandbox | undefined;
    try {
      const calmStart = performance.now();
      const reference = await importInto(calm.url, { inputs: [input], mapping, concurrency: 16 });
      const calmRate = Object.values(calm.stats.requests).reduce((n, v) => n + v, 0) / ((performance.now() - calmStart) / 1000);
      expect(reference.counts).toMatchObject({ failed: 0, total: 1_605 });
      stormy = await startSandbox({
        sessions: bulkSessions(1_500),
        failRate: 0.1,
        dropRate: 0.02,
        // 429s on any machine, however loaded: at most 250 a second, and below the pace reached without faults
        rateLimit: Math.max(20, Math.min(250, Math.round(calmRate * 0.6))),
        // an API that does not advertise its limit: the 429s come (with RateLimit headers the client paces below them)
        rateHeaders: false,
        tokenTtlSeconds: 3,
        latencyMs: 20,
        seed: 42,
      });

      const reportDir = tempDir('et-report-');
      // default retry settings: what users get
      const r = await importInto(stormy.url, { inputs: [input], mapping, concurrency: 16, reportDir });
      // every row ends in a final status, once
      const rows = readResults(reportDir).map((x) => Number(x.row));
      expect(new Set(rows).size).toBe(1_605);
      expect(r.counts).toEqual(reference.counts);
      expect(r.counts.failed).toBe(0);
      expect(r.exitCode).toBe(0);
      // the server holds exactly what the fault-free run produced
      expect(metadataById(stormy)).toEqual(metadataById(calm));
      for (const meta of Object.values(metadataById(stormy))) {
        const list = (meta.crm_statuses as string[] | undefined) ?? [];
        expect(new Set(list).size).toBe(list.length);
      }
      expect(stormy.stats.overlappingWrites).toBe(0);
      // and the night really was bad
      const statuses = Object.entries(stormy.stats.requests);
      const count = (re: RegExp) => statuses.filter(([k]) => re.test(k)).reduce((n, [, v]) => n + v, 0);
      console.log(
        `bad night (limit ${stormy.options.rateLimit}/s, ${Math.round(calmRate)}/s without faults): ${count(/ 429$/)} x 429, ${count(/ 50[023]$/)} x 5xx, ${count(/ dropped$/)} dropped, ${stormy.stats.logins} logins; client retries ${r.summary.requests!.retries}`,
      );
      expect(count(/ 429$/)).toBeGreaterThan(0);
      expect(count(/ 50[023]$/)).toBeGreaterThan(200);
      expect(count(/ dropped$/)).toBeGreaterThan(20);
      expect(stormy.stats.logins).toBeGreaterThan(2);
      expect(r.summary.options.retries).toBe(10);
    } finally {
      await calm.close();
      await stormy?.close();
    }
  }, 240_000);

  it('duplicate keys and two keys for one conversation: file order at concurrency 16', async () => {
    const sandbox = await startSandbox();
    try {
      const dir = tempDir();
      // CALL-1004's caller is 37256600022: with sessionFields [external_id, caller] both keys reach it
      const lines = ['Key,Status,Customer'];
      for (let i = 0; i < 60; i++) lines.push(`${i % 3 === 0 ? '37256600022' : 'CALL-1004'},s${i},C-${i}`);
      const { writeFileSync } = await import('node:fs');
      writeFileSync(join(dir, 'in.csv'), `${lines.join('\n')}\n`);
      writeFileSync(
        join(dir, 'm.yaml'),
        'match: { column: Key, sessionFields: [external_id, caller] }\nfields:\n  crm_statuses: { column: Status, type: list, merge: append }\n  customer_id: Customer\n',
      );
      const r = await importInto(sandbox.url, { inputs: [join(dir, 'in.csv')], mapping: join(dir, 'm.yaml'), concurrency: 16 });
      expect(r.counts).toMatchObject({ updated: 60, total: 60 });
      const meta = metadataById(sandbox)['4f5a6b7c-8d9e-4f0a-9b1c-2d3e4f506172']!;
      expect(meta.crm_statuses).toEqual(Array.from({ length: 60 }, (_, i) => `s${i}`));
      expect(meta.customer_id).toBe('C-59');
      expect(sandbox.stats.overlappingWrites).toBe(0);
      expect(sandbox.stats.putsPerSession['4f5a6b7c-8d9e-4f0a-9b1c-2d3e4f506172']).toBe(60);
    } finally {
      await sandbox.close();
    }
  });

  it('--max-errors aborts with exit 2, and the run resumes to the end', async () => {
    const sandbox = await startSandbox();
    try {
      const dir = tempDir();
      const { writeFileSync } = await import('node:fs');
      // CALL-1005 is locked: every write to it is refused (403)
      const lines = ['Call ID,Customer ID'];
      for (let i = 0; i < 40; i++) lines.push(i % 2 ? `CALL-1005,C-${i}` : `CALL-1004,C-${i}`);
      writeFileSync(join(dir, 'in.csv'), `${lines.join('\n')}\n`);
      writeFileSync(join(dir, 'm.yaml'), 'match: { column: Call ID }\nfields: { customer_id: Customer ID }\n');
      const first = await importInto(sandbox.url, { inputs: [join(dir, 'in.csv')], mapping: join(dir, 'm.yaml'), maxErrors: 5, concurrency: 2 });
      expect(first.exitCode).toBe(2);
      expect(first.counts.failed).toBeGreaterThanOrEqual(5);
      expect(first.counts.total).toBeLessThan(40);
      expect(first.summary.aborted).toMatch(/--max-errors reached/);

      sandbox.store.get('5a6b7c8d-9e0f-4a1b-8c2d-3e4f50617283')!.locked = false;
      const second = await importInto(sandbox.url, { inputs: [join(dir, 'in.csv')], mapping: join(dir, 'm.yaml'), resume: first.stateDir, maxErrors: 5 });
      expect(second.exitCode).toBe(0);
      expect(second.counts.total).toBe(40);
      expect(second.counts.skipped).toBe(first.counts.total - first.counts.failed);
      expect(metadataById(sandbox)['5a6b7c8d-9e0f-4a1b-8c2d-3e4f50617283']!.customer_id).toBe('C-39');
      expect(metadataById(sandbox)['4f5a6b7c-8d9e-4f0a-9b1c-2d3e4f506172']!.customer_id).toBe('C-38');
    } finally {
      await sandbox.close();
    }
  });

  it('--max-errors counts every row that did not end well: a wrong match.sessionFields stops within the first few hundred rows, exit 2', async () => {
    const { input, dir } = bulkExport(3000, 300, 13);
    const sandbox = await startSandbox({ sessions: bulkSessions(300) });
    try {
      const { writeFileSync } = await import('node:fs');
      writeFileSync(join(dir, 'wrong.yaml'), 'match: { column: Call ID, sessionFields: [caller] }\nfields:\n  csi: { column: CSAT, type: integer }\n');
      const r = await importInto(sandbox.url, { inputs: [input], mapping: join(dir, 'wrong.yaml'), maxErrors: '5%' });
      expect(r.exitCode).toBe(2);
      expect(r.counts.unmatched).toBe(r.counts.total);
      expect(r.counts.total).toBeLessThan(300);
      expect(r.summary.aborted).toMatch(/--max-errors reached: \d+ of \d+ rows did not end well \(\d+ unmatched\)/);
      // a night whose unmatched rows are expected counts only what it names
      const narrow = await importInto(sandbox.url, {
        inputs: [input],
        mapping: join(dir, 'wrong.yaml'),
        maxErrors: '5%',
        maxErrorsStatuses: ['failed', 'invalid'],
      });
      expect(narrow.exitCode).toBe(1);
      expect(narrow.counts.total).toBe(3000);
    } finally {
      await sandbox.close();
    }
  });

  it('the circuit opens when the API goes down (exit 2), and the run resumes when it is back', async () => {
    const { input, mapping } = bulkExport(600, 300, 11);
    const calm = await startSandbox({ sessions: bulkSessions(300) });
    const flaky = await startSandbox({ sessions: bulkSessions(300), latencyMs: 5 });
    try {
      await importInto(calm.url, { inputs: [input], mapping });
      const port = Number(new URL(flaky.url).port);
      const url = flaky.url;
      const puts = () => flaky.requests().filter((q) => q.method === 'PUT').length;
      const outage = (async () => {
        while (puts() < 100) await new Promise((r) => setTimeout(r, 5));
        await flaky.close();
      })();
      const first = await importInto(url, { inputs: [input], mapping, retries: 1, retryDelay: 5, circuitBreaker: 5 });
      await outage;
      expect(first.exitCode).toBe(2);
      expect(first.summary.aborted).toMatch(/rows in a row could not reach the API/);
      expect(first.counts.total).toBeLessThan(600);

      await flaky.listen(port);
      const second = await importInto(url, { inputs: [input], mapping, resume: first.stateDir });
      expect(second.exitCode).toBe(0);
      expect(second.counts.total).toBe(600);
      expect(metadataById(flaky)).toEqual(metadataById(calm));
    } finally {
      await calm.close();
      await flaky.close();
    }
  });

  it('resuming a finished run sends no request for rows that ended well, and tries the others again', async () => {
    const sandbox = await startSandbox();
    try {
      const dir = tempDir();
      const { writeFileSync } = await import('node:fs');
      writeFileSync(join(dir, 'in.csv'), 'Call ID,Customer ID\nCALL-1004,C-1\nCALL-1003,x\n');
      writeFileSync(join(dir, 'm.yaml'), 'match: { column: Call ID }\nfields: { customer_id: Customer ID }\n');
      const first = await importInto(sandbox.url, { inputs: [join(dir, 'in.csv')], mapping: join(dir, 'm.yaml') });
      expect(first.counts).toMatchObject({ updated: 2 });
      const before = sandbox.requests().length;
      const again = await importInto(sandbox.url, { inputs: [join(dir, 'in.csv')], mapping: join(dir, 'm.yaml'), resume: first.reportDir });
      expect(again.counts).toMatchObject({ skipped: 2, total: 2 });
      expect(again.exitCode).toBe(0);
      expect(sandbox.requests().length).toBe(before);
      // a changed row is done again; the journal keeps the last word on each row
      writeFileSync(join(dir, 'in.csv'), 'Call ID,Customer ID\nCALL-1004,C-1\nCALL-1003,y\n');
      const changed = await importInto(sandbox.url, { inputs: [join(dir, 'in.csv')], mapping: join(dir, 'm.yaml'), resume: first.stateDir });
      expect(changed.counts).toMatchObject({ skipped: 1, updated: 1 });
      const journal = readFileSync(join(first.stateDir, 'journal.jsonl'), 'utf8').trim().split('\n');
      expect(journal).toHaveLength(3);
      // an unmatched row is not "finished": the resume tries it again, and exits 1 while it stays unmatched
      writeFileSync(join(dir, 'in.csv'), 'Call ID,Customer ID\nCALL-1004,C-1\nCALL-1003,y\nCALL-9999,C-2\n');
      const third = await importInto(sandbox.url, { inputs: [join(dir, 'in.csv')], mapping: join(dir, 'm.yaml'), resume: first.stateDir });
      expect(third.counts).toMatchObject({ skipped: 2, unmatched: 1 });
      expect(third.exitCode).toBe(1);
      const fourth = await importInto(sandbox.url, { inputs: [join(dir, 'in.csv')], mapping: join(dir, 'm.yaml'), resume: first.stateDir });
      expect(fourth.counts).toMatchObject({ skipped: 2, unmatched: 1 });
    } finally {
      await sandbox.close();
    }
  });
});
