import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox } from '../../src/sandbox/server.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { configFile, envFor, fixture, startSandbox, tempDir } from '../helpers/sandbox.js';

/** A run that cannot write its own files ends with exit 3, naming the file and the OS error, blaming nothing else. */
function expectWriteFailure(r: CliResult, file: string, reason: RegExp): void {
  expect(r.code).toBe(3);
  expect(r.said).toContain(file);
  expect(r.said).toMatch(reason);
  expect(r.said).not.toMatch(/unhandled|uncaught/i);
  expect(r.said).not.toMatch(/\n\s+at .+:\d+:\d+/); // no stack trace
  expect(r.said).not.toMatch(/input could not be read|could not be read to the end/);
}

describe('a journal or report that cannot be written', () => {
  let sandbox: Sandbox;
  beforeAll(async () => {
    sandbox = await startSandbox();
  });
  afterAll(() => sandbox.close());
  const args = (reportDir: string, ...more: string[]) => [
    'run',
    '-i',
    fixture('crm-export.csv'),
    '-m',
    configFile('mapping.example.yaml'),
    '--report-dir',
    reportDir,
    ...more,
  ];

  it('a journal on a full disk (/dev/full): exit 3, the journal and "no space" named, summary.json written', async () => {
    const reportDir = tempDir();
    const stateDir = tempDir();
    symlinkSync('/dev/full', join(stateDir, 'journal.jsonl'));
    const r = await runCli(args(reportDir, '--state-dir', stateDir), envFor(sandbox.url));
    expectWriteFailure(r, join(stateDir, 'journal.jsonl'), /no space left on device \(ENOSPC\)/);
    const summary = JSON.parse(readFileSync(join(reportDir, 'summary.json'), 'utf8')) as { exitCode: number; aborted: string; resumable: string };
    expect(summary.exitCode).toBe(3);
    expect(summary.aborted).toContain('journal.jsonl');
    expect(summary.resumable).toContain('--resume');
  });

  it('results.csv on a full disk: exit 3, results.csv and "no space" named', async () => {
    const reportDir = tempDir();
    symlinkSync('/dev/full', join(reportDir, 'results.csv'));
    const r = await runCli(args(reportDir), envFor(sandbox.url));
    expectWriteFailure(r, join(reportDir, 'results.csv'), /no space left on device \(ENOSPC\)/);
    expect(existsSync(join(reportDir, 'summary.json'))).toBe(true);
  });

  it('failed.csv that cannot be opened (a directory in its place): exit 3, EISDIR named', async () => {
    const reportDir = tempDir();
    mkdirSync(join(reportDir, 'failed.csv'));
    const r = await runCli(args(reportDir), envFor(sandbox.url));
    expectWriteFailure(r, join(reportDir, 'failed.csv'), /is a directory \(EISDIR\)/);
  });

  it('a report directory that cannot be made: exit 3 before any request, naming it', async () => {
    const parent = tempDir();
    writeFileSync(join(parent, 'blocker'), 'a file where a folder should be');
    // a sandbox of its own: the runs above may leave cancelled requests arriving late
    const quiet = await startSandbox();
    try {
      const r = await runCli(args(join(parent, 'blocker', 'report')), envFor(quiet.url));
      expectWriteFailure(r, join(parent, 'blocker', 'report'), /not a directory \(ENOTDIR\)|already exists \(EEXIST\)/);
      expect(quiet.requests()).toHaveLength(0);
    } finally {
      await quiet.close();
    }
  });

  it('summary.json that cannot be written: the summary is printed instead (stdout off a terminal)', async () => {
    const reportDir = tempDir();
    mkdirSync(join(reportDir, 'summary.json'));
    const r = await runCli(args(reportDir), envFor(sandbox.url));
    expect(r.code).toBe(1); // the rows ran; the fixture has bad rows on purpose
    expect(r.stdout).toContain('summary.json could not be written');
    expect(r.stdout).toMatch(/"exitCode": 1/);
  });
});
