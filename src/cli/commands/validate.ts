import type { ArgumentsCamelCase, Argv } from 'yargs';
import { createLogger, type LogLevel } from '../../logger.js';
import { runImport } from '../../run/index.js';
import type { Io, Outcome } from '../io.js';
import { chooseOutput } from '../terminal.js';
import { inputOptions } from '../options.js';

export const describe = 'check exports against a mapping without touching the API: every check run makes before the network, over every row';
export const builder = <T>(y: Argv<T>) => inputOptions(y, 'warn');
type Args = ArgumentsCamelCase<Awaited<ReturnType<typeof builder>['argv']>>;

export async function handler(a: Args, io: Io, outcome: Outcome): Promise<void> {
  const terminal = chooseOutput(a.logFormat, io.stderr);
  const result = await runImport({
    mode: 'validate',
    inputs: a.input,
    mapping: a.mapping,
    logger: createLogger(a.logLevel as LogLevel, terminal?.destination),
    progressEveryMs: a.progressEvery * 1000,
    ...(terminal && { progressView: terminal }),
    out: io.stderr,
    ...(a.reportDir !== undefined && { reportDir: a.reportDir }),
  });
  outcome.code = result.exitCode;
}
