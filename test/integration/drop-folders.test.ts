import { existsSync, mkdirSync, readFileSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { envFor, metadataById, putCount, startSandbox, tempDir } from '../helpers/sandbox.js';

const summaryOf = (dir: string) =>
  JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as Record<string, unknown> & {
    options: Record<string, unknown>;
    optionSources: Record<string, string>;
  };

describe('drop folders', () => {
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

  it('a night without a delivery: an empty drop folder is a run of 0 rows, a warning and exit 0', async () => {
    const sandbox = await startSandbox();
    try {
      const dir = tempDir();
      const drop = join(dir, 'drop');
      mkdirSync(drop);
      const mapping = join(dir, 'm.yaml');
      writeFileSync(mapping, 'match: { column: Call ID }\nfields: { customer_id: Customer ID }\n');
      const reportDir = tempDir('et-report-');
      const r = await runCli(['run', '-i', drop, '-m', mapping, '--report-dir', reportDir, '--state-dir', join(dir, 'state')], envFor(sandbox.url));
      expect([r.code, r.said]).toEqual([0, expect.stringContaining('no export to import')]);
      expect((summaryOf(reportDir).counts as { total: number }).total).toBe(0);
      expect(putCount(sandbox)).toBe(0);
    } finally {
      await sandbox.close();
    }
  });
});
