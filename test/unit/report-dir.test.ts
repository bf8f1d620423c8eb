import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { claimReportDir, expandReportDir, keepEarlierPart, type RunRecord } from '../../src/report/report-dir.js';

const dir = () => mkdtempSync(join(tmpdir(), 'et-rd-'));
const record = (runId: string, stateDir = '/s'): RunRecord => ({
  runId,
  kind: 'run',
  dryRun: false,
  startedAt: '2026-01-01T00:00:00.000Z',
  stateDir,
  tool: { name: 'et-import', version: '0' },
  parts: [{ runId, startedAt: '2026-01-01T00:00:00.000Z' }],
});
const withRows = (d: string) => writeFileSync(join(d, 'results.csv'), 'file,row\nin.csv,2\n');

describe('a report directory', () => {
  it('is claimed once: a second run is refused, naming the first', () => {
    const d = dir();
    expect(claimReportDir(d, record('a'), undefined).continued).toBe(false);
    withRows(d);
    expect(() => claimReportDir(d, record('b'), undefined)).toThrow(/holds the report of run a .* never overwritten/);
  });

  it('a report of an older version (results.csv, no run.json) is refused too', () => {
    const d = dir();
    withRows(d);
    expect(() => claimReportDir(d, record('b'), undefined)).toThrow(/its results.csv is the report of an earlier run/);
  });

  it('a run that recorded no row left nothing to keep: the next one takes the directory', () => {
    const d = dir();
    claimReportDir(d, record('a'), undefined);
    writeFileSync(join(d, 'results.csv'), 'file,row\n');
    expect(claimReportDir(d, record('b'), undefined).record.runId).toBe('b');
  });

  it("a resume of the same journal continues it with a new part; a nightly's persistent state continues only a run that stopped", () => {
    const d = dir();
    claimReportDir(d, record('a'), undefined);
    withRows(d);
    const c = claimReportDir(d, record('b'), { stateDir: '/s', persistent: false });
    expect([c.continued, c.record.parts.map((p) => p.runId)]).toEqual([true, ['a', 'b']]);
    expect(() => claimReportDir(d, record('c'), { stateDir: '/other', persistent: false })).toThrow(/never overwritten/);
    writeFileSync(join(d, 'summary.json'), '{"exitCode": 4}');
    expect(claimReportDir(d, record('d'), { stateDir: '/s', persistent: true }).continued).toBe(true);
    writeFileSync(join(d, 'summary.json'), '{"exitCode": 0}');
    expect(() => claimReportDir(d, record('e'), { stateDir: '/s', persistent: true })).toThrow(/never overwritten/);
  });

  it('a continued directory is never taken by another run, even before its new part records a row', () => {
    const d = dir();
    claimReportDir(d, record('a'), undefined);
    withRows(d);
    expect(claimReportDir(d, record('b'), { stateDir: '/s', persistent: false }).continued).toBe(true);
    writeFileSync(join(d, 'results.csv'), 'file,row\n');
    expect(() => claimReportDir(d, record('c', '/other'), undefined)).toThrow(/never overwritten/);
    expect(readFileSync(join(d, 'part-1', 'results.csv'), 'utf8')).toBe('file,row\nin.csv,2\n');
  });

  it("keeps an earlier part's results, summary, page and failed rows in part-N; the log of changes and the way back stay", () => {
    const d = dir();
    for (const f of ['summary.json', 'report.html', 'failed.csv', 'failed-2.csv', 'results.csv', 'changes.csv', 'undo.jsonl']) writeFileSync(join(d, f), f);
    mkdirSync(join(d, 'state'));
    keepEarlierPart(d, 1);
    expect(readFileSync(join(d, 'part-1', 'failed-2.csv'), 'utf8')).toBe('failed-2.csv');
    expect(readFileSync(join(d, 'part-1', 'results.csv'), 'utf8')).toBe('results.csv');
    expect(['summary.json', 'results.csv'].map((f) => existsSync(join(d, f)))).toEqual([false, false]);
    expect(['changes.csv', 'undo.jsonl', 'state'].map((f) => existsSync(join(d, f)))).toEqual([true, true, true]);
  });

  it('{date} and {time} are the UTC start', () => {
    expect(expandReportDir('r/nightly-{date}T{time}', new Date('2026-03-04T05:06:07.890Z'))).toBe('r/nightly-2026-03-04T05-06-07');
  });
});
