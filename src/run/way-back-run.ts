import pLimit from 'p-limit';
import { Lifetimes } from '../lifetimes.js';
import { createLogger } from '../logger.js';
import { emptyOutcome } from '../pipeline/read-loop.js';
import type { RowAt } from '../pipeline/row.js';
import { internalError } from '../pipeline/row-results.js';
import { resolveOptions } from '../pipeline/resolver.js';
import { newRunId } from '../report/report-dir.js';
import { rowHash } from '../pipeline/hash.js';
import type { ResumeIndex } from '../state/journal.js';
import { planLog, type ReadLog, undoLogs } from '../way-back/logs.js';
import { settleTarget, type WayBackContext } from '../way-back/settle.js';
import { applyTargets, type Target, undoTargets } from '../way-back/targets.js';
import { firstLogin, loadResume, type OpenParts, openParts } from './open-run.js';
import { resolveRunOptions, type ResolvedOptions, type RunOptions } from './options.js';
import { Progress } from './progress.js';
import type { RunResult } from './run-import.js';
import { finishRun } from './summary.js';

/** What `undo` and `apply` take: a run's options, without an input or a mapping, and the report directories. */
export interface WayBackOptions extends Omit<RunOptions, 'inputs' | 'mapping' | 'mode'> {
  kind: 'undo' | 'apply';
  /** undo: the report directories of the runs to undo; apply: the dry run's. */
  dirs: string[];
}

/**
 * Undoes runs, or applies a dry run's plan: a run like any other (its own report directory,
 * journal, undo log, lock, retries, progress, `--dry-run`, `--resume`, exit codes), whose rows
 * are the sessions the logs name, one each, settled by `settleTarget`.
 */
export async function runWayBack(input: WayBackOptions): Promise<RunResult> {
  const started = new Date();
  const runId = newRunId(started);
  const logger = (input.logger ?? createLogger('info')).child({ run: runId });
  const o = resolveRunOptions({ ...input, mode: input.kind, inputs: input.dirs, mapping: '' }, started);
  const logs = input.kind === 'undo' ? undoLogs(input.dirs) : [planLog(input.dirs[0]!, Math.round((input.maxPlanAge ?? 24) * 3_600_000), started)];
  const targets = input.kind === 'undo' ? undoTargets(logs.flatMap((l) => l.lines)) : applyTargets(logs[0]!.lines);
  const resume = loadResume(o, logger);
  await using held = new Lifetimes();
  const run = await openParts(o, { runId, started, signal: input.signal, of: logs.map((l) => l.dir) }, logger, held);
  logger.info(
    {
      mode: o.mode,
      runId,
      of: logs.map((l) => l.dir),
      sessions: targets.length,
      tornLines: sum(logs, (l) => l.torn),
      reportDir: o.reportDir,
      dryRun: o.dryRun,
    },
    `${o.mode} started`,
  );
  if (!resume && run.client && targets.length > 0) await firstLogin(run.client, run.stop);
  const ctx: WayBackContext = {
    kind: input.kind,
    client: run.client!,
    resolve: resolveOptions(run.client!, o, 1),
    dryRun: o.dryRun,
    force: input.force ?? false,
    absentAs: input.absentAs === 'empty' ? '' : null,
    changes: run.changes && { runId, sink: run.changes },
    stopping: () => run.stop.stopping,
  };
  await settleAll(o, input, run, ctx, targets, logs, resume);
  run.recorder.close();
  await run.report.close();
  const summary = await finishRun(o, {
    ...run,
    started,
    read: emptyOutcome(),
    sources: [],
    notImported: [],
    duplicatesPolicy: 'all',
    notReady: [],
    passedOver: [],
    archived: { moved: [], kept: [] },
    changed: [],
    index: undefined,
    lookup: 'search',
    optionSources: input.optionSources ?? {},
    out: input.out ?? process.stderr,
  });
  return { exitCode: summary.exitCode, counts: summary.counts, reportDir: o.reportDir, stateDir: o.stateDir, summary };
}

/** Every target, at most --concurrency at once; a target the resumed journal has as done is skipped. */
async function settleAll(
  o: ResolvedOptions,
  input: WayBackOptions,
  run: OpenParts,
  ctx: WayBackContext,
  targets: Target[],
  logs: ReadLog[],
  resume: ResumeIndex | undefined,
): Promise<void> {
  // the journal knows a target by the logs it came from and its place among their sessions
  const source = `${o.mode}:${logs.map((l) => l.path).join('|')}`;
  const progress = new Progress(
    targets.length,
    () => ({ done: run.report.counts.total, counts: run.report.counts, limit: run.adaptive?.limit }),
    run.logger,
    o.progressEveryMs,
    input.progressView,
  );
  const limit = pLimit(o.concurrency);
  run.adaptive?.drive(limit);
  progress.start();
  try {
    await Promise.all(targets.map((t, i) => limit(() => settleOne(run, ctx, t, { source, row: i + 1 }, resume))));
  } finally {
    progress.stop(run.stop.stopping);
  }
}

async function settleOne(
  run: OpenParts,
  ctx: WayBackContext,
  t: Target,
  place: { source: string; row: number },
  resume: ResumeIndex | undefined,
): Promise<void> {
  if (run.stop.stopping) return;
  const at: RowAt = { file: t.file, absFile: place.source, header: [], row: { row: place.row, cells: [] }, hash: rowHash(t) };
  const where = `session ${t.session} (${t.file} row ${t.row})`;
  const earlier = resume?.finished(place.source, place.row, at.hash);
  try {
    if (earlier) {
      await run.recorder.record(
        {
          file: t.file,
          row: t.row,
          key: t.find.lookup,
          status: 'skipped',
          sessionId: t.session,
          errorMessage: `finished earlier as ${earlier.status}`,
          earlier: earlier.status,
        },
        at,
      );
      return;
    }
    const result = await settleTarget(ctx, t, where);
    if (result) await run.recorder.record(result, at);
  } catch (e) {
    await internalError(run, e, at, { file: t.file, row: t.row, key: t.find.lookup }, where, (r) => run.recorder.record(r, at));
  }
}

function sum<T>(list: T[], f: (x: T) => number): number {
  return list.reduce((n, x) => n + f(x), 0);
}
