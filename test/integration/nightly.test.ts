import { existsSync, mkdirSync, readFileSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bulkExport, bulkSessions } from '../helpers/bulk.js';
import { runCli } from '../helpers/cli.js';
import { importInto } from '../helpers/run.js';
import { envFor, metadataById, putCount, startSandbox, tempDir } from '../helpers/sandbox.js';

const summaryOf = (dir: string) =>
  JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as Record<string, unknown> & {
    options: Record<string, unknown>;
    optionSources: Record<string, string>;
  };

describe('nightly and backfill operations', () => {
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
      expect(second.stderr).toContain(join(reportDir, 'state', 'lock.json'));
      expect(second.stderr).toContain(`pid ${first.child.pid}`);
      first.child.kill('SIGKILL');
      await first;
      const resumed = await runCli(['run', '-i', input, '-m', mapping, '--report-dir', tempDir('et-report-'), '--resume', reportDir], envFor(slow.url));
      expect(resumed.code).toBe(0);
      expect(resumed.stderr).toMatch(/taking over a stale lock \(pid \d+ is no longer running on this host\)/);
      expect(metadataById(slow)).toEqual(metadataById(calm));
      expect(existsSync(join(reportDir, 'state', 'lock.json'))).toBe(false); // released at the end
    } finally {
      await calm.close();
      await slow.close();
    }
  }, 120_000);

  it('a drop folder: the good exports are archived, the bad one stays; the next night exits 1 again and sends no PUT', async () => {
    const sandbox = await startSandbox();
    try {
      const dir = tempDir();
      const drop = join(dir, 'drop');
      mkdirSync(drop);
      writeFileSync(join(drop, 'a.csv'), 'Call ID,Customer ID,CSAT\nCALL-1004,C-1,3\n');
      writeFileSync(join(drop, 'b.xlsx.txt'), 'Call ID,Customer ID,CSAT\nCALL-1003,C-2,4\n');
      writeFileSync(join(drop, 'c.csv'), 'Call ID,Customer ID,CSAT\nCALL-1002,C-3,9\nCALL-1001,C-4,2\n');
      writeFileSync(join(drop, 'notes.md'), 'not an export');
      const mapping = join(dir, 'm.yaml');
      writeFileSync(mapping, 'match: { column: Call ID }\nfields: { customer_id: Customer ID, csi: { column: CSAT, type: integer, max: 5 } }\n');
      const night = () =>
        runCli(
          [
            'run',
            '-i',
            drop,
            '-m',
            mapping,
            '--archive',
            join(dir, 'done'),
            '--settle',
            '0',
            '--state-dir',
            join(dir, 'state'),
            '--report-dir',
            tempDir('et-report-'),
          ],
          envFor(sandbox.url),
        );
      const first = await night();
      expect(first.code).toBe(1);
      const day = readdirSync(join(dir, 'done'));
      expect(readdirSync(join(dir, 'done', day[0]!)).sort()).toEqual(['a.csv', 'b.xlsx.txt']);
      expect(readdirSync(drop).sort()).toEqual(['c.csv', 'notes.md']);
      const puts = putCount(sandbox);
      const second = await night();
      expect(second.code).toBe(1);
      expect(putCount(sandbox)).toBe(puts);
      // a re-delivered file of the same name is imported again, and archived beside the first
      writeFileSync(join(drop, 'a.csv'), 'Call ID,Customer ID,CSAT\nCALL-1004,C-9,3\n');
      const third = await night();
      expect(third.code).toBe(1);
      expect(metadataById(sandbox)['4f5a6b7c-8d9e-4f0a-9b1c-2d3e4f506172']!.customer_id).toBe('C-9');
      expect(readdirSync(join(dir, 'done', day[0]!)).sort()).toEqual(['a-2.csv', 'a.csv', 'b.xlsx.txt']);
    } finally {
      await sandbox.close();
    }
  });

  it('--settle leaves a file that is still arriving for a later run; a dry run never archives', async () => {
    const sandbox = await startSandbox();
    try {
      const dir = tempDir();
      const drop = join(dir, 'drop');
      mkdirSync(drop);
      writeFileSync(join(drop, 'old.csv'), 'Call ID,Customer ID\nCALL-1004,C-1\n');
      writeFileSync(join(drop, 'new.csv'), 'Call ID,Customer ID\nCALL-1003,C-2\n');
      const hourAgo = new Date(Date.now() - 3_600_000);
      utimesSync(join(drop, 'old.csv'), hourAgo, hourAgo);
      const mapping = join(dir, 'm.yaml');
      writeFileSync(mapping, 'match: { column: Call ID }\nfields: { customer_id: Customer ID }\n');
      const reportDir = tempDir('et-report-');
      const dry = await runCli(
        ['run', '--dry-run', '-i', `${drop}/*.csv`, '-m', mapping, '--archive', join(dir, 'done'), '--report-dir', reportDir],
        envFor(sandbox.url),
      );
      expect(dry.code).toBe(0);
      const s = summaryOf(reportDir);
      expect(s.notReady).toEqual([expect.objectContaining({ file: join(drop, 'new.csv') })]);
      expect((s.counts as { total: number }).total).toBe(1);
      expect(existsSync(join(dir, 'done'))).toBe(false);
    } finally {
      await sandbox.close();
    }
  });

  it('settings from ET_IMPORT_* and --config: flags win over the environment, which wins over the file; secrets are refused in the file', async () => {
    const sandbox = await startSandbox();
    try {
      const dir = tempDir();
      const input = join(dir, 'in.csv');
      writeFileSync(input, 'Call ID,Customer ID\nCALL-1004,C-1\n');
      const mapping = join(dir, 'm.yaml');
      writeFileSync(mapping, 'match: { column: Call ID }\nfields: { customer_id: Customer ID }\n');
      const settings = join(dir, 'settings.yaml');
      writeFileSync(settings, `concurrency: 5\npageSize: 50\nretries: 4\nmapping: ${mapping}\n`);
      const viaEnv = tempDir('et-report-');
      const r1 = await runCli(['run', '-i', input, '--config', settings, '--report-dir', viaEnv], {
        ...envFor(sandbox.url),
        ET_IMPORT_CONCURRENCY: '3',
        ET_IMPORT_RETRIES: '6',
      });
      expect(r1.code).toBe(0);
      const s1 = summaryOf(viaEnv);
      expect(s1.options).toMatchObject({ concurrency: 3, retries: 6, pageSize: 50 });
      expect(s1.optionSources).toMatchObject({ concurrency: 'env', retries: 'env', 'page-size': 'config', mapping: 'config', input: 'flag' });
      const viaFlag = tempDir('et-report-');
      const r2 = await runCli(['run', '-i', input, '-m', mapping, '--concurrency', '7', '--report-dir', viaFlag], {
        ...envFor(sandbox.url),
        ET_IMPORT_CONCURRENCY: '3',
      });
      expect(r2.code).toBe(0);
      expect(summaryOf(viaFlag).options.concurrency).toBe(7);
      writeFileSync(settings, 'concurrency: 5\npassword: hunter2hunter2\n');
      const r3 = await runCli(['run', '-i', input, '-m', mapping, '--config', settings], envFor(sandbox.url));
      expect(r3.code).toBe(3);
      expect(r3.stderr).toMatch(/"password" looks like a secret.*ET_AUTH_SECRET or ET_AUTH_SECRET_FILE/);
      expect(r3.stderr).not.toContain('hunter2');
      writeFileSync(settings, 'concurency: 5\n');
      const r4 = await runCli(['run', '-i', input, '-m', mapping, '--config', settings], envFor(sandbox.url));
      expect(r4.stderr).toContain('"concurency" is not an option of et-import run (did you mean "concurrency"?)');
    } finally {
      await sandbox.close();
    }
  });

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
