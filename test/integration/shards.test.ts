import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { bulkExport, bulkSessions } from '../helpers/bulk.js';
import { runCli } from '../helpers/cli.js';
import { importInto } from '../helpers/run.js';
import { PASSWORD, ROOT, USER, metadataById, startSandbox, tempDir } from '../helpers/sandbox.js';

// biome-ignore lint/suspicious/noExplicitAny: parsed YAML of any shape, read field by field in the assertions
type Obj = Record<string, any>;

describe('shards', () => {
  it("the example Indexed Job's four pods, started as Kubernetes starts them (JOB_COMPLETION_INDEX only, the rest from the pod's env), import every row once", async () => {
    const job = parseYaml(readFileSync(join(ROOT, 'examples/k8s/backfill-indexed-job.yaml'), 'utf8')) as Obj;
    const c = job.spec.template.spec.containers[0] as Obj;
    const { input, mapping } = bulkExport(300, 120, 5);
    const whole = await startSandbox({ sessions: bulkSessions(120) });
    const pods = await startSandbox({ sessions: bulkSessions(120) });
    try {
      const all = await importInto(whole.url, { inputs: [input], mapping });
      // the pod's file system: /data (the volume), /config (the ConfigMap), the Secret's file
      const root = tempDir('et-pod-');
      // the Secret's file lies outside the artifacts the secret scan reads
      const secrets = mkdtempSync(join(tmpdir(), 'et-pod-secret-'));
      const at = (p: string) => (p.startsWith('/data') || p.startsWith('/config') ? join(root, p) : p.startsWith('/secrets') ? join(secrets, p) : p);
      const args = (c.args as string[]).map(at);
      mkdirSync(join(root, 'data/backfill'), { recursive: true });
      mkdirSync(join(root, 'config'), { recursive: true });
      writeFileSync(at(args[args.indexOf('--input') + 1]!), readFileSync(input));
      writeFileSync(at('/config/mapping.yaml'), readFileSync(mapping));
      const env = Object.fromEntries((c.env as Obj[]).map((e) => [e.name, at(String(e.value))]));
      mkdirSync(join(secrets, 'secrets/et-import'), { recursive: true });
      writeFileSync(env.ET_AUTH_SECRET_FILE, `${PASSWORD}\n`);
      const runs = await Promise.all(
        Array.from({ length: job.spec.completions as number }, (_, i) =>
          runCli(args, { ...env, ET_URL: pods.url, ET_AUTH_KEY: USER, JOB_COMPLETION_INDEX: String(i) }),
        ),
      );
      expect(runs.map((r) => r.code)).toEqual([0, 0, 0, 0]);
      const base = at(args[args.indexOf('--report-dir') + 1]!);
      const counted = [1, 2, 3, 4].map(
        (i) => JSON.parse(readFileSync(`${base}-shard-${i}-of-4/summary.json`, 'utf8')) as { counts: { total: number }; notInShard: number },
      );
      expect(counted.reduce((n, s) => n + s.counts.total, 0)).toBe(300);
      for (const s of counted) expect(s.counts.total + s.notInShard).toBe(300);
      expect(metadataById(pods)).toEqual(metadataById(whole));
      expect(all.counts.total).toBe(300);
    } finally {
      await whole.close();
      await pods.close();
    }
  }, 120_000);

  it('JOB_COMPLETION_INDEX without JOB_COMPLETIONS is refused (exit 3) instead of every pod taking every row', async () => {
    const sandbox = await startSandbox({ sessions: bulkSessions(10) });
    try {
      const { input, mapping } = bulkExport(10, 10, 5);
      const r = await runCli(['run', '-i', input, '-m', mapping, '--report-dir', tempDir('et-report-')], {
        ET_URL: sandbox.url,
        ET_AUTH_KEY: USER,
        ET_AUTH_SECRET: PASSWORD,
        JOB_COMPLETION_INDEX: '1',
      });
      expect(r.code).toBe(3);
      expect(r.said).toMatch(/JOB_COMPLETION_INDEX is "1" but JOB_COMPLETIONS is not set/);
      expect(Object.keys(sandbox.stats.requests)).toEqual([]);
    } finally {
      await sandbox.close();
    }
  });
});
