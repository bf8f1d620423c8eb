import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { envFor, startSandbox, tempDir } from '../helpers/sandbox.js';

const summaryOf = (dir: string) =>
  JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as Record<string, unknown> & {
    options: Record<string, unknown>;
    optionSources: Record<string, string>;
  };

describe('settings from the environment and a file', () => {
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
      expect(r3.said).toMatch(/"password" looks like a secret.*ET_AUTH_SECRET or ET_AUTH_SECRET_FILE/);
      expect(r3.said).not.toContain('hunter2');
      writeFileSync(settings, 'concurency: 5\n');
      const r4 = await runCli(['run', '-i', input, '-m', mapping, '--config', settings], envFor(sandbox.url));
      expect(r4.said).toContain('"concurency" is not an option of et-import run (did you mean "concurrency"?)');
    } finally {
      await sandbox.close();
    }
  });
});
