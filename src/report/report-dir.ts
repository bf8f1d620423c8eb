import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { writeAtomically } from '../atomic-file.js';
import { EtError, WriteError } from '../errors.js';

/** The first file of every report directory: which run it belongs to, written when the run starts. */
export const RUN_FILE = 'run.json';

export type RunKind = 'run' | 'validate' | 'undo' | 'apply';

/** What `run.json` holds: the run, each part of it (a resume into the same directory adds one), and what it undid or applied. */
export interface RunRecord {
  runId: string;
  kind: RunKind;
  dryRun: boolean;
  startedAt: string;
  /** The journal's directory (null for a validation). */
  stateDir: string | null;
  tool: { name: string; version: string };
  /** Each part: the first run and every resume into this directory. */
  parts: { runId: string; startedAt: string }[];
  /** undo: the report directories undone; apply: the dry run applied. */
  of?: string[];
}

/** A run id: its UTC start and six random hex digits, e.g. `20261202-004512-a1b2c3`. */
export function newRunId(started: Date): string {
  const stamp = started.toISOString().slice(0, 19).replace(/[-:]/g, '').replace('T', '-');
  return `${stamp}-${randomBytes(3).toString('hex')}`;
}

/** `--report-dir` with `{date}` (YYYY-MM-DD) and `{time}` (HH-MM-SS), both UTC at the run's start. */
export function expandReportDir(dir: string, started: Date): string {
  const iso = started.toISOString();
  return dir.replaceAll('{date}', iso.slice(0, 10)).replaceAll('{time}', iso.slice(11, 19).replaceAll(':', '-'));
}

/** Files that show a directory already holds a report, from a version without `run.json` or from anything else. */
const REPORT_FILES = ['results.csv', 'summary.json', 'changes.csv'];

/** How a run may continue a report directory: the journal it resumes, and whether that is a persistent --state-dir. */
export interface Resuming {
  stateDir: string;
  /** `--resume` names the run's own `--state-dir` (a nightly's): only a run that stopped midway is continued. */
  persistent: boolean;
}

/**
 * Claims `dir` for a run: `run.json` is created exclusively, so two runs can never share a
 * report directory. A directory that holds another run's report is refused (exit 3, naming
 * it); a resume of that very run (same kind, same journal) continues it: the record gains a
 * part and the earlier part's report moves to `part-N/` (`keepEarlierPart`). With a persistent
 * state (a nightly), a run that finished (exit 0 or 1) is another night's, never continued.
 */
export function claimReportDir(dir: string, record: RunRecord, resuming: Resuming | undefined): { continued: boolean; record: RunRecord } {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new WriteError(dir, e);
  }
  const path = join(dir, RUN_FILE);
  const text = `${JSON.stringify(record, null, 2)}\n`;
  let fd: number | undefined;
  try {
    fd = openSync(path, 'wx');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new WriteError(path, e);
  }
  if (fd !== undefined) {
    const old = REPORT_FILES.find((f) => holdsText(join(dir, f)));
    try {
      if (old) throw refusal(dir, `its ${old} is the report of an earlier run`);
      writeSync(fd, text);
    } finally {
      closeSync(fd);
    }
    return { continued: false, record };
  }
  const earlier = readRunRecord(dir);
  const same =
    earlier !== undefined &&
    resuming !== undefined &&
    earlier.stateDir === resuming.stateDir &&
    earlier.kind === record.kind &&
    earlier.dryRun === record.dryRun;
  // a run that stopped before its first row (a refused login, a wrong flag) left nothing to keep
  if (earlier && !same && holdsNoRow(dir)) {
    writeAtomically(path, text);
    return { continued: false, record };
  }
  if (!earlier || !same || (resuming.persistent && finished(dir)))
    throw refusal(dir, earlier ? `it holds the report of ${earlier.kind} ${earlier.runId} (started ${earlier.startedAt})` : `its ${RUN_FILE} cannot be read`);
  const merged: RunRecord = { ...earlier, parts: [...earlier.parts, { runId: record.runId, startedAt: record.startedAt }] };
  writeAtomically(path, `${JSON.stringify(merged, null, 2)}\n`);
  keepEarlierPart(dir, merged.parts.length - 1);
  return { continued: true, record: merged };
}

/** The run whose report this is finished (exit 0 or 1): its summary says so. */
function finished(dir: string): boolean {
  try {
    const code = (JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as { exitCode?: unknown }).exitCode;
    return code === 0 || code === 1;
  } catch {
    return false;
  }
}

/**
 * A continued run's earlier part keeps its results.csv, summary.json, report.html and failed rows
 * in `part-N/` (the new part writes its own, of every part: each row once); changes.csv and the
 * way back are appended to.
 */
export function keepEarlierPart(dir: string, part: number): void {
  const names = readdirSync(dir).filter((n) => n === 'results.csv' || n === 'summary.json' || n === 'report.html' || /^failed(-\d+)?\.csv$/.test(n));
  if (names.length === 0) return;
  const to = join(dir, `part-${part}`);
  try {
    mkdirSync(to, { recursive: true });
    for (const n of names) renameSync(join(dir, n), join(to, n));
  } catch (e) {
    throw new WriteError(to, e);
  }
}

/** No row was recorded: results.csv has at most its header, no write was logged, no summary written, no earlier part kept. */
function holdsNoRow(dir: string): boolean {
  if (holdsText(join(dir, 'summary.json')) || holdsText(join(dir, 'undo.jsonl')) || holdsText(join(dir, 'plan.jsonl'))) return false;
  if (readdirSync(dir).some((n) => /^part-\d+$/.test(n))) return false;
  // only the file's start is read: a header line and nothing after it
  let fd: number | undefined;
  try {
    fd = openSync(join(dir, 'results.csv'), 'r');
    const head = Buffer.alloc(64 * 1024);
    const text = head.subarray(0, readSync(fd, head, 0, head.length, 0)).toString('utf8');
    const nl = text.indexOf('\n');
    return nl === -1 || (nl === text.length - 1 && statSync(join(dir, 'results.csv')).size === text.length);
  } catch {
    return true;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function holdsText(path: string): boolean {
  try {
    const st = statSync(path);
    return st.isFile() && st.size > 0;
  } catch {
    return false;
  }
}

function refusal(dir: string, why: string): EtError {
  return new EtError(
    'E_USAGE',
    `--report-dir ${dir}: ${why}, and a report is never overwritten; give another --report-dir (a fixed setting may use {date} and {time}), or continue that run with --resume of its state directory`,
  );
}

/** The record of a report directory, or undefined when it has none (or it cannot be read). */
export function readRunRecord(dir: string): RunRecord | undefined {
  try {
    const r = JSON.parse(readFileSync(join(dir, RUN_FILE), 'utf8')) as RunRecord;
    return typeof r.runId === 'string' && Array.isArray(r.parts) ? r : undefined;
  } catch {
    return undefined;
  }
}
