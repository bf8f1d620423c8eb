import type { ApiStats } from '../api/client.js';
import type { DuplicateKeys } from '../pipeline/row.js';
import { OK_STATUSES, type Counts, type Status } from '../report/statuses.js';
import { formatSummaryTable } from '../report/writer.js';
import type { ResolvedOptions } from './options.js';
import type { StopOutcome } from './stop-control.js';

export const EXIT = { OK: 0, ROWS_FAILED: 1, ABORTED: 2, FATAL: 3, INTERRUPTED: 4 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** What `summary.json` holds. */
export interface Summary {
  counts: Counts;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  exitCode: ExitCode;
  interrupted: boolean;
  /** Why the run stopped early (fatal or aborted), or null. */
  aborted: string | null;
  /** The command line that finishes a stopped run, or null. */
  resumable: string | null;
  mode: 'run' | 'validate';
  inputs: ({ file: string; rowsRead: number } & Record<string, string | number>)[];
  duplicateKeys: DuplicateKeys;
  failedRows: { file: string; inputs: string[] }[];
  stateDir: string | null;
  resumedFrom: string | null;
  requests: ApiStats | null;
  /** Where each option that is not a default came from: a flag, an ET_IMPORT_* variable or --config. */
  optionSources: Record<string, 'flag' | 'env' | 'config'>;
  /** Files found in a drop folder that changed too recently: a later run takes them. */
  notReady: { file: string; modifiedSecondsAgo: number }[];
  /** Files found in a folder that are not exports (other extensions, `~$` owner files, dot files, notes): passed over. */
  passedOver: { file: string; reason: string }[];
  /** Exports found in a folder that could not be used (unreadable, or without the mapping's columns): the run exits 1 at least. */
  notImported: { file: string; reason: string }[];
  /** Inputs moved to --archive. */
  archived: { file: string; to: string }[];
  /** Inputs --archive left where they are although their rows ended well, and why (appended, replaced, gone). */
  notArchived: { file: string; reason: string }[];
  /** Inputs replaced or cut between the header check and their rows: not read, left for a later run. */
  leftUnread: { file: string; reason: string }[];
  /** Inputs that changed (grew, were replaced) while the run read them: the run exits 1 at least; the next run does the rest. */
  changedDuringRun: { file: string; reason: string }[];
  /** `i/n` with --shard, or null. */
  shard: string | null;
  /** Rows of other shards: read, not reported. */
  notInShard: number;
  lookup: 'search' | 'index';
  /** Index mode: the windows listed, pages, sessions indexed, and the rows' searches it still took. */
  index: { windows: string[]; pages: number; sessionsIndexed: number; fallbackSearches: number; pagesReadAgain: number } | null;
  /** The values the run actually used. */
  options: {
    mapping: string;
    url: string | null;
    apiVersion: string | null;
    sslVerify: boolean | null;
    concurrency: number;
    dryRun: boolean;
    pageSize: number;
    maxCandidates: number;
    timeoutMs: number;
    retries: number;
    retryBaseMs: number;
    rate: number | null;
    maxErrors: string | null;
    maxErrorsStatuses: string[];
    circuitBreaker: number;
    stopTimeoutMs: number;
    maxResponseBytes: number;
    maxBodyBytes: number;
  };
}

/** The exit code: a fatal stop, then an interruption, then an abort, then whether every row ended well. */
export function exitCodeFor(stop: StopOutcome, counts: Counts, inputsLeft = false): ExitCode {
  if (stop.fatal !== undefined) return EXIT.FATAL;
  if (stop.interrupted) return EXIT.INTERRUPTED;
  if (stop.aborted !== undefined) return EXIT.ABORTED;
  if (inputsLeft) return EXIT.ROWS_FAILED;
  const allWell = (Object.keys(counts) as (Status | 'total')[]).every((s) => s === 'total' || counts[s] === 0 || OK_STATUSES.has(s));
  return allWell ? EXIT.OK : EXIT.ROWS_FAILED;
}

export function summaryOptions(o: ResolvedOptions, maxErrors: string | number | undefined, displayUrl: (u: string) => string): Summary['options'] {
  return {
    mapping: o.mapping,
    url: o.connection ? displayUrl(o.connection.baseUrl) : null,
    apiVersion: o.connection?.apiVersion ?? null,
    sslVerify: o.connection?.sslVerify ?? null,
    concurrency: o.concurrency,
    dryRun: o.dryRun,
    pageSize: o.pageSize,
    maxCandidates: o.maxCandidates,
    timeoutMs: o.timeoutMs,
    retries: o.retries,
    retryBaseMs: o.retryBaseMs,
    rate: o.rate ?? null,
    maxErrors: maxErrors === undefined ? null : String(maxErrors),
    maxErrorsStatuses: [...o.maxErrorsStatuses],
    circuitBreaker: o.circuitBreaker,
    stopTimeoutMs: o.stopTimeoutMs,
    maxResponseBytes: o.maxResponseBytes,
    maxBodyBytes: o.maxBodyBytes,
  };
}

/** The end-of-run text on stderr: what happened, the table, where the report is, how to finish. */
export function formatEnd(s: Summary, reportDir: string, summaryAt: string | undefined, htmlAt?: string): string {
  const lines: string[] = [''];
  if (s.options.dryRun) lines.push('dry run: nothing was written');
  if (s.aborted) lines.push(`run stopped: ${s.aborted}`);
  if (s.interrupted) lines.push('run interrupted');
  let text = `${lines.join('\n')}\n${formatSummaryTable(s.counts, { durationMs: s.durationMs, reportDir })}`;
  if (s.resumable) text += `  to finish it: ${s.resumable.replace(/^et-import run \.\.\. /, '')}\n`;
  if (!summaryAt) text += `  summary.json could not be written; the summary:\n${JSON.stringify(s, null, 2)}\n`;
  if (htmlAt) text += `  open ${htmlAt}\n`;
  return text;
}
