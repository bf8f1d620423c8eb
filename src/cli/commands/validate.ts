import type { ArgumentsCamelCase, Argv } from 'yargs';
import { createLogger, type LogLevel } from '../../logger.js';
import { runImport } from '../../run/index.js';
import type { Io, Outcome } from '../io.js';
import { chooseOutput } from '../terminal.js';
import { commandOptions, optionValues } from '../options.js';

export const describe = 'check exports against a mapping without touching the API: every check run makes before the network, over every row';
export const builder = <T>(y: Argv<T>) => commandOptions(y, 'validate');
type Args = ArgumentsCamelCase<Record<string, unknown>>;

export async function handler(a: Args, io: Io, outcome: Outcome): Promise<void> {
  const terminal = chooseOutput(a.logFormat as 'json' | 'pretty' | undefined, io.stderr);
  const result = await runImport({
    ...optionValues(a, 'validate'),
    mode: 'validate',
    logger: createLogger(a.logLevel as LogLevel, terminal?.destination),
    ...(terminal && { progressView: terminal }),
    // off a terminal stderr carries JSON lines only: the table goes to stdout
    out: terminal ? io.stderr : io.stdout,
  });
  outcome.code = result.exitCode;
}
