import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bulkExport, bulkSessions } from '../helpers/bulk.js';
import { runCli } from '../helpers/cli.js';
import { importInto } from '../helpers/run.js';
import { envFor, metadataById, startSandbox, tempDir } from '../helpers/sandbox.js';

const summaryOf = (dir: string) =>
  JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as Record<string, unknown> & {
    options: Record<string, unknown>;
    optionSources: Record<string, string>;
  };

describe('shards run together', () => {
  it('--shard 1/3, 2/3 and 3/3 together update exactly what one unsharded run updates; JOB_COMPLETION_INDEX sets the shard', async () => {
    const { input, mapping } = bulkExport(900, 300, 9);
    const whole = await startSandbox({ sessions: bulkSessions(300) });
    const sharded = await startSandbox({ sessions: bulkSessions(300) });
    try {
      const all = await importInto(whole.url, { inputs: [input], mapping });
      const base = tempDir('et-report-');
      let rows = 0;
      for (const i of [1, 2, 3]) {
        const env = i === 3 ? { ...envFor(sharded.url), JOB_COMPLETION_INDEX: '2', JOB_COMPLETIONS: '3' } : envFor(sharded.url);
        const args = ['run', '-i', input, '-m', mapping, '--report-dir', base, ...(i === 3 ? [] : ['--shard', `${i}/3`])];
        const r = await runCli(args, env);
        expect(r.code).toBe(0);
        const s = summaryOf(`${base}-shard-${i}-of-3`);
        expect(s.shard).toBe(`${i}/3`);
        rows += (s.counts as { total: number }).total;
        expect((s.counts as { total: number }).total + (s.notInShard as number)).toBe(900);
      }
      expect(rows).toBe(all.counts.total);
      expect(metadataById(sharded)).toEqual(metadataById(whole));
    } finally {
      await whole.close();
      await sharded.close();
    }
  }, 60_000);
});
