import type { ArgumentsCamelCase, Argv } from 'yargs';
import { runWayBack } from '../../run/way-back-run.js';
import type { Io, Outcome } from '../io.js';
import { commandOptions, optionValues } from '../options.js';
import { withRunEnv } from '../run-env.js';

export const describe =
  "write exactly a dry run's plan (plan.jsonl), without reading the input or the mapping again; a session changed since is a conflict, not written";
export const builder = <T>(y: Argv<T>) => commandOptions(y, 'apply').positional('plan', { type: 'string', describe: "the dry run's report directory" });
type Args = ArgumentsCamelCase<Record<string, unknown>>;

export async function handler(a: Args, io: Io, outcome: Outcome): Promise<void> {
  const dirs = [a.plan as string];
  await withRunEnv(a, io, outcome, (env) => runWayBack({ ...optionValues(a, 'apply'), ...env, kind: 'apply', dirs }));
}
