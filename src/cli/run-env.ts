import { readConnection } from '../api/connection.js';
import type { Connection } from '../api/connection.js';
import { createLogger, type Logger, type LogLevel } from '../logger.js';
import type { ProgressView } from '../run/progress.js';
import type { Io, Outcome } from './io.js';
import { attachSignals } from './signals.js';
import { chooseOutput } from './terminal.js';

/** What a command that writes hands its run: the logger and view for this terminal (or log), the connection, the signals. */
export interface RunEnv {
  logger: Logger;
  connection: Connection;
  progressView?: ProgressView;
  signal: AbortSignal;
  out: { write(s: string): unknown };
  optionSources: Record<string, 'flag' | 'env' | 'config'>;
}

/**
 * Runs `go` as `run`, `undo` and `apply` all run: logs to the terminal or as JSON lines, reads
 * the connection from ET_* and the flags, turns SIGINT/SIGTERM into a stop, and reports the exit code.
 */
export async function withRunEnv(a: Record<string, unknown>, io: Io, outcome: Outcome, go: (env: RunEnv) => Promise<{ exitCode: number }>): Promise<void> {
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
  const detach = attachSignals(controller, logger.warn.bind(logger));
  try {
    const result = await go({
      logger,
      connection,
      ...(terminal && { progressView: terminal }),
      signal: controller.signal,
      // off a terminal stderr carries JSON lines only: the end-of-run table goes to stdout
      out: terminal ? io.stderr : io.stdout,
      optionSources: outcome.sources ?? {},
    });
    outcome.code = result.exitCode;
  } finally {
    detach();
  }
}
