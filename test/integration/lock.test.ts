import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bulkExport, bulkSessions } from '../helpers/bulk.js';
import { runCli } from '../helpers/cli.js';
import { importInto } from '../helpers/run.js';
import { envFor, metadataById, putCount, startSandbox, tempDir } from '../helpers/sandbox.js';

const _summaryOf = (dir: string) =>
  JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as Record<string, unknown> & {
    options: Record<string, unknown>;
    optionSources: Record<string, string>;
  };

describe('one run per state directory', () => {
  it('one run per state directory: a second run exits 3 at once naming the lock and pid; after kill -9, --resume takes the stale lock over', async () => {
    const { input, mapping } = bulkExport(600, 200, 5);
    const calm = await startSandbox({ sessions: bulkSessions(200) });
    const slow = await startSandbox({ sessions: bulkSessions(200), latencyMs: 20 });
    try {
      await importInto(calm.url, { inputs: [input], mapping });
      const reportDir = tempDir('et-report-');
      const first = runCli(['run', '-i', input, '-m', mapping, '--report-dir', reportDir, '--concurrency', '2'], envFor(slow.url));
      while (putCount(slow) < 5) await new Promise((r) => setTimeout(r, 20));
      const started = Date.now();
      const second = await runCli(
        ['run', '-i', input, '-m', mapping, '--report-dir', tempDir('et-report-'), '--state-dir', join(reportDir, 'state')],
        envFor(slow.url),
      );
      expect(second.code).toBe(3);
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(second.said).toContain(join(reportDir, 'state', 'lock.json'));
      expect(second.said).toContain(`pid ${first.child.pid}`);
      first.child.kill('SIGKILL');
      await first;
      const resumed = await runCli(['run', '-i', input, '-m', mapping, '--report-dir', tempDir('et-report-'), '--resume', reportDir], envFor(slow.url));
      expect(resumed.code).toBe(0);
      expect(resumed.said).toMatch(/taking over a stale lock \(pid \d+ is no longer running on this host\)/);
      expect(metadataById(slow)).toEqual(metadataById(calm));
      expect(existsSync(join(reportDir, 'state', 'lock.json'))).toBe(false); // released at the end
    } finally {
      await calm.close();
      await slow.close();
    }
  }, 120_000);
});
