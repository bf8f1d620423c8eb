import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type ChangeLine, isChangeLine, PLAN_FILE, UNDO_FILE } from '../change-line.js';
import { EtError } from '../errors.js';
import { readRunRecord, type RunRecord } from '../report/report-dir.js';

/** A report directory's way back, read: its record and its lines (a torn last line left out and counted). */
export interface ReadLog {
  dir: string;
  path: string;
  record: RunRecord;
  lines: ChangeLine[];
  torn: number;
}

/** Reads a JSON Lines change log; a line that does not parse (a crash mid-write) is counted, not used. */
export function readChangeLog(path: string): { lines: ChangeLine[]; torn: number } {
  const lines: ChangeLine[] = [];
  let torn = 0;
  if (!existsSync(path)) return { lines, torn };
  for (const text of readFileSync(path, 'utf8').split('\n')) {
    if (text === '') continue;
    try {
      const v: unknown = JSON.parse(text);
      if (isChangeLine(v)) lines.push(v);
      else torn++;
    } catch {
      torn++;
    }
  }
  return { lines, torn };
}

function recordOf(dir: string, command: string): RunRecord {
  const record = readRunRecord(dir);
  if (!record) {
    const why = existsSync(dir) ? `it holds no ${'run.json'} (not the report directory of a run of this version)` : 'no such directory';
    throw new EtError('E_USAGE', `${command} ${dir}: ${why}`);
  }
  return record;
}

/**
 * The undo logs of the report directories to undo, each checked: a dry run wrote nothing and is
 * refused (its plan is applied with `apply`, not undone); a run that wrote nothing has nothing
 * to undo and says so.
 */
export function undoLogs(dirs: string[]): ReadLog[] {
  return dirs.map((d) => {
    const dir = resolve(d);
    const record = recordOf(dir, 'undo');
    if (record.kind === 'validate' || record.dryRun)
      throw new EtError('E_USAGE', `undo ${dir}: a ${record.dryRun ? 'dry run' : 'validation'} (${record.runId}) wrote nothing; there is nothing to undo`);
    const path = join(dir, UNDO_FILE);
    if (!existsSync(path)) throw new EtError('E_USAGE', `undo ${dir}: no ${UNDO_FILE} (the run wrote before undo logs existed, or wrote nothing)`);
    return { dir, path, record, ...readChangeLog(path) };
  });
}

/** The plan of a dry run's report directory; refused when it is not a dry run's, or older than `maxAgeMs`. */
export function planLog(d: string, maxAgeMs: number, now: Date): ReadLog {
  const dir = resolve(d);
  const record = recordOf(dir, 'apply');
  if (!record.dryRun)
    throw new EtError(
      'E_USAGE',
      `apply ${dir}: not a dry run's report (${record.kind} ${record.runId} wrote for real); apply takes the report directory of a --dry-run`,
    );
  const path = join(dir, PLAN_FILE);
  if (!existsSync(path)) throw new EtError('E_USAGE', `apply ${dir}: no ${PLAN_FILE}`);
  const age = now.getTime() - Date.parse(record.startedAt);
  if (!(age <= maxAgeMs))
    throw new EtError(
      'E_USAGE',
      `apply ${dir}: the plan was made ${Math.round(age / 3_600_000)} h ago (${record.startedAt}), more than --max-plan-age ${maxAgeMs / 3_600_000} h; make a new dry run`,
    );
  return { dir, path, record, ...readChangeLog(path) };
}
