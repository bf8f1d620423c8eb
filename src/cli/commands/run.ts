import type { ArgumentsCamelCase, Argv } from 'yargs';
import { readConnection } from '../../api/connection.js';
import { createLogger, type LogLevel } from '../../logger.js';
import { parseShard, runImport } from '../../run/index.js';
import type { Io, Outcome } from '../io.js';
import { chooseOutput } from '../terminal.js';
import { runOptions } from '../options.js';
import { attachSignals } from '../signals.js';

export const describe = 'import CSV/XLSX rows as metadata on the matching sessions';
export const builder = <T>(y: Argv<T>) => runOptions(y);
type Args = ArgumentsCamelCase<Awaited<ReturnType<typeof builder>['argv']>>;

export async function handler(a: Args, io: Io, outcome: Outcome): Promise<void> {
  const sources = outcome.sources ?? {};
  const terminal = chooseOutput(a.logFormat, io.stderr);
  const logger = createLogger(a.logLevel as LogLevel, terminal?.destination);
  const connection = readConnection(io.env, { url: a.url, insecure: a.insecure, caFile: a.caFile, apiVersion: a.apiVersion });
  if (!connection.sslVerify) logger.warn({ url: connection.baseUrl }, 'TLS certificate verification is OFF (ET_SSL_VERIFY=false / --insecure)');
  const controller = new AbortController();
  io.signal?.addEventListener('abort', () => controller.abort());
  const detach = attachSignals(controller, logger.warn.bind(logger), io.stderr);
  try {
    const result = await runImport({
      inputs: a.input,
      mapping: a.mapping,
      connection,
      concurrency: a.concurrency,
      dryRun: a.dryRun,
      pageSize: a.pageSize,
      maxCandidates: a.maxCandidates,
      timeoutMs: a.timeout * 1000,
      retries: a.retries,
      retryBaseMs: a.retryDelay,
      circuitBreaker: a.circuitBreaker,
      stopTimeoutMs: a.stopTimeout * 1000,
      maxResponseBytes: Math.round(a.maxResponseMb * 1024 * 1024),
      maxBodyBytes: Math.round(a.maxBodyKb * 1024),
      lockStaleMs: a.lockStale * 1000,
      settleMs: a.settle * 1000,
      optionSources: sources,
      logger,
      progressEveryMs: a.progressEvery * 1000,
      ...(terminal && { progressView: terminal }),
      signal: controller.signal,
      out: io.stderr,
      ...(a.reportDir !== undefined && { reportDir: a.reportDir }),
      ...(a.stateDir !== undefined && { stateDir: a.stateDir }),
      ...(a.resume !== undefined && { resume: a.resume }),
      ...(a.rate !== undefined && { rate: a.rate }),
      ...(a.maxErrors !== undefined && { maxErrors: a.maxErrors }),
      ...(a.maxErrorsStatuses !== undefined && { maxErrorsStatuses: [a.maxErrorsStatuses] }),
      ...(a.archive !== undefined && { archive: a.archive }),
      ...(a.lookup !== undefined && { lookup: a.lookup }),
      ...(a.window !== undefined && { window: a.window }),
      indexMax: a.indexMax,
      indexFreshMs: a.indexFresh * 1000,
      ...(a.shard !== undefined && { shard: parseShard(a.shard) }),
    });
    outcome.code = result.exitCode;
  } finally {
    detach();
  }
}
