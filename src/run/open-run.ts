import { appendFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type ApiClient, createClient } from '../api/client.js';
import { PLAN_FILE, UNDO_FILE } from '../change-line.js';
import { EtError, errorMessage } from '../errors.js';
import type { Lifetimes } from '../lifetimes.js';
import type { Logger } from '../logger.js';
import { claimReportDir, readRunRecord, type RunRecord } from '../report/report-dir.js';
import { ReportWriter } from '../report/writer.js';
import { compactJournal } from '../state/compact.js';
import { JOURNAL_FILE, Journal, ResumeIndex } from '../state/journal.js';
import { StateLock } from '../state/lock.js';
import { WriteAheadLog } from '../state/write-ahead.js';
import { TOOL } from '../version.js';
import { AdaptiveLimit } from '../api/adaptive-limit.js';
import { type Endpoint, RunMetrics } from './metrics.js';
import { defaultOf } from './option-table.js';
import { clientOptions, type ResolvedOptions, stopRules } from './options.js';
import { Recorder } from './recorder.js';
import { StopControl } from './stop-control.js';

/** The runs a state directory has served, one line each: what `history --state-dir` reads. */
export const RUNS_FILE = 'runs.jsonl';

/** What every run holds open while it works (run, validate, undo, apply); each is closed by `held` when the run ends. */
export interface OpenParts {
  stop: StopControl;
  report: ReportWriter;
  recorder: Recorder;
  client: ApiClient | undefined;
  logger: Logger;
  runId: string;
  /** The report directory's record: its parts, when a resume continues it. */
  record: RunRecord;
  /** Each write's before-values (a dry run: its plan), durable before the write is sent. */
  changes: WriteAheadLog | undefined;
  metrics: RunMetrics;
  /** `--concurrency auto`: the limit the request slots follow. */
  adaptive: AdaptiveLimit | undefined;
}

export interface RunStart {
  runId: string;
  started: Date;
  signal: AbortSignal | undefined;
  /** undo: the report directories undone; apply: the dry run applied. */
  of?: string[];
}

/**
 * Opens what a run writes to, in this order: the stop control, the state directory's lock (one
 * run per state directory, before the journal is touched), the report directory's claim (a
 * report is never overwritten), the report, the way back, the journal, the client.
 */
export async function openParts(o: ResolvedOptions, at: RunStart, logger: Logger, held: Lifetimes): Promise<OpenParts> {
  const record = runRecord(o, at);
  const stop = new StopControl(stopRules(o, logger));
  held.defer(() => stop.dispose());
  stop.follow(at.signal);
  const writes = o.mode !== 'validate';
  if (writes) {
    const lock = StateLock.acquire(o.stateDir, {
      staleMs: o.lockStaleMs,
      warn: (msg, holder) => logger.warn({ holder }, msg),
      onLost: (msg) => stop.fatal(msg),
    });
    held.defer(() => lock.release());
  }
  const resuming = o.resumeDir === undefined ? undefined : { stateDir: o.resumeDir, persistent: o.resumeOwnState };
  const claim = claimReportDir(o.reportDir, record, resuming);
  if (writes) noteRun(o, at, logger);
  let recorder: Recorder | undefined;
  const report = await ReportWriter.create(o.reportDir, (e) => recorder?.onWriteError(e), claim.continued);
  held.defer(() => report.close());
  const changes = writes ? await WriteAheadLog.open(join(o.reportDir, o.dryRun ? PLAN_FILE : UNDO_FILE)) : undefined;
  held.defer(() => changes?.close());
  // under the lock, before it is appended to: the journal keeps the rows still needed, not every night's
  if (writes && !o.dryRun) {
    const compacted = compactJournal(o.stateDir);
    if (compacted) logger.info({ stateDir: o.stateDir, ...compacted }, 'journal compacted: archived files and superseded rows dropped');
  }
  const journal = writes ? Journal.open(o.stateDir) : undefined;
  held.defer(() => journal?.close());
  recorder = new Recorder(report, journal, stop, logger, o.dryRun);
  const metrics = new RunMetrics();
  // --concurrency auto: from the default, between 1 and --max-concurrency, by what the answers show
  const adaptive = o.autoConcurrency ? new AdaptiveLimit(defaultOf('concurrency'), o.concurrency) : undefined;
  const timed = adaptive
    ? (e: Endpoint, status: number, ms: number) => {
        metrics.timed(e, status, ms);
        adaptive.observe(e, status, ms);
      }
    : metrics.timed;
  const client = !writes || !o.connection ? undefined : createClient(o.connection, clientOptions(o, stop, logger, timed));
  held.defer(() => client?.close());
  return { stop, report, recorder, client, logger, runId: at.runId, record: claim.record, changes, metrics, adaptive };
}

function runRecord(o: ResolvedOptions, at: RunStart): RunRecord {
  const startedAt = at.started.toISOString();
  const record: RunRecord = {
    runId: at.runId,
    kind: o.mode,
    dryRun: o.dryRun,
    startedAt,
    stateDir: o.mode === 'validate' ? null : o.stateDir,
    tool: TOOL,
    parts: [{ runId: at.runId, startedAt }],
  };
  if (at.of) record.of = at.of;
  return record;
}

/** A line in the state directory's runs.jsonl; a history that cannot be written is worth a warning, not the run. */
function noteRun(o: ResolvedOptions, at: RunStart, logger: Logger): void {
  const line = `${JSON.stringify({ runId: at.runId, kind: o.mode, dryRun: o.dryRun, startedAt: at.started.toISOString(), reportDir: o.reportDir, of: at.of })}\n`;
  // an undo or apply is also noted in the state directory of each run it works on, so that its history shows it
  const stateDirs = new Set([o.stateDir, ...(at.of ?? []).map((d) => readRunRecord(d)?.stateDir).filter((d): d is string => typeof d === 'string')]);
  for (const dir of stateDirs) {
    const path = join(dir, RUNS_FILE);
    try {
      mkdirSync(dir, { recursive: true });
      appendFileSync(path, line);
    } catch (e) {
      logger.warn({ file: path, err: errorMessage(e) }, "a state directory's run history cannot be written; the run goes on");
    }
  }
}

/** The journal of the run being resumed, or undefined for a fresh run (and for a first night of a persistent state). */
export function loadResume(o: ResolvedOptions, logger: Logger): ResumeIndex | undefined {
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

/** The first login: a wrong URL fails in seconds, not after a night of retries. */
export async function firstLogin(client: ApiClient, stop: StopControl): Promise<void> {
  try {
    await client.login(3);
  } catch (e) {
    // a stop during the login (a signal, a report that cannot be written) still ends with the report written
    if (!(e instanceof EtError && e.code === 'E_INTERRUPTED' && stop.stopping)) throw e;
  }
}
