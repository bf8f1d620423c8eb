import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { EXAMPLES } from '../../src/cli/examples.js';
import { createParser } from '../../src/cli/main.js';
import { settleRunArgs } from '../../src/cli/settings.js';
import { ROOT } from '../helpers/sandbox.js';

const example = (p: string) => join(ROOT, 'examples', p);
// biome-ignore lint/suspicious/noExplicitAny: parsed YAML of any shape, read field by field in the assertions
type Obj = Record<string, any>;

/** Parses an et-import command line with the real parser, settings included, without running it. */
async function check(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Obj> {
  const settled = settleRunArgs(args, env);
  let parsed: Obj | undefined;
  const io = { env, stdout: { write: () => true }, stderr: { write: () => true } };
  await createParser(io, { code: 0 }, (_name, a) => (parsed = a as Obj)).parseAsync(settled.argv);
  if (!parsed) throw new Error(`not a command: ${args.join(' ')}`);
  return parsed;
}

const containerOf = (spec: Obj) => spec.template.spec.containers[0] as Obj;
const envOf = (c: Obj) => Object.fromEntries((c.env as Obj[]).map((e) => [e.name, e.value]));

describe('examples/ work as written', () => {
  it('the CronJob: Forbid, the password from a Secret file, a PVC, exit codes 1/3 not retried and 2/4 retried with --resume, requests that fit the measured RSS', async () => {
    const docs = parseAllDocuments(readFileSync(example('k8s/cronjob.yaml'), 'utf8')).map((d) => d.toJS() as Obj);
    expect(docs.map((d) => d.kind)).toEqual(['PersistentVolumeClaim', 'CronJob']);
    const cron = docs[1]!;
    expect(cron.spec.concurrencyPolicy).toBe('Forbid');
    const job = cron.spec.jobTemplate.spec;
    const rules = job.podFailurePolicy.rules as Obj[];
    expect(rules.find((r) => r.action === 'FailJob')!.onExitCodes.values).toEqual([1, 3]);
    expect(rules.find((r) => r.action === 'Count')!.onExitCodes.values).toEqual([2, 4]);
    const c = containerOf(job);
    expect(rules.every((r) => r.onExitCodes.containerName === c.name)).toBe(true);
    const env = envOf(c);
    expect(env.ET_AUTH_SECRET).toBeUndefined();
    const secretMount = (c.volumeMounts as Obj[]).find((m) => env.ET_AUTH_SECRET_FILE.startsWith(m.mountPath))!;
    const secretVolume = (job.template.spec.volumes as Obj[]).find((v) => v.name === secretMount.name)!;
    expect(secretVolume.secret.secretName).toBeTruthy();
    expect((job.template.spec.volumes as Obj[]).find((v) => v.persistentVolumeClaim)!.persistentVolumeClaim.claimName).toBe(docs[0]!.metadata.name);
    expect(c.resources.requests.memory).toBe('192Mi');
    const a = await check(c.args as string[], env);
    expect(a).toMatchObject({
      input: ['/data/drop'],
      archive: '/data/archive',
      stateDir: '/data/state',
      resume: '/data/state',
      settle: 300,
      maxErrors: '5%',
      concurrency: 8,
    });
  });

  it('the Indexed Job: each pod a shard', async () => {
    const job = parseYaml(readFileSync(example('k8s/backfill-indexed-job.yaml'), 'utf8')) as Obj;
    expect(job.spec.completionMode).toBe('Indexed');
    const c = containerOf(job.spec);
    for (let i = 0; i < job.spec.completions; i++) {
      const a = await check(c.args as string[], { ...envOf(c), JOB_COMPLETION_INDEX: String(i), JOB_COMPLETIONS: String(job.spec.completions) });
      expect(a.shard).toBe(`${i + 1}/${job.spec.completions}`);
    }
  });

  it('the compose file: a sandbox and a run against it', async () => {
    const compose = parseYaml(readFileSync(example('docker-compose.yaml'), 'utf8')) as Obj;
    const sandbox = await check(compose.services.sandbox.command as string[]);
    expect(sandbox.port).toBe(4010);
    const run = await check(compose.services.import.command as string[], compose.services.import.environment);
    expect(run.concurrency).toBe(4);
    expect(compose.services.import.environment.ET_URL).toBe(`http://127.0.0.1:${sandbox.port}`);
  });

  it('the crontab line and its settings file', async () => {
    const line = readFileSync(example('crontab'), 'utf8')
      .split('\n')
      .find((l) => /^\d/.test(l))!;
    const [, envText, argText] = /^(?:\S+\s+){5}((?:[A-Z_]+=\S+\s+)*)et-import\s+(.*?)\s*\|\|/.exec(line)!;
    const env = Object.fromEntries(
      envText!
        .trim()
        .split(/\s+/)
        .map((kv) => kv.split('=') as [string, string]),
    );
    expect(env.ET_AUTH_SECRET_FILE).toBeTruthy();
    // the settings file is read from where the example keeps it
    env.ET_IMPORT_CONFIG = example('nightly.yaml');
    const args = argText!.split(/\s+/);
    const a = await check(args, env);
    expect(a).toMatchObject({
      input: ['/srv/et-import/drop'],
      archive: '/srv/et-import/archive',
      stateDir: '/srv/et-import/state',
      resume: '/srv/et-import/state',
      settle: 300,
      maxErrors: '5%',
      // a new report directory each night: a report is never overwritten
      reportDir: '/srv/et-import/reports/nightly-{date}-{time}',
    });
  });
});

/** A shell line's words: quotes removed, `# comments` dropped, `$(...)` and `<...>` placeholders made words. */
function words(line: string): string[] {
  const out: string[] = [];
  const re = /"([^"]*)"|'([^']*)'|(\S+)/g;
  for (let m = re.exec(line); m; m = re.exec(line)) {
    if (m[3]?.startsWith('#')) break;
    out.push((m[1] ?? m[2] ?? m[3]!).replace(/^<(.+)>$/, '$1'));
  }
  return out;
}

/** Every `et-import ...` command line in the shell blocks of README.md and docs/*.md, continuation lines joined. */
function documentedCommands(): { file: string; line: string }[] {
  const files = [
    'README.md',
    ...readdirSync(join(ROOT, 'docs'))
      .filter((f) => f.endsWith('.md'))
      .map((f) => `docs/${f}`),
  ];
  const out: { file: string; line: string }[] = [];
  for (const file of files) {
    let block: string | undefined;
    let pending = '';
    for (const raw of readFileSync(join(ROOT, file), 'utf8').split('\n')) {
      const fence = /^\s*```(\w*)/.exec(raw);
      if (fence) {
        block = block === undefined ? fence[1] : undefined;
        continue;
      }
      if (block === undefined || !['', 'sh', 'bash', 'shell', 'console'].includes(block)) continue;
      const line = pending + raw.trim();
      if (line.endsWith('\\')) {
        pending = `${line.slice(0, -1)} `;
        continue;
      }
      pending = '';
      const at = line.replace(/^\$ /, '');
      if (at.startsWith('et-import ')) out.push({ file, line: at });
    }
  }
  return out;
}

describe('every command line in README, docs and --help examples parses with the real CLI', () => {
  it('README.md and docs/*.md', async () => {
    const lines = documentedCommands();
    expect(lines.length).toBeGreaterThanOrEqual(15);
    for (const { file, line } of lines) {
      const args = words(line).slice(1);
      // help and the completion script print and run nothing
      if (args[0] === '--help' || args[0] === 'completion') continue;
      await expect(check(args), `${file}: ${line}`).resolves.toBeDefined();
    }
  });
  it("each command's --help examples", async () => {
    for (const [command, list] of Object.entries(EXAMPLES)) {
      expect(list.length, command).toBeGreaterThanOrEqual(2);
      for (const [line] of list) await expect(check(words(line).slice(1)), line).resolves.toBeDefined();
    }
  });
});
