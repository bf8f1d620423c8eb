import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bulkExport, bulkSessions } from '../helpers/bulk.js';
import { runCli } from '../helpers/cli.js';
import { importInto, readResults } from '../helpers/run.js';
import { envFor, metadataById, startSandbox, tempDir } from '../helpers/sandbox.js';

describe('a crash', () => {
  it('SIGKILL at a random point, then --resume: the same server state as an uninterrupted run, no PUT for rows finished before the kill', async () => {
    const { input, mapping } = bulkExport(1500, 400, 3);
    const calm = await startSandbox({ sessions: bulkSessions(400) });
    const victim = await startSandbox({ sessions: bulkSessions(400), latencyMs: 3 });
    try {
      await importInto(calm.url, { inputs: [input], mapping });

      const reportDir = tempDir('et-report-');
      // the kill point is seeded and printed, so that a failure can be replayed: CRASH_SEED=<seed> npm test
      const seed = Number(process.env.CRASH_SEED ?? Math.floor(Math.random() * 1_000_000));
      const killAt = 100 + ((Math.imul(seed, 2654435761) >>> 0) % 1000);
      console.log(`crash test: SIGKILL after ${killAt} PUTs (replay with CRASH_SEED=${seed})`);
      const run = runCli(['run', '-i', input, '-m', mapping, '--report-dir', reportDir, '--concurrency', '12'], envFor(victim.url));
      const puts = () => victim.requests().filter((q) => q.method === 'PUT').length;
      while (puts() < killAt && run.child.exitCode === null) await new Promise((r) => setTimeout(r, 2));
      run.child.kill('SIGKILL');
      const killed = await run;
      expect(killed.signal).toBe('SIGKILL');

      const journal = readFileSync(join(reportDir, 'state', 'journal.jsonl'), 'utf8').split('\n');
      const done = new Set(
        journal
          .filter((l) => l.trim())
          .flatMap((l) => {
            try {
              return [(JSON.parse(l) as { r: number }).r];
            } catch {
              return []; // a torn last line
            }
          }),
      );
      expect(done.size).toBeGreaterThan(0);
      expect(done.size).toBeLessThan(1500);

      victim.resetStats();
      const resumeReport = tempDir('et-report-');
      const resumed = await runCli(
        ['run', '-i', input, '-m', mapping, '--report-dir', resumeReport, '--resume', join(reportDir, 'state'), '--concurrency', '12'],
        envFor(victim.url),
      );
      expect(resumed.code).toBe(0);
      const results = readResults(resumeReport);
      expect(results).toHaveLength(1500);
      // rows the journal had were skipped, so none of them was written again
      for (const r of results) expect(r.status === 'skipped').toBe(done.has(Number(r.row)));
      const written = results.filter((r) => r.status === 'updated').length;
      expect(victim.requests().filter((q) => q.method === 'PUT').length).toBe(written);
      expect(metadataById(victim)).toEqual(metadataById(calm));
      expect(victim.stats.overlappingWrites).toBe(0);
    } finally {
      await calm.close();
      await victim.close();
    }
  }, 120_000);
});
