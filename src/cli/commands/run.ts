import type { ArgumentsCamelCase, Argv } from 'yargs';
import { readConnection } from '../../api/connection.js';
import { createLogger, type LogLevel } from '../../logger.js';
import { runImport } from '../../run/index.js';
import type { Io, Outcome } from '../io.js';
import { chooseOutput } from '../terminal.js';
import { commandOptions, optionValues } from '../options.js';
import { attachSignals } from '../signals.js';

export const describe = 'import CSV/XLSX rows as metadata on the matching sessions';
export const builder = <T>(y: Argv<T>) => commandOptions(y, 'run');
type Args = ArgumentsCamelCase<Record<string, unknown>>;

export async function handler(a: Args, io: Io, outcome: Outcome): Promise<void> {
  const sources = outcome.sources ?? {};
  const terminal = chooseOutput(a.logFormat as 'json' | 'pretty' | undefined, io.stderr);
  const logger = createLogger(a.logLevel as LogLevel, terminal?.destination);
  const connection = readConnection(io.env, {
    url: a.url as string | undefined,
    insecure: a.insecure as boolean,
    caFile: a.caFile as string | undefined,
    apiVersion: a.apiVersion as string | undefined,
  });
  if (!connection.sslVerify) logger.warn({ url: connection.baseUrl }, 'TLS certificate verification is OFF (ET_SSL_VERIFY=false / --insecure)');
  const controller = new AbortController();
  io.signal?.addEventListener('abort', () => controller.abort());
  const detach = attachSignals(controller, logger.warn.bind(logger), io.stderr);
  try {
    const result = await runImport({
      ...optionValues(a, 'run'),
      connection,
      optionSources: sources,
      logger,
      ...(terminal && { progressView: terminal }),
      signal: controller.signal,
      out: io.stderr,
    });
    outcome.code = result.exitCode;
  } finally {
    detach();
  }
}
