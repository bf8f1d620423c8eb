import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Connection } from '../api/connection.js';
import { EtError } from '../errors.js';
import type { Logger } from '../logger.js';
import { parseWindow } from './index-build.js';
import { ERROR_STATUSES } from './stop-control.js';
import type { ProgressView } from './progress.js';

/**
 * Every default of a run, in one place: the CLI builds its options from these, `runImport`
 * resolves against them, and `summary.json` reports the values actually used.
 */
export const DEFAULTS = {
  concurrency: 8,
  pageSize: 100,
  maxCandidates: 1000,
  timeoutSec: 30,
  /**
   * Retries of one request. 10 % 5xx plus 2 % dropped connections fail every one of 11 tries
   * with a chance of 0.12^11 ≈ 1e-10: a bad night loses no row (dsbulk also retries 10 times).
   */
  retries: 10,
  retryDelayMs: 250,
  circuitBreaker: 10,
  stopTimeoutSec: 30,
  maxResponseMb: 64,
  maxBodyKb: 512,
  progressEverySec: 10,
  /**
   * A lock on the state directory its holder has not refreshed for this long is taken over (the
   * holder refreshes it every quarter of this, at most every 30 s; on this host a holder whose
   * pid is gone is taken over at once).
   */
  lockStaleSec: 120,
  /** A file in a drop folder modified more recently than this may still be arriving. */
  settleSec: 60,
  /** Index mode: the most sessions a window's index may hold (see README, Index mode: memory). */
  indexMax: 1_200_000,
  /**
   * Index mode: a session's copy older than this is read again before a row is merged with it
   * (seconds). 0: every merge waits for its listing page to be read for it (grouped with the page's
   * other rows, about a request a hundred rows); 2 s, as first designed, lost 14-16 of 60 statuses
   * another client appended during a run over a shuffled export (see README, Index mode).
   */
  indexFreshSec: 0,
} as const;

export interface RunOptions {
  /** `validate`: everything before the network, over every row; statuses valid/invalid. */
  mode?: 'run' | 'validate';
  inputs: string[];
  mapping: string;
  /** Not needed to validate. */
  connection?: Connection;
  concurrency?: number;
  dryRun?: boolean;
  /** Default: reports/<UTC timestamp>/ under the working directory. */
  reportDir?: string;
  /** Where the journal goes (default: <reportDir>/state). */
  stateDir?: string;
  /** A previous run's state dir (or report dir): rows it finished with the same values are skipped. */
  resume?: string;
  pageSize?: number;
  /** Most search hits examined for one key before the row fails. */
  maxCandidates?: number;
  timeoutMs?: number;
  retries?: number;
  retryBaseMs?: number;
  /** Requests per second across the run (default: none until a 429). */
  rate?: number;
  /** Abort (exit 2) once this many rows did not end well: a count, or a percentage such as "5%". */
  maxErrors?: string | number;
  /** The statuses --max-errors counts (default: unmatched, ambiguous, invalid, failed). */
  maxErrorsStatuses?: string[];
  /** Abort (exit 2) after this many rows, or requests over 15 s, in a row failed to reach the API. */
  circuitBreaker?: number;
  /** After a stop signal, how long rows in flight may take to finish. */
  stopTimeoutMs?: number;
  maxResponseBytes?: number;
  maxBodyBytes?: number;
  logger?: Logger;
  /** Aborting stops reading; rows in flight finish, the report is written, exit code 4. */
  signal?: AbortSignal;
  /** Where the end-of-run text goes (default: process.stderr). */
  out?: { write(s: string): unknown };
  /** How often progress is logged, ms. */
  progressEveryMs?: number;
  /** Another host's lock on the state directory older than this is taken over (ms). */
  lockStaleMs?: number;
  /** Files found in a folder or by a pattern that changed less than this long ago are left for a later run (ms). */
  settleMs?: number;
  /** Move each input whose rows all ended well to `<archive>/<YYYY-MM-DD>/` (never in a dry run). */
  archive?: string;
  /** Only the rows whose key falls in shard `index` of `count` (1-based). */
  shard?: { index: number; count: number };
  /** search | index; wins over `match.lookup`. */
  lookup?: 'search' | 'index';
  /** Index mode: `FROM..TO`, dates inclusive; without it, `match.dateColumn` gives the windows. */
  window?: string;
  /** Index mode: the most sessions the index may hold. */
  indexMax?: number;
  /** Index mode: a session's copy older than this is read again before its row is merged (ms). */
  indexFreshMs?: number;
  /** A live view of the run (a terminal's progress bar); without one, progress is logged. */
  progressView?: ProgressView;
  /** Where each option that is not a default came from, for summary.json. */
  optionSources?: Record<string, 'flag' | 'env' | 'config'>;
}

export interface MaxErrors {
  count?: number;
  percent?: number;
}

/** The options a run actually uses: checked, defaulted, paths absolute. */
export interface ResolvedOptions {
  mode: 'run' | 'validate';
  inputs: string[];
  mapping: string;
  connection: Connection | undefined;
  concurrency: number;
  dryRun: boolean;
  reportDir: string;
  stateDir: string;
  /** The journal directory being resumed, when resuming. */
  resumeDir: string | undefined;
  /** `--resume` names the run's own `--state-dir`: a missing journal there is a first night, not a mistake. */
  resumeOwnState: boolean;
  pageSize: number;
  maxCandidates: number;
  timeoutMs: number;
  retries: number;
  retryBaseMs: number;
  rate: number | undefined;
  maxErrors: MaxErrors | undefined;
  maxErrorsStatuses: ReadonlySet<string>;
  circuitBreaker: number;
  stopTimeoutMs: number;
  maxResponseBytes: number;
  maxBodyBytes: number;
  progressEveryMs: number;
  lockStaleMs: number;
  settleMs: number;
  archive: string | undefined;
  shard: { index: number; count: number } | undefined;
  /** Undefined: the mapping's `match.lookup`. */
  lookup: 'search' | 'index' | undefined;
  window: { from: string; to: string } | undefined;
  indexMax: number;
  indexFreshMs: number;
}

/**
 * Checks and completes run options. Each check names the option as the command line spells it,
 * so `runImport` called as an API refuses what the CLI would.
 */
export function resolveRunOptions(o: RunOptions, started = new Date()): ResolvedOptions {
  const mode = o.mode ?? 'run';
  if (mode === 'run' && !o.connection) throw new EtError('E_USAGE', 'no API connection given');
  if (!Array.isArray(o.inputs) || o.inputs.length === 0) throw new EtError('E_USAGE', '--input: name at least one export');
  const dryRun = o.dryRun ?? false;
  // each shard keeps its own report and state
  const shard = checkShard(o.shard);
  // Every shard reads every file: a shard that archived a file would take it from the shards still
  // reading it, and from those not started yet. Refused before anything is read.
  if (shard && o.archive !== undefined && !dryRun && mode === 'run') {
    throw new EtError('E_USAGE', `--archive cannot be used with --shard ${shard.index}/${shard.count} (or JOB_COMPLETION_INDEX): every shard reads every file, and a file archived by one shard would be lost to the others; run the shards without --archive, and move the files once every shard has exited 0`);
  }
  const suffix = shard ? `-shard-${shard.index}-of-${shard.count}` : '';
  const reportDir = resolve(`${o.reportDir ?? defaultReportDir(started)}${suffix}`);
  let resumeDir: string | undefined;
  if (o.resume !== undefined) {
    // a shard resumes from its own directory
    const base = shard && existsSync(`${o.resume}${suffix}`) ? `${o.resume}${suffix}` : o.resume;
    resumeDir = resolve(existsSync(join(base, 'state')) ? join(base, 'state') : base);
  }
  // A resumed real run appends to the journal it resumes. A dry run keeps its own: its rows
  // were never written, and must not be mistaken for done by a later real resume.
  const ownState = resolve(o.stateDir !== undefined ? `${o.stateDir}${suffix}` : join(reportDir, 'state'));
  // `--resume` of the run's own --state-dir: a persistent state, which may have no journal yet
  if (o.resume !== undefined && o.stateDir !== undefined && resolve(o.resume) === resolve(o.stateDir)) resumeDir = ownState;
  // A dry run keeps its journal in its own report directory: its rows were never written, and a
  // real run resuming a persistent state must not find them there.
  const stateDir = dryRun ? join(reportDir, 'state') : (resumeDir ?? ownState);
  return {
    mode,
    inputs: o.inputs,
    mapping: o.mapping,
    connection: o.connection,
    dryRun,
    reportDir,
    stateDir,
    resumeDir,
    resumeOwnState: o.resume !== undefined && o.stateDir !== undefined && resolve(o.resume) === resolve(o.stateDir),
    concurrency: whole('--concurrency', o.concurrency, DEFAULTS.concurrency, 1),
    pageSize: whole('--page-size', o.pageSize, DEFAULTS.pageSize, 1),
    maxCandidates: whole('--max-candidates', o.maxCandidates, DEFAULTS.maxCandidates, 1),
    timeoutMs: positive('--timeout', o.timeoutMs, DEFAULTS.timeoutSec * 1000, SECONDS),
    retries: whole('--retries', o.retries, DEFAULTS.retries, 0),
    retryBaseMs: atLeastZero('--retry-delay', o.retryBaseMs, DEFAULTS.retryDelayMs),
    rate: o.rate === undefined ? undefined : positive('--rate', o.rate, 0),
    maxErrors: parseMaxErrors(o.maxErrors),
    maxErrorsStatuses: parseErrorStatuses(o.maxErrorsStatuses),
    circuitBreaker: whole('--circuit-breaker', o.circuitBreaker, DEFAULTS.circuitBreaker, 1),
    stopTimeoutMs: atLeastZero('--stop-timeout', o.stopTimeoutMs, DEFAULTS.stopTimeoutSec * 1000, SECONDS),
    maxResponseBytes: positive('--max-response-mb', o.maxResponseBytes, DEFAULTS.maxResponseMb * 1024 * 1024, MB),
    maxBodyBytes: positive('--max-body-kb', o.maxBodyBytes, DEFAULTS.maxBodyKb * 1024, KB),
    progressEveryMs: positive('--progress-every', o.progressEveryMs, DEFAULTS.progressEverySec * 1000, SECONDS),
    lockStaleMs: positive('--lock-stale', o.lockStaleMs, DEFAULTS.lockStaleSec * 1000, SECONDS),
    settleMs: atLeastZero('--settle', o.settleMs, DEFAULTS.settleSec * 1000, SECONDS),
    archive: o.archive === undefined ? undefined : resolve(o.archive),
    shard,
    lookup: o.lookup === undefined ? undefined : checkLookup(o.lookup),
    window: o.window === undefined ? undefined : parseWindow(o.window),
    indexMax: whole('--index-max', o.indexMax, DEFAULTS.indexMax, 1),
    indexFreshMs: atLeastZero('--index-fresh', o.indexFreshMs, DEFAULTS.indexFreshSec * 1000, SECONDS),
  };
}

function checkLookup(v: string): 'search' | 'index' {
  if (v === 'search' || v === 'index') return v;
  throw new EtError('E_USAGE', `--lookup must be search or index, got ${JSON.stringify(v)}`);
}

function checkShard(s: { index: number; count: number } | undefined): { index: number; count: number } | undefined {
  if (s === undefined) return undefined;
  if (!Number.isInteger(s.index) || !Number.isInteger(s.count) || s.count < 1 || s.index < 1 || s.index > s.count) throw new EtError('E_USAGE', `--shard must be i/n with 1 <= i <= n, got ${s.index}/${s.count}`);
  return s;
}

/** `--shard 2/3` as numbers. */
export function parseShard(text: string): { index: number; count: number } {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  if (!m) throw new EtError('E_USAGE', `--shard must be i/n, e.g. 2/3, got ${JSON.stringify(text)}`);
  return checkShard({ index: Number(m[1]), count: Number(m[2]) })!;
}

function whole(name: string, v: number | undefined, fallback: number, min: number): number {
  if (v === undefined) return fallback;
  if (!Number.isInteger(v) || v < min) throw new EtError('E_USAGE', `${name} must be a whole number of at least ${min}, got ${String(v)}`);
  return v;
}

/** An option's user unit: what one of it is in the internal unit, and how it is named. */
interface Unit {
  factor: number;
  name: string;
}
const SECONDS: Unit = { factor: 1000, name: 's' };
const MB: Unit = { factor: 1024 * 1024, name: 'MB' };
const KB: Unit = { factor: 1024, name: 'KB' };

/** The value as the user gave it, in the user's unit (`--timeout -2` says "got -2 s", not -2000). */
function asGiven(v: unknown, unit: Unit | undefined): string {
  return typeof v === 'number' && unit ? `${String(Math.round((v / unit.factor) * 1e6) / 1e6)} ${unit.name}` : String(v);
}

function positive(name: string, v: number | undefined, fallback: number, unit?: Unit): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new EtError('E_USAGE', `${name} must be a number above 0, got ${asGiven(v, unit)}`);
  return v;
}

function atLeastZero(name: string, v: number | undefined, fallback: number, unit?: Unit): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new EtError('E_USAGE', `${name} must be 0 or more, got ${asGiven(v, unit)}`);
  return v;
}

/** `--max-errors-statuses failed,invalid`: which of the statuses that do not end well --max-errors counts. */
export function parseErrorStatuses(v: string[] | string | undefined): ReadonlySet<string> {
  if (v === undefined) return ERROR_STATUSES;
  const list = (Array.isArray(v) ? v : [v]).flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean);
  const wrong = list.filter((s) => !ERROR_STATUSES.has(s));
  if (list.length === 0 || wrong.length > 0) throw new EtError('E_USAGE', `--max-errors-statuses takes statuses from ${[...ERROR_STATUSES].join(', ')}, got ${JSON.stringify(Array.isArray(v) ? v.join(',') : v)}`);
  return new Set(list);
}

export function parseMaxErrors(v: string | number | undefined): MaxErrors | undefined {
  if (v === undefined || v === '') return undefined;
  const s = String(v).trim();
  const m = /^(\d+(?:\.\d+)?)%$/.exec(s);
  if (m) {
    const percent = Number(m[1]);
    if (percent > 0 && percent <= 100) return { percent };
  } else if (/^\d+$/.test(s) && Number(s) >= 1) {
    return { count: Number(s) };
  }
  throw new EtError('E_USAGE', `--max-errors must be a number of rows (e.g. 100) or a percentage (e.g. 5%), got ${JSON.stringify(s)}`);
}

function defaultReportDir(started: Date): string {
  const stamp = started.toISOString().replace(/[:]/g, '-').replace(/\.\d+Z$/, 'Z');
  let dir = join('reports', stamp);
  for (let i = 2; existsSync(dir); i++) dir = join('reports', `${stamp}-${i}`);
  return dir;
}
