import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import pLimit, { type LimitFunction } from 'p-limit';
import { createClient, type ApiClient } from '../api/client.js';
import { EtError, errorMessage } from '../errors.js';
import { createLogger, type Logger } from '../logger.js';
import { loadMapping } from '../mapping/load.js';
import { emptyOutcome, readAll, type ReadOutcome } from '../pipeline/read-loop.js';
import { estimateRows } from '../input/count.js';
import type { InputSpec } from '../mapping/types.js';
import { Progress } from './progress.js';
import { tryBuildIndex, windowsFromFiles } from './index-build.js';
import type { SessionIndex } from '../pipeline/session-index.js';
import { FreshCopies } from '../pipeline/fresh-copies.js';
import type { Mapping } from '../mapping/types.js';
import { SessionQueue } from '../pipeline/session-queue.js';
import { openSources, type NotImported, type PlannedSource } from '../pipeline/sources.js';
import { TurnGate } from '../pipeline/turn-gate.js';
import { WrittenState } from '../pipeline/written-state.js';
import { displayUrl, scrubValue } from '../redact.js';
import type { Counts } from '../report/statuses.js';
import { ReportWriter } from '../report/writer.js';
import { JOURNAL_FILE, Journal, ResumeIndex } from '../state/journal.js';
import { StateLock } from '../state/lock.js';
import { archiveFile } from './archive.js';
import { changedSince } from '../input/snapshot.js';
import { expandInputs } from './inputs.js';
import { resolveRunOptions, type ResolvedOptions, type RunOptions } from './options.js';
import { Recorder } from './recorder.js';
import { StopControl } from './stop-control.js';
import { EXIT, exitCodeFor, formatEnd, summaryOptions, type ExitCode, type Summary } from './summary.js';

export interface RunResult {
  exitCode: ExitCode;
  counts: Counts;
  reportDir: string;
  stateDir: string;
  summary: Summary;
}

/** After the stop timeout cancelled what was on the wire, how long rows may still take to record. */
const GRACE_MS = 5_000;

/**
 * Runs an import: mapping and inputs are checked before the first request, then each row is
 * mapped, resolved to one session, merged and uploaded, at most `concurrency` rows at a time,
 * while the reader waits. Throws EtError (exit 3) only when nothing could be done.
 */
export async function runImport(input: RunOptions): Promise<RunResult> {
  const started = new Date();
  const o = resolveRunOptions(input, started);
  const logger = input.logger ?? createLogger('info');
  const mapping = await loadMapping(o.mapping);
  const resume = loadResume(o, logger);
  const expanded = expandInputs(o.inputs, o.settleMs, started.getTime());
  for (const n of expanded.notReady) logger.warn(n, 'not ready: the file changed moments ago and may still be arriving; left for a later run (--settle)');
  for (const p of expanded.passedOver) logger.info(p, 'passed over: not an export');
  for (const file of expanded.futureTime) logger.warn({ file }, 'the file was modified "in the future" (a clock is wrong): imported now rather than waiting for it to settle');
  if (expanded.files.length === 0) logger.warn({ inputs: o.inputs }, 'no export to import');
  const { sources, notImported } = await openSources(expanded.files, mapping, expanded.found);
  for (const n of notImported) {
    if (n.note) logger.warn({ file: n.file, reason: n.reason }, 'passed over: a text file without the mapping\'s columns, not an export');
    else logger.error({ file: n.file, reason: n.reason }, 'not imported: the file cannot be used; the folder\'s other exports are');
  }
  const stop = new StopControl({ maxErrors: o.maxErrors, errorStatuses: o.maxErrorsStatuses, circuitBreaker: o.circuitBreaker, stopTimeoutMs: o.stopTimeoutMs, logger });
  const onSignal = () => stop.interrupt();
  input.signal?.addEventListener('abort', onSignal);
  if (input.signal?.aborted) stop.interrupt();
  let report: ReportWriter | undefined;
  let journal: Journal | undefined;
  let client: ApiClient | undefined;
  let lock: StateLock | undefined;
  const outcome = emptyOutcome();
  try {
    // one run per state directory, taken before the journal is touched
    if (o.mode === 'run') lock = StateLock.acquire(o.stateDir, { staleMs: o.lockStaleMs, warn: (msg, holder) => logger.warn({ holder }, msg), onLost: (msg) => stop.fatal(msg) });
    let recorder: Recorder | undefined;
    report = await ReportWriter.create(o.reportDir, (e) => recorder?.onWriteError(e));
    journal = o.mode === 'validate' ? undefined : Journal.open(o.stateDir);
    recorder = new Recorder(report, journal, stop, logger, o.dryRun);
    client = o.mode === 'validate' || !o.connection ? undefined : createClient(o.connection, { maxSockets: o.concurrency, logger, timeoutMs: o.timeoutMs, retries: o.retries, retryBaseMs: o.retryBaseMs, rate: o.rate, maxResponseBytes: o.maxResponseBytes, maxBodyBytes: o.maxBodyBytes, stopSignal: stop.stopSignal, cancelSignal: stop.cancelSignal, onRequest: (answered) => stop.onRequest(answered) });
    logStart(logger, o, resume);
    // A refused login or an unreachable API stops the run here, before any row is touched.
    // A resumed run logs in only when a row needs the API, so resuming a finished run sends nothing.
    if (!resume && client) await firstLogin(client, stop);
    // the flag wins over the mapping's match.lookup
    const lookup = o.lookup ?? mapping.match.lookup;
    // a resumed run lists the window only once a row needs the API: resuming a finished run sends nothing
    if (client && lookup === 'index' && !o.window && !mapping.match.dateColumn) throw new EtError('E_USAGE', 'index mode needs a window: --window FROM..TO, or match.dateColumn in the mapping');
    const listing = client && lookup === 'index' ? onceOnly(() => indexOrStop(o, mapping, sources, client!, stop, logger)) : undefined;
    const holder: IndexHolder = { index: listing && !resume ? await listing() : undefined, later: resume ? listing : undefined };
    const estimate = await estimateTotal(sources, mapping.input);
    await readSafely(o, { sources, mapping, client, report, recorder, stop, resume, logger, index: holder }, new Progress(estimate, () => ({ done: report!.counts.total + outcome.notInShard, counts: report!.counts }), logger, o.progressEveryMs, input.progressView), outcome);
    const changed = changedDuringRun(sources, outcome, logger);
    const archived = archiveDone(o, sources, recorder, stop, logger, started, outcome, changed);
    recorder.close();
    await report.close();
    return await finish(o, input, { started, report, stop, read: outcome, client, logger, sources, duplicatesPolicy: mapping.match.duplicates, notReady: expanded.notReady, passedOver: expanded.passedOver, notImported, archived, changed, index: holder.index, lookup });
  } finally {
    lock?.release();
    stop.dispose();
    input.signal?.removeEventListener('abort', onSignal);
    journal?.close();
    await report?.close();
    await Promise.all(sources.map((s) => s.close()));
    client?.close();
  }
}

function loadResume(o: ResolvedOptions, logger: Logger): ResumeIndex | undefined {
  if (o.resumeDir === undefined) return undefined;
  if (o.resumeOwnState && !existsSync(join(o.resumeDir, JOURNAL_FILE))) {
    logger.info({ stateDir: o.resumeDir }, 'no journal in the state directory yet: starting afresh');
    return undefined;
  }
  try {
    return ResumeIndex.load(o.resumeDir, o.dryRun);
  } catch (e) {
    throw new EtError('E_USAGE', `--resume ${o.resumeDir}: ${errorMessage(e)}`, { cause: e });
  }
}

async function firstLogin(client: ApiClient, stop: StopControl): Promise<void> {
  try {
    // a wrong URL fails in seconds, not after a night of retries
    await client.login(3);
  } catch (e) {
    // a stop during the login (a signal, a report that cannot be written) still ends with the report written
    if (!(e instanceof EtError && e.code === 'E_INTERRUPTED' && stop.stopping)) throw e;
  }
}

interface Wiring {
  sources: PlannedSource[];
  mapping: Awaited<ReturnType<typeof loadMapping>>;
  client: ApiClient | undefined;
  report: ReportWriter;
  recorder: Recorder;
  stop: StopControl;
  resume: ResumeIndex | undefined;
  logger: Logger;
  index: IndexHolder;
}

/** Index mode's index: built before the rows, or (`later`) when the first row needs the API. */
interface IndexHolder {
  index: SessionIndex | undefined;
  later: (() => Promise<SessionIndex | undefined>) | undefined;
}

/**
 * Index mode: rows that may wait for their listing page to be read again (a few MB of rows);
 * groups between their read and their rows' request slots: a group for every 8 requests in flight,
 * at least 2 (more overlap the reads with the writes); and at most two rounds of requests a read,
 * so a merge's copy is at most a read and two round trips old when its PUT leaves (a read a 2 x
 * --concurrency rows at worst: 1.06 requests a row at the default 8).
 */
const FRESH_LOOK_AHEAD = 4096;

function freshCopies(index: SessionIndex, client: ApiClient, o: ResolvedOptions, limit: LimitFunction, stop: StopControl): FreshCopies {
  return new FreshCopies(index, client, { freshMs: o.indexFreshMs, limit, lookAhead: FRESH_LOOK_AHEAD, maxWaitMs: 1000, flushes: Math.max(2, Math.ceil(o.concurrency / 8)), groupMax: o.concurrency * 2, stopSignal: stop.stopSignal });
}

function onceOnly<T>(f: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | undefined;
  return () => (p ??= f());
}

/** Reads and processes every row. A bug that escapes the pipeline stops the run as fatal, with the report written. */
/** `out` fills as rows are read (progress follows it). */
async function readSafely(o: ResolvedOptions, w: Wiring, progress: Progress, out: ReadOutcome): Promise<void> {
  const limit = pLimit(o.concurrency);
  const rows = w.client && {
    mapping: w.mapping,
    client: w.client,
    limit,
    gate: new TurnGate(),
    queue: new SessionQueue(),
    written: new WrittenState(),
    stop: w.stop,
    sink: w.recorder,
    logger: w.logger,
    dryRun: o.dryRun,
    resolve: { pageSize: o.pageSize, maxCandidates: o.maxCandidates },
    maxBodyBytes: o.maxBodyBytes,
    dirty: w.resume ? new Set<string>() : undefined,
    index: w.index.index,
    fresh: w.index.index && w.client ? freshCopies(w.index.index, w.client, o, limit, w.stop) : undefined,
    indexReady: undefined as (() => Promise<void>) | undefined,
    shared: new Map(),
  };
  const later = w.index.later;
  if (rows && later) {
    rows.indexReady = onceOnly(async () => {
      let index: SessionIndex | undefined;
      try {
        index = await later();
      } catch (e) {
        // a refused login or a stop while listing: the run cannot go on
        if (!w.stop.stopping) w.stop.fatal(errorMessage(e));
      }
      w.index.index = index;
      rows.index = index;
      rows.fresh = index && w.client ? freshCopies(index, w.client, o, limit, w.stop) : undefined;
      rows.indexReady = undefined;
    });
  }
  progress.start();
  try {
    await readAll({ sources: w.sources, mapping: w.mapping, rows, sink: w.recorder, stop: w.stop, resume: w.resume, logger: w.logger, concurrency: o.concurrency, lookAhead: w.client && (w.index.index || w.index.later) ? FRESH_LOOK_AHEAD + o.concurrency * 2 : undefined, settle: (inflight) => settle(inflight, w.stop, w.logger), shard: o.shard }, out);
  } catch (e) {
    w.logger.debug({ stack: e instanceof Error ? e.stack : String(e) }, 'internal error');
    w.stop.fatal(`internal error: ${errorMessage(e)} (a bug in et-import; the run can be resumed)`);
  } finally {
    progress.stop();
  }
}

/**
 * Index mode: the sessions of the window (--window, or the files' dates in match.dateColumn),
 * listed once.
 */
async function indexFor(o: ResolvedOptions, mapping: Mapping, sources: PlannedSource[], client: ApiClient, stop: StopControl, logger: Logger): Promise<SessionIndex | undefined> {
  const windows = o.window ? [o.window] : mapping.match.dateColumn ? await windowsFromFiles(sources, mapping) : undefined;
  if (!windows) throw new EtError('E_USAGE', 'index mode needs a window: --window FROM..TO, or match.dateColumn in the mapping');
  if (windows.length === 0) {
    logger.warn({ dateColumn: mapping.match.dateColumn }, 'no date in match.dateColumn: every row is searched for');
    return undefined;
  }
  const started = Date.now();
  const index = await tryBuildIndex(client, mapping, windows, { pageSize: o.pageSize, concurrency: o.concurrency, maxSessions: o.indexMax, logger, stopping: () => stop.stopping });
  if (index) logger.info({ windows: index.windows, pages: index.pages, sessions: index.sessions, ms: Date.now() - started }, 'sessions indexed');
  return index;
}

/**
 * The index, or a stop (exit 3, with the summary written) when it cannot be had: a window larger
 * than --index-max, or a listing that cannot be trusted.
 */
async function indexOrStop(o: ResolvedOptions, mapping: Mapping, sources: PlannedSource[], client: ApiClient, stop: StopControl, logger: Logger): Promise<SessionIndex | undefined> {
  try {
    return await indexFor(o, mapping, sources, client, stop, logger);
  } catch (e) {
    if (!(e instanceof EtError && (e.code === 'E_LISTING' || (e.code === 'E_USAGE' && /--index-max/.test(e.message))))) throw e;
    logger.error({ err: e.message }, 'index mode cannot go on');
    stop.fatal(e.message);
    return undefined;
  }
}

/** The rows of every input, counted quickly before the run; null when one of them cannot be told. */
async function estimateTotal(sources: PlannedSource[], spec: InputSpec): Promise<number | undefined> {
  let total = 0;
  for (const { source } of sources) {
    const n = await estimateRows(source.file, spec, source.snapshot);
    if (n === undefined) return undefined;
    total += n;
  }
  return total;
}

/** Waits for the rows in flight; once requests were cancelled, for at most GRACE_MS more. */
async function settle(inflight: Set<Promise<void>>, stop: StopControl, logger: Logger): Promise<void> {
  if (inflight.size === 0) return;
  const cancelled = stop.cancelSignal.aborted ? Promise.resolve() : once(stop.cancelSignal, 'abort');
  const done = await Promise.race([Promise.all(inflight).then(() => true), cancelled.then(() => delay(GRACE_MS, false, { ref: false }))]);
  if (!done && inflight.size > 0) logger.warn({ inFlight: inflight.size }, 'rows still in flight after their requests were cancelled: leaving them to --resume');
}

function logStart(logger: Logger, o: ResolvedOptions, resume: ResumeIndex | undefined): void {
  const validate = o.mode === 'validate';
  logger.info(
    { mode: o.mode, inputs: o.inputs, reportDir: o.reportDir, stateDir: validate ? undefined : o.stateDir, dryRun: o.dryRun, concurrency: o.concurrency, resume: resume ? { finishedRows: resume.entries, tornLines: resume.tornLines } : undefined, url: o.connection && displayUrl(o.connection.baseUrl) },
    validate ? 'validation started' : 'import started',
  );
}

/**
 * `--archive`: moves each input whose rows all ended well to `<archive>/<YYYY-MM-DD>/`, and marks
 * it in the journal, so that a file delivered again under the same name is imported again. Only
 * after a run that read everything and wrote for real: never for a dry run, validate, or a stop;
 * and only a file that is still the one the run read, of the size it read (see snapshot.ts): one
 * appended, replaced or touched meanwhile stays for the next run, which imports what was added.
 */
function archiveDone(o: ResolvedOptions, sources: PlannedSource[], recorder: Recorder, stop: StopControl, logger: Logger, day: Date, read: ReadOutcome, changedFiles: Changed[]): Archived {
  const done: Archived = { moved: [], kept: [] };
  if (!o.archive || o.dryRun || o.mode !== 'run') return done;
  const s = stop.outcome;
  if (s.fatal !== undefined || s.aborted !== undefined || s.interrupted) return done;
  for (const { source } of sources) {
    if ((recorder.notWell.get(source.file) ?? 0) > 0) continue;
    const unread = read.leftUnread.find((l) => l.file === source.file);
    const changed = unread?.reason ?? changedFiles.find((c) => c.file === source.file)?.reason;
    if (changed) {
      logger.warn({ file: source.file, reason: changed }, 'not archived: the file is not what the run read; the next run takes it');
      done.kept.push({ file: source.file, reason: changed });
      continue;
    }
    try {
      const to = archiveFile(source.file, o.archive, day);
      if (to === undefined) {
        const reason = 'the file is gone (moved or deleted by someone else)';
        logger.warn({ file: source.file, reason }, 'not archived');
        done.kept.push({ file: source.file, reason });
        continue;
      }
      recorder.archived(resolve(source.file));
      done.moved.push({ file: source.file, to });
      logger.info({ file: source.file, to }, 'archived');
    } catch (e) {
      logger.error({ file: source.file, err: errorMessage(e) }, 'cannot archive the file: it stays where it is');
      stop.fatal(errorMessage(e));
    }
  }
  return done;
}

type Changed = { file: string; reason: string };

/**
 * Inputs read to their end that are no longer what the run read (appended, replaced, cut, touched):
 * rows the run did not do may stand in them now, so the run does not exit 0 (the next run does
 * them). One moved or deleted after its rows were read is not among them.
 */
function changedDuringRun(sources: PlannedSource[], read: ReadOutcome, logger: Logger): Changed[] {
  const out: Changed[] = [];
  for (const { source } of sources) {
    if (!read.rowsPerFile.has(source.file) || read.leftUnread.some((l) => l.file === source.file)) continue;
    const reason = changedSince(source.snapshot);
    if (!reason || /is gone/.test(reason)) continue;
    logger.warn({ file: source.file, reason }, 'the input changed while the run read it: what it holds beyond what was read is for the next run');
    out.push({ file: source.file, reason });
  }
  return out;
}

/** Inputs moved to the archive, and those left where they are with why. */
interface Archived {
  moved: { file: string; to: string }[];
  kept: { file: string; reason: string }[];
}

const VERDICTS: Record<number, string> = {
  0: 'every row ended well',
  1: 'finished; some rows did not end well',
  2: 'aborted midway (resumable)',
  3: 'stopped: nothing more could be done',
  4: 'interrupted (resumable)',
};

interface Finished {
  started: Date;
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
}

/** Builds the summary, writes summary.json (or prints it when it cannot be written), prints the end. */
async function finish(o: ResolvedOptions, input: RunOptions, f: Finished): Promise<RunResult> {
  const finished = new Date();
  const counts = f.report.counts;
  const stopped = f.stop.outcome;
  // an export of the folder that could not be used, or one replaced before its rows were read,
  // is work not done: never exit 0 for it
  const inputsLeft = f.notImported.some((n) => !n.note) || f.read.leftUnread.length > 0 || f.changed.length > 0;
  const exitCode = exitCodeFor(stopped, counts, inputsLeft);
  const validate = o.mode === 'validate';
  const summary: Summary = {
    counts,
    startedAt: f.started.toISOString(),
    finishedAt: finished.toISOString(),
    durationMs: finished.getTime() - f.started.getTime(),
    exitCode,
    interrupted: stopped.interrupted,
    aborted: stopped.fatal ?? stopped.aborted ?? null,
    resumable: !validate && exitCode >= EXIT.ABORTED ? `et-import run ... --resume ${o.stateDir}` : null,
    mode: o.mode,
    inputs: f.sources.map((s) => ({ ...s.source.details, file: s.source.file, rowsRead: f.read.rowsPerFile.get(s.source.file) ?? 0 })),
    duplicateKeys: f.read.duplicates,
    failedRows: f.report.failedFiles(),
    stateDir: validate ? null : o.stateDir,
    resumedFrom: o.resumeDir ?? null,
    requests: f.client ? { ...f.client.stats } : null,
    options: summaryOptions(o, input.maxErrors, displayUrl),
    optionSources: input.optionSources ?? {},
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
    index: f.index ? { windows: f.index.windows, pages: f.index.pages, sessionsIndexed: f.index.sessions, fallbackSearches: f.index.fallbackSearches, pagesReadAgain: f.index.pagesReadAgain } : null,
  };
  let summaryAt: string | undefined;
  try {
    summaryAt = await f.report.writeSummary(summary);
  } catch (e) {
    f.logger.error({ err: errorMessage(e) }, 'summary.json cannot be written: the summary follows on stderr');
  }
  let htmlAt: string | undefined;
  try {
    const verdict = VERDICTS[exitCode] ?? 'finished';
    htmlAt = await f.report.writeHtml({ verdict, exitCode, mode: o.mode, dryRun: o.dryRun, inputs: summary.inputs, startedAt: summary.startedAt, durationMs: summary.durationMs, counts, requests: summary.requests ? { ...summary.requests } : null });
  } catch (e) {
    f.logger.error({ err: errorMessage(e) }, 'report.html cannot be written');
  }
  if (counts.total === 0 && exitCode === EXIT.OK && f.sources.length > 0) f.logger.warn({ inputs: o.inputs }, 'the input has a header but no data rows: nothing to do');
  if (f.read.duplicates.rows > 0) f.logger.warn({ duplicates: f.read.duplicates }, `${f.read.duplicates.rows} rows repeat a key seen earlier in the same file (match.duplicates: ${f.duplicatesPolicy})`);
  f.logger.info({ counts, exitCode }, validate ? 'validation finished' : 'import finished');
  // last on stderr: the table, where the report is, and report.html
  (input.out ?? process.stderr).write(formatEnd(scrubValue(summary) as Summary, o.reportDir, summaryAt, htmlAt));
  return { exitCode, counts, reportDir: o.reportDir, stateDir: o.stateDir, summary };
}
