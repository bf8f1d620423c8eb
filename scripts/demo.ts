/**
 * `npm run demo`: starts the sandbox on a free port with the fixture sessions, runs the real CLI
 * on the fixture exports three times, prints what happened and where the reports are, stops
 * the sandbox. Exits 0 when every step ended as expected.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_USER, Sandbox, parseSessions } from '../src/sandbox/server.js';

// compiled to .build/scripts/: the checkout is two levels up
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const cli = join(root, 'dist', 'cli.js');

const CALL_1001 = '5ef1ce61-f10a-4c18-badb-5b0f71a75c98';

interface Step {
  title: string;
  command: 'run' | 'undo';
  args: string[];
  expectedExit: number;
  /** Why that exit code is the one expected. */
  why: string;
}

async function main(): Promise<number> {
  const seed = parseSessions(JSON.parse(readFileSync(join(root, 'fixtures', 'sessions.json'), 'utf8')));
  if (!seed.ok) throw new Error(seed.error);
  const sandbox = new Sandbox({ sessions: seed.value.sessions });
  const url = await sandbox.listen(0);
  const stamp = new Date()
    .toISOString()
    .replace(/[:]/g, '-')
    .replace(/\.\d+Z$/, 'Z');
  const reports = join(root, 'reports', `demo-${stamp}`);
  say(`Sandbox of the Ender Turing API listening on ${url} with ${sandbox.store.size} sessions.`);

  const steps: Step[] = [
    {
      title: 'Import the CRM exports (CSV and XLSX) by call ID',
      command: 'run',
      args: ['-i', 'fixtures/crm-export.csv', 'fixtures/crm-export.xlsx', '-m', 'config/mapping.example.yaml', '--report-dir', join(reports, '1-import')],
      expectedExit: 1,
      why: 'the fixtures hold bad rows on purpose (values out of range, call IDs no session holds, a ticket ID two sessions share, a locked session the API refuses): each is in failed.csv with why; every other row is written',
    },
    {
      title: 'Run the same import again: appended lists are not doubled, nothing is rewritten',
      command: 'run',
      args: ['-i', 'fixtures/crm-export.csv', 'fixtures/crm-export.xlsx', '-m', 'config/mapping.example.yaml', '--report-dir', join(reports, '2-again')],
      expectedExit: 1,
      why: 'the same bad rows fail again; the good ones are now unchanged, so no PUT is sent for them',
    },
    {
      title: 'Dry run matching by audio file name',
      command: 'run',
      args: ['-i', 'fixtures/recordings.csv', '-m', 'config/mapping.audio-filename.yaml', '--dry-run', '--report-dir', join(reports, '3-dry-run')],
      expectedExit: 1,
      why: 'recordings.csv names files no session holds, on purpose: those rows are unmatched; the others would be written (would_update), nothing is sent',
    },
    {
      title: 'Undo steps 2 and 1: every session holds again what it held before the demo (keys the import added are null)',
      command: 'undo',
      args: [join(reports, '2-again'), join(reports, '1-import'), '--report-dir', join(reports, '4-undo')],
      expectedExit: 0,
      why: 'every write of steps 1 and 2 is undone and nothing else changed them meanwhile',
    },
  ];
  const before = sandbox.store.get(CALL_1001)?.metadata;
  say(`Session of CALL-1001 holds: ${JSON.stringify(before)}`);

  let ok = true;
  try {
    for (const [i, step] of steps.entries()) {
      say(`\n== ${i + 1}. ${step.title}\n$ et-import ${step.command} ${step.args.map((a) => (a.startsWith(root) ? relative(root, a) : a)).join(' ')}`);
      const before = countPuts(sandbox);
      const code = await runCli([step.command, ...step.args, '--log-level', 'warn'], {
        ET_URL: url,
        ET_AUTH_KEY: DEFAULT_USER.username,
        ET_AUTH_SECRET: DEFAULT_USER.password,
      });
      const reportDir = step.args[step.args.indexOf('--report-dir') + 1]!;
      if (step.command === 'run' && i === 0) say(`Session of CALL-1001 now holds: ${JSON.stringify(sandbox.store.get(CALL_1001)?.metadata)}`);
      say(
        `exit code ${code}${code === 1 ? ' (some rows did not end well: see failed.csv)' : ''}; PUT requests: ${countPuts(sandbox).sent - before.sent} (refused by the API: ${countPuts(sandbox).refused - before.refused}); report: ${relative(process.cwd(), reportDir)}/`,
      );
      say(code === step.expectedExit ? `   expected: ${step.why}` : `   expected exit ${step.expectedExit}: ${step.why}`);
      if (code !== step.expectedExit) {
        say(`!! expected exit code ${step.expectedExit}`);
        ok = false;
      }
    }
    say(`\nAfter the undo, the session of CALL-1001 holds: ${JSON.stringify(sandbox.store.get(CALL_1001)?.metadata)}`);
    say(`Reports: ${relative(process.cwd(), reports)}/ (report.html, results.csv, changes.csv, failed.csv, summary.json per step)`);
  } finally {
    await sandbox.close();
  }
  say(ok ? '\nDemo finished: every step ended as expected.' : '\nDemo finished with unexpected results.');
  return ok ? 0 : 1;
}

function say(s: string): void {
  process.stdout.write(`${s}\n`);
}

function countPuts(sandbox: Sandbox): { sent: number; refused: number } {
  let sent = 0;
  let refused = 0;
  for (const [k, v] of Object.entries(sandbox.stats.requests)) {
    if (!k.startsWith('PUT ')) continue;
    sent += v;
    if (!k.endsWith(' 200')) refused += v;
  }
  return { sent, refused };
}

function runCli(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], { cwd: root, env: { ...process.env, ...env }, stdio: 'inherit' });
    child.on('error', reject);
    child.on('close', (code) => resolve(code ?? 1));
  });
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`demo failed: ${(err as Error).message}\n`);
    process.exit(1);
  },
);
