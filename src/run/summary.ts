import { join } from 'node:path';
import type { ApiClient, ApiStats } from '../api/client.js';
import { errorMessage } from '../errors.js';
import { nextSteps } from './next-steps.js';
import type { Logger } from '../logger.js';
import type { ReadOutcome } from '../pipeline/read-loop.js';
import type { DuplicateKeys } from '../pipeline/row.js';
import type { SessionIndex } from '../pipeline/session-index.js';
import type { NotImported, PlannedSource } from '../pipeline/sources.js';
import { displayUrl, scrubValue } from '../redact.js';
import type { RunKind, RunRecord } from '../report/report-dir.js';
import type { ReportWriter } from '../report/writer.js';
import { fileDigest, TOOL } from '../version.js';
import type { Archived, Changed } from './archive.js';
import { OK_STATUSES, type Counts, type Status } from '../row-result.js';
import { formatSummaryTable } from '../report/writer.js';
import type { AdaptiveLimit } from '../api/adaptive-limit.js';
import type { Latency, RunMetrics } from './metrics.js';
import type { ResolvedOptions } from './options.js';
import type { StopControl, StopOutcome } from './stop-control.js';

export const EXIT = { OK: 0, ROWS_FAILED: 1, ABORTED: 2, FATAL: 3, INTERRUPTED: 4 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** What `summary.json` holds. */
export interface Summary {
  /** This part's id (each log line carries it as `run`), and every part of the run (a resume into its own report directory adds one). */
  runId: string;
  parts: { runId: string; startedAt: string }[];
  tool: { name: string; version: string };
  /** sha256 of the mapping file the run used. */
  mappingDigest: string | null;
  /** undo: the report directories undone; apply: the dry run applied; otherwise null. */
  of: string[] | null;
  /** Counts of every part. */
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
  mode: RunKind;
  inputs: ({ file: string; rowsRead: number } & Record<string, string | number>)[];
  duplicateKeys: DuplicateKeys;
  failedRows: { file: string; inputs: string[] }[];
  stateDir: string | null;
  resumedFrom: string | null;
  requests: ApiStats | null;
  /** Per endpoint (login, search, listing, put): requests timed and their latency in ms (count, p50, p90, p99, max); null when no request was sent. */
  latency: Latency | null;
  /** `--concurrency auto`: the limit's range, where it ended and its changes over time (seconds since the start); null with a fixed concurrency. */
  concurrency: ReturnType<AdaptiveLimit['report']> | null;
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
  /**
   * The values the run actually used, named as the flags are (camelCase) and in their units
   * (`timeout` in seconds, `maxBodyKb`): every option of run/option-table.ts a run takes, and where
   * the API is (never a secret).
   */
  options: { url: string | null; apiVersion: string | null; sslVerify: boolean | null; dryRun: boolean } & Record<string, unknown>;
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

export function summaryOptions(o: ResolvedOptions, displayUrl: (u: string) => string): Summary['options'] {
  return {
    ...o.used,
    url: o.connection ? displayUrl(o.connection.baseUrl) : null,
    apiVersion: o.connection?.apiVersion ?? null,
    sslVerify: o.connection?.sslVerify ?? null,
    dryRun: o.dryRun,
  };
}

/** The end-of-run text on stderr: what happened, the table, where the report is, how to finish. */
export function formatEnd(
  s: Summary,
  reportDir: string,
  summaryAt: string | undefined,
  htmlAt?: string,
  top: { column: string; value: string; expected: string; count: number }[] = [],
): string {
  const lines: string[] = [''];
  if (s.options.dryRun) lines.push('dry run: nothing was written');
  if (s.aborted) lines.push(`run stopped: ${s.aborted}`);
  if (s.interrupted) lines.push('run interrupted');
  // the most frequent problems by column and value, and where the rows are to fix them
  if (top.length > 0)
    lines.push(
      'top problems:',
      ...top.map((p) => `  ${p.column}: ${p.value === '' ? '(empty)' : JSON.stringify(p.value)} × ${p.count} (expected ${p.expected})`),
    );
  for (const f of s.failedRows) lines.push(`rows to fix and feed back (et-import run -i ...): ${join(reportDir, f.file)}`);
  let text = `${lines.join('\n')}\n${formatSummaryTable(s.counts, { durationMs: s.durationMs, reportDir })}`;
  if (s.resumable) text += `  to finish it: ${s.resumable.replace(/^et-import \w+ \.\.\. /, '')}\n`;
  if (!summaryAt) text += `  summary.json could not be written; the summary:\n${JSON.stringify(s, null, 2)}\n`;
  if (htmlAt) text += `  open ${htmlAt}\n`;
  if (s.mode === 'validate')
    text += '  validate is offline: whether the sessions hold the keys, and in which shape (E_SHAPE_CHANGE), is checked by run --dry-run\n';
  return text;
}

const VERDICTS: Record<number, string> = {
  0: 'every row ended well',
  1: 'finished; some rows did not end well',
  2: 'aborted midway (resumable)',
  3: 'stopped: nothing more could be done',
  4: 'interrupted (resumable)',
};

/** What a run hands to its end: the report, how it stopped, what was read, found and archived. */
export interface Finished {
  started: Date;
  metrics: RunMetrics;
  adaptive: AdaptiveLimit | undefined;
  runId: string;
  record: RunRecord;
  report: ReportWriter;
  stop: StopControl;
  read: ReadOutcome;
  client: ApiClient | undefined;
  logger: Logger;
  sources: PlannedSource[];
  duplicatesPolicy: string;
  notReady: { file: string; modifiedSecondsAgo: number }[];
  passedOver: { file: string; reason: string }[];
  notImported: NotImported[];
  archived: Archived;
  changed: Changed[];
  index: SessionIndex | undefined;
  lookup: 'search' | 'index';
  optionSources: Record<string, 'flag' | 'env' | 'config'>;
  out: { write(s: string): unknown };
}

/** What summary.json holds, from what the run did. */
export function buildSummary(o: ResolvedOptions, f: Finished, displayUrl: (u: string) => string): Summary {
  const finished = new Date();
  const counts = f.report.counts;
  const stopped = f.stop.outcome;
  // an export of the folder that could not be used, or one replaced before its rows were read,
  // is work not done: never exit 0 for it
  const inputsLeft = f.notImported.some((n) => !n.note) || f.read.leftUnread.length > 0 || f.changed.length > 0;
  const exitCode = exitCodeFor(stopped, counts, inputsLeft);
  const validate = o.mode === 'validate';
  return {
    runId: f.runId,
    parts: f.record.parts,
    tool: TOOL,
    mappingDigest: o.mapping ? fileDigest(o.mapping) : null,
    of: f.record.of ?? null,
    counts,
    startedAt: f.started.toISOString(),
    finishedAt: finished.toISOString(),
    durationMs: finished.getTime() - f.started.getTime(),
    exitCode,
    interrupted: stopped.interrupted,
    aborted: stopped.fatal ?? stopped.aborted ?? null,
    resumable: !validate && exitCode >= EXIT.ABORTED ? `et-import ${o.mode} ... --resume ${o.stateDir}` : null,
    mode: o.mode,
    inputs: f.sources.map((s) => ({ ...s.source.details, file: s.source.file, rowsRead: f.read.rowsPerFile.get(s.source.file) ?? 0 })),
    duplicateKeys: f.read.duplicates,
    failedRows: f.report.failedFiles(),
    stateDir: validate ? null : o.stateDir,
    resumedFrom: o.resumeDir ?? null,
    requests: f.client ? { ...f.client.stats } : null,
    latency: null,
    concurrency: f.adaptive?.report() ?? null,
    options: summaryOptions(o, displayUrl),
    optionSources: f.optionSources,
    notReady: f.notReady,
    passedOver: [...f.passedOver, ...f.notImported.filter((n) => n.note).map((n) => ({ file: n.file, reason: n.reason }))],
    notImported: f.notImported.filter((n) => !n.note).map((n) => ({ file: n.file, reason: n.reason })),
    archived: f.archived.moved,
    notArchived: f.archived.kept,
    leftUnread: f.read.leftUnread,
    changedDuringRun: f.changed,
    shard: o.shard ? `${o.shard.index}/${o.shard.count}` : null,
    notInShard: f.read.notInShard,
    lookup: f.lookup,
    index: f.index
      ? {
          windows: f.index.windows,
          pages: f.index.pages,
          sessionsIndexed: f.index.sessions,
          fallbackSearches: f.index.fallbackSearches,
          pagesReadAgain: f.index.pagesReadAgain,
        }
      : null,
  };
}

/** Writes summary.json (or prints it when it cannot be written) and report.html, logs the end, prints the table. */
export async function finishRun(o: ResolvedOptions, f: Finished): Promise<Summary> {
  const summary = buildSummary(o, f, displayUrl);
  if (f.client) summary.latency = await f.metrics.latency();
  const { counts, exitCode } = summary;
  let summaryAt: string | undefined;
  try {
    summaryAt = await f.report.writeSummary(summary);
  } catch (e) {
    f.logger.error({ err: errorMessage(e) }, 'summary.json cannot be written: the summary follows on stderr');
  }
  let htmlAt: string | undefined;
  try {
    const verdict = VERDICTS[exitCode] ?? 'finished';
    htmlAt = await f.report.writeHtml({
      verdict,
      exitCode,
      mode: o.mode,
      dryRun: o.dryRun,
      inputs: summary.inputs,
      startedAt: summary.startedAt,
      durationMs: summary.durationMs,
      counts,
      requests: summary.requests ? { ...summary.requests } : null,
      latency: summary.latency,
      next: nextSteps(o, summary),
    });
  } catch (e) {
    f.logger.error({ err: errorMessage(e) }, 'report.html cannot be written');
  }
  if (o.mode !== 'validate') {
    const req = summary.requests;
    f.metrics.finish(
      { counts, retries: req?.retries ?? 0, throttled: req?.throttled ?? 0, durationMs: summary.durationMs, exitCode, kind: o.mode, dryRun: o.dryRun },
      o.metrics,
    );
    await f.metrics.export(o.metrics, { exitCode, dryRun: o.dryRun }, f.logger);
  }
  if (counts.total === 0 && exitCode === EXIT.OK && f.sources.length > 0)
    f.logger.warn({ inputs: o.inputs }, 'the input has a header but no data rows: nothing to do');
  if (f.read.duplicates.rows > 0)
    f.logger.warn(
      { duplicates: f.read.duplicates },
      `${f.read.duplicates.rows} rows repeat a key seen earlier in the same file (match.duplicates: ${f.duplicatesPolicy})`,
    );
  // the last log line: what a cron log or a log system needs of the run, in one JSON line; then
  // the table, where the report is and report.html (on a terminal last, else on stdout)
  logFinished(f.logger, o, summary, htmlAt);
  f.out.write(formatEnd(scrubValue(summary) as Summary, o.reportDir, summaryAt, htmlAt, f.report.digest.values.slice(0, 5)));
  return summary;
}

/** The run's last log line: what a cron log or a log system needs of it, in one JSON line. */
function logFinished(logger: Logger, o: Pick<ResolvedOptions, 'mode' | 'reportDir'>, summary: Summary, htmlAt: string | undefined): void {
  const req = summary.requests;
  const exitCode = summary.exitCode;
  logger.info(
    {
      exitCode,
      verdict: VERDICTS[exitCode],
      ...(summary.aborted && { stopped: summary.aborted }),
      reportDir: o.reportDir,
      ...(htmlAt && { html: htmlAt }),
      durationMs: summary.durationMs,
      counts: summary.counts,
      ...(req && { requests: { total: req.requests, retries: req.retries, throttled: req.throttled } }),
    },
    o.mode === 'validate' ? 'validation finished' : o.mode === 'run' ? 'import finished' : `${o.mode} finished`,
  );
}
