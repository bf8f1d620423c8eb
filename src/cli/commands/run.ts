import type { ArgumentsCamelCase, Argv } from 'yargs';
import { runImport } from '../../run/index.js';
import type { Io, Outcome } from '../io.js';
import { commandOptions, optionValues } from '../options.js';
import { withRunEnv } from '../run-env.js';

export const describe = 'import CSV/XLSX rows as metadata on the matching sessions';
export const builder = <T>(y: Argv<T>) => commandOptions(y, 'run');
type Args = ArgumentsCamelCase<Record<string, unknown>>;

export async function handler(a: Args, io: Io, outcome: Outcome): Promise<void> {
  await withRunEnv(a, io, outcome, (env) => runImport({ ...optionValues(a, 'run'), ...env }));
}
