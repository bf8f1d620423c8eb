import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox } from '../../src/sandbox/server.js';
import { runCli } from '../helpers/cli.js';
import { PASSWORD, USER, configFile, envFor, fixture, startSandbox, tempDir } from '../helpers/sandbox.js';

let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await startSandbox();
});
afterAll(() => sandbox.close());

function writeTemp(name: string, text: string): string {
  const path = join(tempDir(), name);
  writeFileSync(path, text);
  return path;
}

describe('et-import CLI', () => {
  it('exit 0 when every row ends well; off a terminal the table goes to stdout, stderr is JSON lines only', async () => {
    const input = writeTemp('ok.csv', 'Call ID,Customer ID\nCALL-1002,C-77\nCALL-2003,C-300\n');
    const mapping = writeTemp('m.yaml', 'match: { column: Call ID }\nfields: { customer_id: Customer ID }\n');
    const reportDir = tempDir('et-report-');
    const r = await runCli(['run', '-i', input, '-m', mapping, '--report-dir', reportDir], envFor(sandbox.url));
    expect(r.stdout).toMatch(/updated\s+1/);
    expect(r.stdout).toMatch(/unchanged\s+1/);
    expect(r.code).toBe(0);
  });

  it('exit 1 when the run finished and some rows did not end well', async () => {
    const reportDir = tempDir('et-report-');
    const r = await runCli(
      ['run', '-i', fixture('crm-export.csv'), '-m', configFile('mapping.example.yaml'), '--report-dir', reportDir, '--dry-run'],
      envFor(sandbox.url),
    );
    expect(r.code).toBe(1);
    expect(readdirSync(reportDir).sort()).toEqual([
      'changes.csv',
      'failed.csv',
      'plan.jsonl',
      'report.html',
      'results.csv',
      'run.json',
      'state',
      'summary.json',
    ]);
    expect(readdirSync(join(reportDir, 'state')).sort()).toEqual(['journal.jsonl', 'runs.jsonl']);
  });

  it('exit 3 with a message naming the config path, before any request', async () => {
    const mapping = writeTemp('bad.yaml', 'match: { column: Call ID }\nfields:\n  csi: { column: CSAT, type: int }\n');
    const before = sandbox.requests().length;
    const r = await runCli(['run', '-i', fixture('crm-export.csv'), '-m', mapping], envFor(sandbox.url));
    expect(r.code).toBe(3);
    expect(r.said).toContain(
      'line 3: fields.csi.type: expected one of string | integer | number | boolean | date | datetime | list, got "int" (did you mean "integer"?)',
    );
    expect(r.said).not.toMatch(/\n\s+at /); // no stack trace
    expect(sandbox.requests().length).toBe(before);
  });

  it('exit 3 for a missing input, a refused login, an unreachable API, missing settings and bad flags', async () => {
    const args = ['run', '-i', fixture('crm-export.csv'), '-m', configFile('mapping.example.yaml'), '--report-dir', tempDir()];
    const missing = await runCli(['run', '-i', 'nope.csv', '-m', configFile('mapping.example.yaml')], envFor(sandbox.url));
    expect([missing.code, missing.said]).toEqual([3, expect.stringContaining('nope.csv: file not found')]);

    const refused = await runCli(args, { ...envFor(sandbox.url), ET_AUTH_SECRET: 'wrong-password' });
    expect([refused.code, refused.said]).toEqual([3, expect.stringContaining(`login refused by ${sandbox.url} for user ${USER}`)]);
    // off a terminal even the message that ends the command is a JSON line, with its code and exit code
    for (const r of [missing, refused]) {
      const lines = r.stderr
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(lines.every((l) => typeof l.time === 'string' && !Number.isNaN(Date.parse(l.time as string)))).toBe(true);
      expect(lines.at(-1)).toMatchObject({ level: 50, exitCode: 3, code: expect.stringMatching(/^E_/) });
    }
    const onTerminal = await runCli(['run', '-i', 'nope.csv', '-m', configFile('mapping.example.yaml'), '--log-format', 'pretty'], envFor(sandbox.url));
    expect(onTerminal.stderr).toMatch(/^et-import: error: .*nope\.csv: file not found$/m);

    const unreachable = await runCli([...args, '--retries', '0'], envFor('http://127.0.0.1:9'));
    expect([unreachable.code, unreachable.said]).toEqual([3, expect.stringContaining('cannot reach http://127.0.0.1:9 (ECONNREFUSED)')]);

    const noUrl = await runCli(args, {});
    expect([noUrl.code, noUrl.said]).toEqual([3, expect.stringContaining('set ET_URL')]);

    const typo = await runCli([...args, '--concurency', '4'], envFor(sandbox.url));
    expect([typo.code, typo.said]).toEqual([3, expect.stringContaining('Unknown argument: concurency (--concurency: did you mean --concurrency?)')]);
    // an option of other commands is not "did you mean" itself: it says which commands take it
    const elsewhere = await runCli(['validate', '-i', fixture('crm-export.csv'), '-m', configFile('mapping.example.yaml'), '--lock-stale', '5']);
    expect([elsewhere.code, elsewhere.said]).toEqual([3, expect.stringContaining('(--lock-stale is an option of run, undo, apply, not of validate)')]);
    const envTypo = await runCli(args, { ...envFor(sandbox.url), ET_IMPORT_CONCURENCY: '4' });
    expect([envTypo.code, envTypo.said]).toEqual([3, expect.stringContaining('did you mean ET_IMPORT_CONCURRENCY?')]);

    const badFlag = await runCli([...args, '--concurrency', '0'], envFor(sandbox.url));
    expect([badFlag.code, badFlag.said]).toEqual([3, expect.stringContaining('--concurrency must be a whole number of at least 1')]);
    // a bad number is refused as the user typed it, before the connection is read (no ET_URL here)
    const negative = await runCli([...args, '--timeout', '-2'], {});
    expect([negative.code, negative.said]).toEqual([3, expect.stringContaining('--timeout must be a number above 0, got -2 s')]);
    const withUnit = await runCli([...args, '--timeout', '30s'], {});
    expect([withUnit.code, withUnit.said]).toEqual([3, expect.stringContaining('--timeout must be a number, got "30s"')]);
    const window = await runCli([...args, '--window', 'June'], {});
    expect([window.code, window.said]).toEqual([3, expect.stringContaining('--window must be FROM..TO as dates')]);
  });

  it('--help documents the exit codes', async () => {
    const r = await runCli(['run', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('--dry-run');
    const top = await runCli(['--help']);
    expect(top.stdout).toContain('3  nothing could be done');
  });

  it('never writes the password or a token to logs, reports or error messages', async () => {
    const reportDir = tempDir('et-report-');
    const inUrl = new URL(sandbox.url);
    inUrl.username = encodeURIComponent(USER);
    inUrl.password = encodeURIComponent(PASSWORD);
    const outputs: string[] = [];
    const runs = [
      await runCli(
        [
          'run',
          '-i',
          fixture('crm-export.csv'),
          fixture('crm-export.xlsx'),
          '-m',
          configFile('mapping.example.yaml'),
          '--report-dir',
          reportDir,
          '--log-level',
          'trace',
        ],
        { ET_URL: inUrl.toString() },
      ),
      // each run its own report directory: two runs never share one, and the default is named by the second
      await runCli(
        [
          'run',
          '-i',
          fixture('crm-export.csv'),
          '-m',
          configFile('mapping.example.yaml'),
          '--log-level',
          'trace',
          '--retries',
          '0',
          '--report-dir',
          join(reportDir, 'refused'),
        ],
        {
          ET_URL: `http://${encodeURIComponent(USER)}:${encodeURIComponent(PASSWORD)}@127.0.0.1:9`,
        },
      ),
      await runCli(
        ['run', '-i', fixture('crm-export.csv'), '-m', configFile('mapping.example.yaml'), '--log-level', 'trace', '--report-dir', join(reportDir, 'wrong')],
        {
          ...envFor(sandbox.url),
          ET_AUTH_SECRET: `${PASSWORD}-wrong`,
        },
      ),
    ];
    expect(runs.map((r) => r.code)).toEqual([1, 3, 3]);
    for (const r of runs) outputs.push(r.stdout, r.stderr);
    for (const f of readdirSync(reportDir, { recursive: true, withFileTypes: true }))
      if (f.isFile()) outputs.push(readFileSync(join(f.parentPath, f.name), 'utf8'));
    const all = outputs.join('\n');
    expect(all).toContain('"level":10'); // trace logging really was on
    expect(sandbox.issuedTokens.length).toBeGreaterThan(0);
    for (const secret of [PASSWORD, encodeURIComponent(PASSWORD), `${PASSWORD}-wrong`, ...sandbox.issuedTokens]) expect(all).not.toContain(secret);
  });
});

describe('et-import CLI, stopping', () => {
  it('SIGTERM mid-run: rows in flight finish, report and journal are written, exit 4; resume completes the run', async () => {
    const slow = await startSandbox({ latencyMs: 20 });
    try {
      const lines = ['Call ID,Customer ID'];
      for (let i = 0; i < 200; i++) lines.push(`CALL-1004,C-${i}`);
      const input = writeTemp('many.csv', `${lines.join('\n')}\n`);
      const mapping = writeTemp('m.yaml', 'match: { column: Call ID }\nfields: { customer_id: Customer ID }\n');
      const reportDir = tempDir('et-report-');
      const running = runCli(['run', '-i', input, '-m', mapping, '--report-dir', reportDir], envFor(slow.url));
      // wait until the run is under way, then ask it to stop
      for (let i = 0; i < 100 && slow.requests().filter((q) => q.method === 'PUT').length < 3; i++) await new Promise((r) => setTimeout(r, 50));
      running.child.kill('SIGTERM');
      const r = await running;
      expect(r.code).toBe(4);
      const summary = JSON.parse(readFileSync(join(reportDir, 'summary.json'), 'utf8'));
      expect(summary.interrupted).toBe(true);
      expect(summary.counts.total).toBeGreaterThan(0);
      expect(summary.counts.total).toBeLessThan(200);
      expect(summary.counts.total).toBe(summary.counts.updated);
      const results = readFileSync(join(reportDir, 'results.csv'), 'utf8').trim().split('\r\n');
      expect(results.length - 1).toBe(summary.counts.total);
      const journal = readFileSync(join(reportDir, 'state', 'journal.jsonl'), 'utf8')
        .trim()
        .split('\n');
      expect(journal).toHaveLength(summary.counts.total);

      // resume completes the run without redoing what was finished
      const putsBefore = slow.requests().filter((q) => q.method === 'PUT').length;
      const resumed = await runCli(['run', '-i', input, '-m', mapping, '--report-dir', tempDir('et-report-'), '--resume', reportDir], envFor(slow.url));
      expect(resumed.code).toBe(0);
      expect(resumed.stdout).toMatch(new RegExp(`skipped\\s+${summary.counts.total}\\b`));
      expect(slow.requests().filter((q) => q.method === 'PUT').length - putsBefore).toBe(200 - summary.counts.total);
      expect(slow.store.get('4f5a6b7c-8d9e-4f0a-9b1c-2d3e4f506172')!.metadata.customer_id).toBe('C-199');
    } finally {
      await slow.close();
    }
  });

  it('exit 2 when an input breaks off midway; the rows read before are reported', async () => {
    // 3,000 good rows (several read chunks), then a quote that is never closed
    const good = Array.from({ length: 3000 }, () => 'CALL-1002,C-77');
    const input = writeTemp('broken.csv', `Call ID,Customer ID\n${good.join('\n')}\nCALL-1003,"C-9\nCALL-1004,C-1\n`);
    const mapping = writeTemp('m.yaml', 'match: { column: Call ID }\nfields: { customer_id: Customer ID }\n');
    const reportDir = tempDir('et-report-');
    const r = await runCli(['run', '-i', input, '-m', mapping, '--report-dir', reportDir, '--log-level', 'error'], envFor(sandbox.url));
    expect(r.code).toBe(2);
    const summary = JSON.parse(readFileSync(join(reportDir, 'summary.json'), 'utf8'));
    expect(summary.aborted).toMatch(/broken\.csv: cannot parse the file: the quoted cell opened on line 3002 is never closed/);
    // the rows of the chunks read before the break are all reported, and all unchanged
    expect(summary.counts.total).toBeGreaterThan(1000);
    expect(summary.counts.total).toBe(summary.counts.unchanged);
  });

  it('exit 3, not a resumable 2, when an input breaks before any row is read; the message names the line the quote opened on', async () => {
    const input = writeTemp('early.csv', 'Call ID,Customer ID\nCALL-1004,"C-1\nCALL-1003,D\nCALL-1002,E\n');
    const mapping = writeTemp('m.yaml', 'match: { column: Call ID }\nfields: { customer_id: Customer ID }\n');
    for (const args of [
      ['run', '--report-dir', tempDir('et-report-')],
      ['validate', '--report-dir', tempDir('et-report-')],
    ]) {
      const r = await runCli([...args, '-i', input, '-m', mapping], envFor(sandbox.url));
      expect(r.code).toBe(3);
      expect(r.said).toContain('early.csv: cannot parse the file: the quoted cell opened on line 2 is never closed');
      expect(r.said).not.toContain('header but no data rows');
      // validate has no journal to resume
      if (args[0] === 'validate') expect(r.said).not.toContain('--resume');
    }
  });
});
