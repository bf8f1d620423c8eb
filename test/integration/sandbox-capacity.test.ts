import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { bulkExport, bulkSessions } from '../helpers/bulk.js';
import { importInto } from '../helpers/run.js';
import { envFor, startSandbox, tempDir } from '../helpers/sandbox.js';

describe('the sandbox with a capacity', () => {
  it('beyond --capacity requests in flight each answer slows in proportion to the load; within it, never', async () => {
    const loaded = await startSandbox({ sessions: bulkSessions(60), latencyMs: 10, capacity: 2 });
    const roomy = await startSandbox({ sessions: bulkSessions(60), latencyMs: 10, capacity: 64 });
    try {
      const { input, mapping } = bulkExport(60, 60, 41);
      await importInto(loaded.url, { inputs: [input], mapping, concurrency: 8 });
      await importInto(roomy.url, { inputs: [input], mapping, concurrency: 8 });
      // 8 rows in flight against a capacity of 2: answers came up to 4 times slower
      expect(loaded.stats.peakInFlight).toBeGreaterThan(2);
      expect(loaded.stats.peakLoad).toBe(loaded.stats.peakInFlight / 2);
      expect(roomy.stats.peakLoad).toBe(1);
    } finally {
      await loaded.close();
      await roomy.close();
    }
  });
});

describe('--concurrency auto', () => {
  it('runs every row with a limit that adapts between 1 and --max-concurrency; summary.json tells where it went; ET_IMPORT_CONCURRENCY=auto too', async () => {
    const sandbox = await startSandbox({ sessions: bulkSessions(120), latencyMs: 5, capacity: 6 });
    try {
      const { input, mapping } = bulkExport(240, 120, 43);
      const flag = await runCli(
        ['run', '-i', input, '-m', mapping, '--concurrency', 'auto', '--max-concurrency', '12', '--report-dir', tempDir('et-report-')],
        envFor(sandbox.url),
      );
      const env = await runCli(['run', '-i', input, '-m', mapping, '--report-dir', tempDir('et-report-')], {
        ...envFor(sandbox.url),
        ET_IMPORT_CONCURRENCY: 'auto',
      });
      for (const r of [flag, env]) expect(r.code).toBe(0);
      const summary = JSON.parse(readFileSync(join(reportDirOf(flag.stdout), 'summary.json'), 'utf8'));
      expect(summary.counts.total).toBe(240);
      expect(summary.options.concurrency).toBe('auto');
      expect(summary.concurrency).toMatchObject({ auto: true, max: 12 });
      expect(summary.concurrency.high).toBeLessThanOrEqual(12);
      expect(sandbox.stats.peakInFlight).toBeLessThanOrEqual(12 + 1);
      const bad = await runCli(['run', '-i', input, '-m', mapping, '--concurrency', 'fast'], envFor(sandbox.url));
      expect([bad.code, bad.said]).toEqual([3, expect.stringContaining('--concurrency must be a number')]);
    } finally {
      await sandbox.close();
    }
  });
});

function reportDirOf(stderr: string): string {
  return /report: (\S+)/.exec(stderr)![1]!;
}
