import type { Argv } from 'yargs';
import { findReportDirs, formatHistory, history, reportDirsOfState } from '../../way-back/history.js';
import type { Io, Outcome } from '../io.js';

export const describe =
  'list the runs (run, apply, undo) of report folders or of a state directory: id, kind, start, exit code, counts, and what undid or applied them';
export const builder = <T>(y: Argv<T>) =>
  y
    .positional('root', { type: 'string', array: true, describe: 'report directories, or folders holding them [default: reports]' })
    .option('state-dir', { type: 'string', describe: 'the runs that used this state directory (its runs.jsonl)' })
    .option('json', { type: 'boolean', default: false, describe: 'print JSON instead of a table' });

interface Args {
  root?: string[];
  stateDir?: string;
  json: boolean;
}

export async function handler(a: Args, io: Io, outcome: Outcome): Promise<void> {
  const roots = a.root && a.root.length > 0 ? a.root : a.stateDir ? [] : ['reports'];
  const dirs = [...new Set([...roots.flatMap((r) => findReportDirs(r)), ...(a.stateDir ? reportDirsOfState(a.stateDir) : [])])];
  const entries = history(dirs);
  io.stdout.write(a.json ? `${JSON.stringify(entries, null, 2)}\n` : formatHistory(entries));
  outcome.code = 0;
}
