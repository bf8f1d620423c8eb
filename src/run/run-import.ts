import { once } from 'node:events';
import { setTimeout as delay } from 'node:timers/promises';
import type { ApiClient } from '../api/client.js';
import { EtError, errorMessage } from '../errors.js';
import { estimateRows } from '../input/formats.js';
import { Lifetimes } from '../lifetimes.js';
import { createLogger, type Logger } from '../logger.js';
import { loadMapping } from '../mapping/load.js';
import type { Mapping } from '../mapping/types.js';
import { FRESH_LOOK_AHEAD } from '../pipeline/fresh-copies.js';
import { indexForRun } from '../pipeline/index-build.js';
import { emptyOutcome, readAll, type ReadContext, type ReadOutcome } from '../pipeline/read-loop.js';
import type { SessionIndex } from '../pipeline/session-index.js';
import { type IndexSource, RowScheduler } from '../pipeline/row-scheduler.js';
import { openSources, type NotImported, type PlannedSource } from '../pipeline/sources.js';
import { resolveOptions } from '../pipeline/resolver.js';
import { displayUrl } from '../redact.js';
import type { Counts } from '../row-result.js';
import { newRunId } from '../report/report-dir.js';
import type { ResumeIndex } from '../state/journal.js';
import { archiveDone, changedDuringRun } from './archive.js';
import { type ExpandedInputs, findInputs } from './inputs.js';
import { resolveRunOptions, type ResolvedOptions, type RunOptions } from './options.js';
import { Progress } from './progress.js';
import { firstLogin, loadResume, type OpenParts, openParts, type RunStart } from './open-run.js';
import type { StopControl } from './stop-control.js';
import { finishRun, type ExitCode, type Summary } from './summary.js';

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
 * while the reader waits. Throws EtError (exit 3) only when nothing could be done. Wires only:
 * each step is a module's; what the run holds open is closed, in reverse, by `Lifetimes`.
 */
export async function runImport(input: RunOptions): Promise<RunResult> {
  const started = new Date();
  const o = resolveRunOptions(input, started);
  const runId = newRunId(started);
  const logger = (input.logger ?? createLogger('info')).child({ run: runId });
  const mapping = await loadMapping(o.mapping);
  const resume = loadResume(o, logger);
  const found = findInputs(o.inputs, o.settleMs, started, logger);
  await using held = new Lifetimes();
  const run = await openRun(o, { runId, started, signal: input.signal }, mapping, found, logger, held);
  logStart(logger, o, resume, runId);
  // A refused login or an unreachable API stops the run here, before any row is touched.
  // A resumed run logs in only when a row needs the API, so resuming a finished run sends nothing.
  if (!resume && run.client) await firstLogin(run.client, run.stop);
  const lookup = o.lookup ?? mapping.match.lookup;
  const index = run.client && lookup === 'index' ? await indexSource(o, mapping, run, resume !== undefined) : undefined;
  const read = await readEveryRow(o, input, mapping, run, resume, index);
  const changed = changedDuringRun(run.sources, read, logger);
  const archived = archiveDone(o, { ...run, read }, started, changed);
  run.recorder.close();
  await run.report.close();
  const summary = await finishRun(o, {
    ...run,
    started,
    read,
    duplicatesPolicy: mapping.match.duplicates,
    notReady: found.notReady,
    passedOver: found.passedOver,
    archived,
    changed,
    index: index?.current(),
    lookup,
    optionSources: input.optionSources ?? {},
    out: input.out ?? process.stderr,
  });
  return { exitCode: summary.exitCode, counts: summary.counts, reportDir: o.reportDir, stateDir: o.stateDir, summary };
}

/** What a run holds open while its rows are read; each is closed by `held` when the run ends. */
interface OpenRun extends OpenParts {
  sources: PlannedSource[];
  notImported: NotImported[];
}

async function openRun(o: ResolvedOptions, at: RunStart, mapping: Mapping, found: ExpandedInputs, logger: Logger, held: Lifetimes): Promise<OpenRun> {
  const { sources, notImported } = await openSources(found.files, mapping, found.found);
  held.defer(() => Promise.all(sources.map((s) => s.close())));
  logNotImported(notImported, logger);
  return { sources, notImported, ...(await openParts(o, at, logger, held)) };
}

/** Reads every row, with a progress view; in a run, hands each to the row scheduler. */
async function readEveryRow(
  o: ResolvedOptions,
  input: RunOptions,
  mapping: Mapping,
  run: OpenRun,
  resume: ResumeIndex | undefined,
  index: IndexSource | undefined,
): Promise<ReadOutcome> {
  const { sources, stop, report, recorder, client, logger } = run;
  const read = emptyOutcome();
  const total = await estimateTotal(sources, mapping);
  const progress = new Progress(
    total,
    () => ({ done: report.counts.total + read.notInShard, counts: report.counts, limit: run.adaptive?.limit }),
    logger,
    o.progressEveryMs,
    input.progressView,
  );
  const rows = client && scheduler(o, mapping, client, run, resume !== undefined, index);
  const lookAhead = index ? FRESH_LOOK_AHEAD + o.concurrency * 2 : undefined;
  const settleRows = (inflight: Set<Promise<void>>) => settle(inflight, stop, logger);
  const ctx: ReadContext = {
    sources,
    mapping,
    rows,
    sink: recorder,
    stop,
    resume,
    logger,
    concurrency: o.concurrency,
    lookAhead,
    settle: settleRows,
    shard: o.shard,
  };
  await readSafely(ctx, progress, read);
  return read;
}

/**
 * Index mode's index: listed now, or, for a resumed run, when its first row needs the API
 * (resuming a finished run sends nothing).
 */
async function indexSource(o: ResolvedOptions, mapping: Mapping, run: OpenRun, resumed: boolean): Promise<IndexSource> {
  const { sources, stop, logger } = run;
  const client = run.client!;
  if (!o.window && !mapping.match.dateColumn && !mapping.match.keys.some((k) => k.by === 'conversation'))
    throw new EtError('E_USAGE', 'index mode needs a window: --window FROM..TO, or match.dateColumn (or a conversation key) in the mapping');
  let index: SessionIndex | undefined;
  const list = async () =>
    (index = await indexForRun(
      client,
      mapping,
      sources,
      { window: o.window, pageSize: o.pageSize, concurrency: o.concurrency, maxSessions: o.indexMax, logger },
      stop,
    ));
  if (!resumed) await list();
  return { current: () => index, ...(resumed && { later: list }) };
}

function scheduler(o: ResolvedOptions, mapping: Mapping, client: ApiClient, run: OpenRun, resumed: boolean, index: IndexSource | undefined): RowScheduler {
  return new RowScheduler({
    mapping,
    client,
    stop: run.stop,
    sink: run.recorder,
    logger: run.logger,
    changes: run.changes && { runId: run.runId, sink: run.changes },
    adaptive: run.adaptive,
    dryRun: o.dryRun,
    concurrency: o.concurrency,
    resolve: resolveOptions(client, o, mapping.match.datePad),
    maxBodyBytes: o.maxBodyBytes,
    resumed,
    index,
    freshMs: o.indexFreshMs,
  });
}

/** Reads and processes every row. A bug that escapes the pipeline stops the run as fatal, with the report written. */
async function readSafely(ctx: ReadContext, progress: Progress, out: ReadOutcome): Promise<void> {
  progress.start();
  try {
    await readAll(ctx, out);
  } catch (e) {
    ctx.logger.debug({ stack: e instanceof Error ? e.stack : String(e) }, 'internal error');
    ctx.stop.fatal(`internal error: ${errorMessage(e)} (a bug in et-import; the run can be resumed)`);
  } finally {
    progress.stop(ctx.stop.stopping);
  }
}

/** The rows of every input, counted quickly before the run; undefined when one of them cannot be told. */
async function estimateTotal(sources: PlannedSource[], mapping: Mapping): Promise<number | undefined> {
  let total = 0;
  for (const { source } of sources) {
    const n = await estimateRows(source.file, mapping.input, source.snapshot);
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
  if (!done && inflight.size > 0)
    logger.warn({ inFlight: inflight.size }, 'rows still in flight after their requests were cancelled: leaving them to --resume');
}

function logNotImported(notImported: NotImported[], logger: Logger): void {
  for (const n of notImported) {
    if (n.note) logger.warn({ file: n.file, reason: n.reason }, "passed over: a text file without the mapping's columns, not an export");
    else logger.error({ file: n.file, reason: n.reason }, "not imported: the file cannot be used; the folder's other exports are");
  }
}

function logStart(logger: Logger, o: ResolvedOptions, resume: ResumeIndex | undefined, runId: string): void {
  const validate = o.mode === 'validate';
  logger.info(
    {
      mode: o.mode,
      runId,
      inputs: o.inputs,
      reportDir: o.reportDir,
      stateDir: validate ? undefined : o.stateDir,
      dryRun: o.dryRun,
      concurrency: o.concurrency,
      resume: resume ? { finishedRows: resume.entries, tornLines: resume.tornLines } : undefined,
      url: o.connection && displayUrl(o.connection.baseUrl),
    },
    validate ? 'validation started' : 'import started',
  );
}
