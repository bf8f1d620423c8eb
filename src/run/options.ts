import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ClientOptions } from '../api/client.js';
import type { Connection } from '../api/connection.js';
import { EtError } from '../errors.js';
import type { Logger } from '../logger.js';
import { defaultInstance, type MetricsTarget } from './metrics.js';
import { expandReportDir } from '../report/report-dir.js';
import type { Window } from '../pipeline/index-build.js';
import type { DateRange } from '../pipeline/conversation-finder.js';
import { checkLookup, checkShard, parseErrorStatuses, parseMaxErrors, parseShard, parseWindow } from './option-values.js';
import type { MaxErrors, StopControl, StopRules } from './stop-control.js';
import { type Command, UNITS, camel, optionSpec, optionsOf, type OptionName, type OptionValues, type Origin } from './option-table.js';
import type { ProgressView } from './progress.js';

/**
 * What `runImport` takes: the table's options in the user's units, named as the flags are
 * (`timeout: 30` seconds, `maxBodyKb: 512`), plus what only a caller can give.
 */
export interface RunOptions extends Omit<OptionValues, 'input' | 'mapping' | 'shard' | 'maxErrors' | 'maxErrorsStatuses'> {
  /** `validate`: everything before the network, over every row; statuses valid/invalid. */
  mode?: Command;
  inputs: string[];
  mapping: string;
  /** Not needed to validate. */
  connection?: Connection;
  /** A count, or a percentage such as "5%". */
  maxErrors?: string | number;
  /** Comma-separated, or a list. */
  maxErrorsStatuses?: string | string[];
  /** `2/3`, or its parts (1-based). */
  shard?: string | { index: number; count: number };
  logger?: Logger;
  /** Aborting stops reading; rows in flight finish, the report is written, exit code 4. */
  signal?: AbortSignal;
  /** Where the end-of-run text goes (default: process.stderr). */
  out?: { write(s: string): unknown };
  /** A live view of the run (a terminal's progress bar); without one, progress is logged. */
  progressView?: ProgressView;
  /** Where each option that is not a default came from, for summary.json. */
  optionSources?: Record<string, Origin>;
}

/** The options a run actually uses: checked, defaulted, in internal units (ms, bytes), paths absolute. */
export interface ResolvedOptions {
  mode: Command;
  inputs: string[];
  mapping: string;
  connection: Connection | undefined;
  /** Requests in flight; with `autoConcurrency`, the most (--max-concurrency). */
  concurrency: number;
  /** `--concurrency auto`: the limit adapts (api/adaptive-limit.ts), starting at the default. */
  autoConcurrency: boolean;
  dryRun: boolean;
  reportDir: string;
  stateDir: string;
  /** The journal directory being resumed, when resuming. */
  resumeDir: string | undefined;
  /** `--resume` names the run's own `--state-dir`: a missing journal there is a first night, not a mistake. */
  resumeOwnState: boolean;
  pageSize: number;
  maxCandidates: number;
  /** `--date-range`: what the API's date_range takes, for conversation keys. */
  dateRange: DateRange;
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
  window: Window | undefined;
  indexMax: number;
  indexFreshMs: number;
  /** Where the run's metrics go (a file, a Pushgateway) and their labels. */
  metrics: MetricsTarget;
  /** The values used, in the user's units and named as the flags are: `summary.json`'s options. */
  used: Record<string, unknown>;
}

/**
 * Checks and completes run options. Each check names the option as the command line spells it
 * and quotes the value in the user's unit, so `runImport` called as an API refuses what the CLI
 * would, in the same words.
 */
export function resolveRunOptions(o: RunOptions, started = new Date()): ResolvedOptions {
  const mode = o.mode ?? 'run';
  if (mode !== 'validate' && !o.connection) throw new EtError('E_USAGE', 'no API connection given');
  if (!Array.isArray(o.inputs) || o.inputs.length === 0) throw new EtError('E_USAGE', '--input: name at least one export');
  const dryRun = o.dryRun ?? false;
  const shard = o.shard === undefined ? undefined : typeof o.shard === 'string' ? parseShard(o.shard) : checkShard(o.shard);
  // Every shard reads every file: a shard that archived a file would take it from the shards still
  // reading it, and from those not started yet. Refused before anything is read.
  if (shard && o.archive !== undefined && !dryRun && mode === 'run') {
    throw new EtError(
      'E_USAGE',
      `--archive cannot be used with --shard ${shard.index}/${shard.count} (or JOB_COMPLETION_INDEX): every shard reads every file, and a file archived by one shard would be lost to the others; run the shards without --archive, and move the files once every shard has exited 0`,
    );
  }
  const n = (name: OptionName) => numberOption(name, (o as unknown as Record<string, unknown>)[camel(name)]);
  const maxErrorsStatuses = parseErrorStatuses(o.maxErrorsStatuses);
  const resolved: Omit<ResolvedOptions, 'used' | 'metrics'> = {
    mode,
    inputs: o.inputs,
    mapping: o.mapping,
    connection: o.connection,
    dryRun,
    ...directories(o, shard, dryRun, started),
    concurrency: o.concurrency === 'auto' ? n('max-concurrency') : n('concurrency'),
    autoConcurrency: o.concurrency === 'auto',
    pageSize: n('page-size'),
    maxCandidates: n('max-candidates'),
    dateRange: (o.dateRange ?? 'days') as DateRange,
    timeoutMs: n('timeout'),
    retries: n('retries'),
    retryBaseMs: n('retry-delay'),
    rate: o.rate === undefined ? undefined : n('rate'),
    maxErrors: parseMaxErrors(o.maxErrors),
    maxErrorsStatuses,
    circuitBreaker: n('circuit-breaker'),
    stopTimeoutMs: n('stop-timeout'),
    maxResponseBytes: n('max-response-mb'),
    maxBodyBytes: n('max-body-kb'),
    progressEveryMs: n('progress-every'),
    lockStaleMs: n('lock-stale'),
    settleMs: n('settle'),
    archive: o.archive === undefined ? undefined : resolve(o.archive),
    shard,
    lookup: o.lookup === undefined ? undefined : checkLookup(o.lookup),
    window: o.window === undefined ? undefined : parseWindow(o.window),
    indexMax: n('index-max'),
    indexFreshMs: n('index-fresh'),
  };
  const metrics = metricsTarget(o, resolved.stateDir);
  return {
    ...resolved,
    metrics,
    used: usedValues(o, mode, {
      maxErrors: o.maxErrors === undefined ? null : String(o.maxErrors),
      maxErrorsStatuses: [...maxErrorsStatuses],
      shard: shard ? `${shard.index}/${shard.count}` : null,
    }),
  };
}

/** Where the run's metrics go, with their labels. */
function metricsTarget(o: RunOptions, stateDir: string): MetricsTarget {
  return {
    file: o.metricsFile === undefined ? undefined : resolve(o.metricsFile),
    pushgateway: o.pushgateway,
    job: o.metricsJob ?? String(optionSpec('metrics-job')!.default),
    instance: o.metricsInstance ?? defaultInstance(),
    stateDir,
  };
}

type Dirs = Pick<ResolvedOptions, 'reportDir' | 'stateDir' | 'resumeDir' | 'resumeOwnState'>;

/** Where the report, the journal and the resumed journal are: each shard keeps its own. */
function directories(o: RunOptions, shard: ResolvedOptions['shard'], dryRun: boolean, started: Date): Dirs {
  const suffix = shard ? `-shard-${shard.index}-of-${shard.count}` : '';
  const reportDir = resolve(`${o.reportDir === undefined ? defaultReportDir(started) : expandReportDir(o.reportDir, started)}${suffix}`);
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
  const resumeOwnState = o.resume !== undefined && o.stateDir !== undefined && resolve(o.resume) === resolve(o.stateDir);
  if (resumeOwnState) resumeDir = ownState;
  // A dry run keeps its journal in its own report directory: its rows were never written, and a
  // real run resuming a persistent state must not find them there.
  const stateDir = dryRun ? join(reportDir, 'state') : (resumeDir ?? ownState);
  return { reportDir, stateDir, resumeDir, resumeOwnState };
}

/** Each option the run takes, as given or defaulted, in the user's unit (secrets are never options). */
function usedValues(o: RunOptions, mode: Command, parsed: Record<string, unknown>): Record<string, unknown> {
  const used: Record<string, unknown> = {};
  for (const spec of optionsOf(mode)) {
    if ('cliOnly' in spec || ('summary' in spec && spec.summary === false)) continue;
    const key = camel(spec.name);
    used[key] = key in parsed ? parsed[key] : ((o as unknown as Record<string, unknown>)[key] ?? ('default' in spec ? spec.default : null));
  }
  return used;
}

/**
 * The numeric options among parsed arguments (camelCase, as yargs gives them), checked as
 * `resolveRunOptions` checks them: the CLI refuses `--timeout -2` before it reads ET_URL.
 */
export function checkNumberOptions(values: Record<string, unknown>, command: Command): void {
  for (const spec of optionsOf(command)) {
    const v = values[camel(spec.name)];
    if (spec.type === 'number' && v !== undefined && v !== 'auto') numberOption(spec.name as OptionName, v);
  }
}

/** A numeric option: given or defaulted, checked in the user's unit, then in the internal unit. */
function numberOption(name: OptionName, given: unknown): number {
  const spec = optionSpec(name)!;
  const v = given ?? spec.default;
  const unit = spec.unit ? UNITS[spec.unit] : undefined;
  const got = `got ${typeof v === 'string' ? JSON.stringify(v) : String(v)}${unit && typeof v === 'number' ? ` ${unit.name}` : ''}`;
  const check = spec.check;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new EtError('E_USAGE', `--${name} must be a number${spec.orAuto ? ' or auto' : ''}, ${got}`);
  if (check === 'positive' && v <= 0) throw new EtError('E_USAGE', `--${name} must be a number above 0, ${got}`);
  if (check === 'atLeastZero' && v < 0) throw new EtError('E_USAGE', `--${name} must be 0 or more, ${got}`);
  if (typeof check === 'object' && (!Number.isInteger(v) || v < check.whole))
    throw new EtError('E_USAGE', `--${name} must be a whole number of at least ${check.whole}, ${got}`);
  return unit ? Math.round(v * unit.factor) : v;
}

function defaultReportDir(started: Date): string {
  const stamp = started
    .toISOString()
    .replace(/[:]/g, '-')
    .replace(/\.\d+Z$/, 'Z');
  let dir = join('reports', stamp);
  for (let i = 2; existsSync(dir); i++) dir = join('reports', `${stamp}-${i}`);
  return dir;
}

/** The stop rules' part of the options. */
export function stopRules(o: ResolvedOptions, logger: Logger): StopRules {
  return { maxErrors: o.maxErrors, errorStatuses: o.maxErrorsStatuses, circuitBreaker: o.circuitBreaker, stopTimeoutMs: o.stopTimeoutMs, logger };
}

/** The client's part of the options; its waits end, and its requests are cancelled, with the run's stop. */
export function clientOptions(o: ResolvedOptions, stop: StopControl, logger: Logger, onTimed?: ClientOptions['onTimed']): ClientOptions {
  return {
    ...(onTimed && { onTimed }),
    maxSockets: o.concurrency,
    logger,
    timeoutMs: o.timeoutMs,
    retries: o.retries,
    retryBaseMs: o.retryBaseMs,
    rate: o.rate,
    maxResponseBytes: o.maxResponseBytes,
    maxBodyBytes: o.maxBodyBytes,
    stopSignal: stop.stopSignal,
    cancelSignal: stop.cancelSignal,
    onRequest: (answered) => stop.onRequest(answered),
  };
}
