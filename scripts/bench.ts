/**
 * `npm run bench`: imports a large generated CSV (default 200,000 rows) through the real CLI
 * against the sandbox, and checks the CLI's peak RSS against the target (150 MB).
 * Usage: npm run bench -- [rows] [--keep]
 * The sandbox runs in this process; the import runs in a child process whose peak RSS is read
 * from `process.resourceUsage()` at its exit by a preloaded module.
 */
import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_USER, Sandbox } from '../src/sandbox/server.js';
import type { SandboxSession } from '../src/sandbox/store.js';

const RSS_TARGET_MB = 150;
const NODE_FLAGS = (process.env.BENCH_NODE_FLAGS ?? '--max-semi-space-size=4 --max-old-space-size=1024').split(' ').filter(Boolean);
// compiled to .build/scripts/: the checkout is two levels up
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

async function main(): Promise<number> {
  const rows = Number(process.argv.slice(2).find((a) => /^\d+$/.test(a)) ?? 200_000);
  const keep = process.argv.includes('--keep');
  const dir = join(root, '.bench');
  mkdirSync(dir, { recursive: true });
  const input = join(dir, `export-${rows}.csv`);
  const mapping = join(dir, 'mapping.yaml');
  const rssFile = join(dir, 'rss.json');
  const preload = join(dir, 'rss-preload.mjs');

  const uuid = (i: number) => `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;
  const sessions: SandboxSession[] = [];
  for (let i = 0; i < rows; i++) {
    const id = `CALL-${String(i).padStart(8, '0')}`;
    sessions.push({ id: uuid(i), type: 'call', external_id: id, file_name: `2025_${id}_IN.mp3`, caller: `372${String(i).padStart(8, '0')}`, start_time: '2025-07-01T00:00:00Z', metadata: i % 3 === 0 ? { crm_statuses: ['Opened'] } : {} });
  }
  const out = createWriteStream(input);
  out.write('Call ID,CSAT,NPS,FCR,Customer ID,CRM Status,Campaign\n');
  for (let i = 0; i < rows; i++) {
    const line = `CALL-${String(i).padStart(8, '0')},${(i % 5) + 1},${i % 11},${i % 2 ? 'Yes' : 'No'},C-${i},Closed;Survey sent,Campaign ${i % 7}\n`;
    if (!out.write(line)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  writeFileSync(mapping, readFileSync(join(root, 'config', 'mapping.example.yaml')));
  writeFileSync(preload, `import { writeFileSync } from 'node:fs';\nprocess.on('exit', () => writeFileSync(${JSON.stringify(rssFile)}, JSON.stringify({ maxRssKb: process.resourceUsage().maxRSS })));\n`);

  const sandbox = new Sandbox({ sessions });
  const url = await sandbox.listen(0);
  process.stdout.write(`bench: ${rows} rows, ${sandbox.store.size} sessions in the sandbox at ${url}\n`);
  const started = Date.now();
  const code = await new Promise<number>((resolve, reject) => {
    // the same V8 flags as the `et-import` bin's shebang line and the Docker image
    const child = spawn(process.execPath, [...NODE_FLAGS, '--import', preload, join(root, 'dist', 'cli.js'), 'run', '-i', input, '-m', mapping, '--report-dir', join(dir, 'report'), '--log-level', 'warn'], {
      cwd: root,
      env: { ...process.env, ET_URL: url, ET_AUTH_KEY: DEFAULT_USER.username, ET_AUTH_SECRET: DEFAULT_USER.password },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    child.on('error', reject);
    child.on('close', (c) => resolve(c ?? 1));
  });
  const seconds = (Date.now() - started) / 1000;
  await sandbox.close();
  const { maxRssKb } = JSON.parse(readFileSync(rssFile, 'utf8')) as { maxRssKb: number };
  const rssMb = maxRssKb / 1024;
  const summary = JSON.parse(readFileSync(join(dir, 'report', 'summary.json'), 'utf8')) as { counts: Record<string, number> };
  const result = { rows, nodeFlags: NODE_FLAGS.join(' '), seconds: Number(seconds.toFixed(1)), rowsPerSecond: Math.round(rows / seconds), peakRssMb: Number(rssMb.toFixed(1)), rssTargetMb: RSS_TARGET_MB, exitCode: code, counts: summary.counts };
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  if (!keep) rmSync(input);
  const ok = code === 0 && summary.counts.updated === rows && rssMb < RSS_TARGET_MB;
  process.stdout.write(ok ? `bench: OK (peak RSS ${rssMb.toFixed(1)} MB < ${RSS_TARGET_MB} MB)\n` : 'bench: FAILED\n');
  return ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
