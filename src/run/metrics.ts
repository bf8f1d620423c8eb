import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { Counter, Gauge, Pushgateway, Registry, Summary as Quantiles } from 'prom-client';
import { errorMessage } from '../errors.js';
import type { Logger } from '../logger.js';
import { displayUrl } from '../redact.js';
import { writeAtomically } from '../atomic-file.js';
import type { Counts } from '../row-result.js';

export type Endpoint = 'login' | 'search' | 'listing' | 'put';
export const ENDPOINTS: readonly Endpoint[] = ['login', 'search', 'listing', 'put'];

/** Per endpoint: requests timed, and their latency in ms. */
export type Latency = Record<Endpoint, { count: number; p50: number; p90: number; p99: number; max: number } | null>;

/** Where a run's metrics go, and the labels that tell its job apart. */
export interface MetricsTarget {
  file: string | undefined;
  pushgateway: string | undefined;
  job: string;
  instance: string;
  /** The state directory: it keeps the time of the last run that ended well across runs. */
  stateDir: string;
}

const LAST_SUCCESS = 'last-success';

/**
 * A run's metrics, in Prometheus' names and conventions (prom-client): each request's time on the
 * wire by endpoint (quantiles 0.5, 0.9, 0.99, and the largest), requests by endpoint and status,
 * and at the end rows by status, retries, 429s, duration, exit code, the run's time and the last
 * time a run ended well. `summary.json` takes the latency from the same figures.
 */
export class RunMetrics {
  readonly registry = new Registry();
  private readonly wire = new Quantiles({
    name: 'et_import_request_duration_seconds',
    help: 'Time on the wire of each API request, by endpoint',
    labelNames: ['endpoint'],
    percentiles: [0.5, 0.9, 0.99],
    registers: [this.registry],
  });
  private readonly requests = new Counter({
    name: 'et_import_requests_total',
    help: 'API requests by endpoint and HTTP status (0: no answer)',
    labelNames: ['endpoint', 'status'],
    registers: [this.registry],
  });
  private readonly max = new Map<Endpoint, number>();
  private readonly count = new Map<Endpoint, number>();

  /** The client's hook: one exchange, its endpoint, status and time. */
  timed = (endpoint: Endpoint, status: number, ms: number): void => {
    this.wire.observe({ endpoint }, ms / 1000);
    this.requests.inc({ endpoint, status: String(status) });
    this.max.set(endpoint, Math.max(this.max.get(endpoint) ?? 0, ms));
    this.count.set(endpoint, (this.count.get(endpoint) ?? 0) + 1);
  };

  /** Per endpoint: count, p50, p90, p99 and max in ms (null for an endpoint not used). */
  async latency(): Promise<Latency> {
    const values = (await this.wire.get()).values;
    const q = (endpoint: Endpoint, quantile: number) =>
      Math.round((values.find((v) => v.labels.endpoint === endpoint && (v.labels as Record<string, unknown>).quantile === quantile)?.value ?? 0) * 10_000) / 10;
    const out = {} as Latency;
    for (const e of ENDPOINTS) {
      const count = this.count.get(e) ?? 0;
      out[e] = count === 0 ? null : { count, p50: q(e, 0.5), p90: q(e, 0.9), p99: q(e, 0.99), max: Math.round((this.max.get(e) ?? 0) * 10) / 10 };
    }
    return out;
  }

  /** The end of the run: rows, retries, duration, exit code, and when a run last ended well. */
  finish(
    run: { counts: Counts; retries: number; throttled: number; durationMs: number; exitCode: number; kind: string; dryRun: boolean },
    target: MetricsTarget,
  ): void {
    const r = [this.registry];
    const rows = new Gauge({ name: 'et_import_rows', help: 'Rows of the run by final status', labelNames: ['status'], registers: r });
    for (const [status, n] of Object.entries(run.counts)) if (status !== 'total') rows.set({ status }, n);
    new Gauge({ name: 'et_import_retries', help: 'Requests retried', registers: r }).set(run.retries);
    new Gauge({ name: 'et_import_throttled', help: 'Answers 429 Too Many Requests', registers: r }).set(run.throttled);
    new Gauge({ name: 'et_import_run_duration_seconds', help: 'How long the run took', registers: r }).set(run.durationMs / 1000);
    new Gauge({ name: 'et_import_exit_code', help: 'The exit code (0 every row ended well)', labelNames: ['kind', 'dry_run'], registers: r }).set(
      { kind: run.kind, dry_run: String(run.dryRun) },
      run.exitCode,
    );
    const now = Date.now() / 1000;
    new Gauge({ name: 'et_import_last_run_timestamp_seconds', help: 'When the run ended', registers: r }).set(now);
    const last = run.exitCode === 0 && !run.dryRun ? now : lastSuccess(target.stateDir);
    if (last !== undefined) new Gauge({ name: 'et_import_last_success_timestamp_seconds', help: 'When a run last ended with exit 0', registers: r }).set(last);
    this.registry.setDefaultLabels({ job: target.job, instance: target.instance });
  }

  /** Writes the metrics file (atomically, for node_exporter's textfile collector) and pushes to a Pushgateway; a failure is logged, never the run's. */
  async export(target: MetricsTarget, run: { exitCode: number; dryRun: boolean }, logger: Logger): Promise<void> {
    if (run.exitCode === 0 && !run.dryRun) rememberSuccess(target.stateDir, logger);
    const text = await this.registry.metrics();
    if (target.file) {
      try {
        writeAtomically(target.file, text);
      } catch (e) {
        logger.error({ file: target.file, err: errorMessage(e) }, 'the metrics file cannot be written');
      }
    }
    if (target.pushgateway) {
      try {
        await new Pushgateway(target.pushgateway, { timeout: 10_000 }, this.registry).pushAdd({
          jobName: target.job,
          groupings: { instance: target.instance },
        });
      } catch (e) {
        logger.error({ pushgateway: displayUrl(target.pushgateway), err: errorMessage(e) }, 'the metrics could not be pushed');
      }
    }
  }
}

export function defaultInstance(): string {
  return hostname();
}

function lastSuccess(stateDir: string): number | undefined {
  try {
    const t = Number(readFileSync(join(stateDir, LAST_SUCCESS), 'utf8'));
    return Number.isFinite(t) ? t : undefined;
  } catch {
    return undefined;
  }
}

function rememberSuccess(stateDir: string, logger: Logger): void {
  try {
    writeAtomically(join(stateDir, LAST_SUCCESS), String(Date.now() / 1000));
  } catch (e) {
    logger.warn({ stateDir, err: errorMessage(e) }, 'the time of this run cannot be kept for the next run metrics');
  }
}
