import type { ArgumentsCamelCase, Argv } from 'yargs';
import { runWayBack } from '../../run/way-back-run.js';
import type { Io, Outcome } from '../io.js';
import { commandOptions, optionValues } from '../options.js';
import { withRunEnv } from '../run-env.js';

export const describe = 'restore what sessions held before the runs of these report directories (newest first); a field changed since is kept and reported';
export const builder = <T>(y: Argv<T>) =>
  commandOptions(y, 'undo').positional('runs', { type: 'string', array: true, describe: 'report directories of the runs to undo' });
type Args = ArgumentsCamelCase<Record<string, unknown>>;

export async function handler(a: Args, io: Io, outcome: Outcome): Promise<void> {
  const dirs = (a.runs as string[] | undefined) ?? [];
  await withRunEnv(a, io, outcome, (env) => runWayBack({ ...optionValues(a, 'undo'), ...env, kind: 'undo', dirs }));
}
