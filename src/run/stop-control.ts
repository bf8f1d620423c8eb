import { setMaxListeners } from 'node:events';
import type { Logger } from '../logger.js';
import type { Counts, Status } from '../row-result.js';

/** What `--max-errors` counts by default: every row that did not end well. */
export const ERROR_STATUSES: ReadonlySet<string> = new Set(['unmatched', 'ambiguous', 'invalid', 'failed']);

/** `--max-errors`: a count of rows, or a percentage of the rows so far. */
export interface MaxErrors {
  count?: number;
  percent?: number;
}

/** How a run stopped early, if it did. `fatal` wins over `interrupted`, which wins over `aborted`. */
export interface StopOutcome {
  interrupted: boolean;
  aborted?: string;
  fatal?: string;
}

export interface StopRules {
  maxErrors: MaxErrors | undefined;
  /** The statuses `--max-errors` counts (default: every status that does not end well). */
  errorStatuses?: ReadonlySet<string>;
  /** Rows in a row that failed to reach the API; also requests in a row, once the API has been silent for `quietMs`. */
  circuitBreaker: number;
  stopTimeoutMs: number;
  logger: Logger;
  now?: () => number;
  /** How long the API must have answered nothing before failed requests open the circuit. */
  quietMs?: number;
}

/** A dead API is told from a bad minute by this much silence (and `circuitBreaker` failures in a row). */
export const CIRCUIT_QUIET_MS = 15_000;

/**
 * Decides when a run stops: a stop signal, `--max-errors`, the circuit breaker (rows or requests
 * that cannot reach the API), or a fatal error. Once stopping, no new request starts (`stopping`),
 * every wait ends (`stopSignal`), and requests on the wire are cancelled (`cancelSignal`): at
 * once for an abort or a fatal stop, after `--stop-timeout` for a stop signal.
 */
export class StopControl {
  private readonly stop = new AbortController();
  private readonly cancel = new AbortController();
  private readonly state: StopOutcome = { interrupted: false };
  private readonly now: () => number;
  private failedRowsInARow = 0;
  private failedRequestsInARow = 0;
  private lastAnswerAt: number;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly rules: StopRules) {
    // every request and every wait listens: as many listeners as rows in flight
    setMaxListeners(0, this.stop.signal, this.cancel.signal);
    this.now = rules.now ?? Date.now;
    this.lastAnswerAt = this.now();
  }

  get stopping(): boolean {
    return this.stop.signal.aborted;
  }
  get stopSignal(): AbortSignal {
    return this.stop.signal;
  }
  get cancelSignal(): AbortSignal {
    return this.cancel.signal;
  }
  get outcome(): StopOutcome {
    return { ...this.state };
  }

  /** A stop signal: finish what is on the wire, for at most `--stop-timeout`. */
  interrupt(): void {
    if (this.state.interrupted) return;
    this.state.interrupted = true;
    this.rules.logger.warn('stop requested: finishing rows in flight, then writing the report');
    this.stop.abort();
    this.timer = setTimeout(
      () => this.cancelNow('the stop timeout ran out: cancelling requests still open (--resume does their rows)'),
      this.rules.stopTimeoutMs,
    );
    this.timer.unref();
  }

  /** An early end worth a resume (exit 2): thresholds, the circuit, an input that broke off. */
  abort(reason: string, options: { cancel?: boolean } = {}): void {
    this.state.aborted ??= reason;
    this.stop.abort();
    if (options.cancel) this.cancelNow();
  }

  /** Nothing more can be done (exit 3): a refused login, a report that cannot be written, a bug. */
  fatal(reason: string): void {
    this.state.fatal ??= reason;
    this.stop.abort();
    this.cancelNow();
  }

  private cancelNow(message?: string): void {
    if (this.cancel.signal.aborted) return;
    if (message) this.rules.logger.warn(message);
    this.cancel.abort();
  }

  /** Every finished row: the error thresholds and the row circuit. */
  onRow(status: string, transport: boolean, counts: Counts, lastMessage: string | undefined): void {
    const counted = this.rules.errorStatuses ?? ERROR_STATUSES;
    if (counted.has(status)) {
      // as dsbulk's maxErrors counts every bad record: a wrong mapping that leaves every row
      // unmatched stops as surely as a dead API
      let errors = 0;
      for (const s of counted) errors += counts[s as Status] ?? 0;
      const { total } = counts;
      const m = this.rules.maxErrors;
      if (
        m &&
        !this.stopping &&
        ((m.count !== undefined && errors >= m.count) || (m.percent !== undefined && total >= 100 && (errors / total) * 100 >= m.percent))
      ) {
        const by = [...counted].filter((s) => (counts[s as Status] ?? 0) > 0);
        this.rules.logger.error({ errors, rows: total, last: lastMessage }, 'error threshold reached: stopping');
        this.abort(
          `--max-errors reached: ${errors} of ${total} rows ${by.length === 1 && by[0] === 'failed' ? 'failed' : `did not end well (${by.map((s) => `${counts[s as Status]} ${s}`).join(', ')})`}`,
        );
      }
    }
    if (status === 'failed') {
      if (transport) this.failedRowsInARow++;
      if (this.failedRowsInARow >= this.rules.circuitBreaker && !this.stopping) {
        this.rules.logger.error({ consecutive: this.failedRowsInARow }, 'the API looks down: stopping');
        this.abort(`${this.failedRowsInARow} rows in a row could not reach the API (last: ${lastMessage ?? ''})`, { cancel: true });
      }
    } else if (status !== 'invalid' && status !== 'skipped') {
      this.failedRowsInARow = 0;
    }
  }

  /** Every HTTP exchange: `answered` false for network errors, timeouts, 5xx and 408. */
  onRequest(answered: boolean): void {
    const t = this.now();
    if (answered) {
      this.failedRequestsInARow = 0;
      this.lastAnswerAt = t;
      return;
    }
    this.failedRequestsInARow++;
    const silentMs = t - this.lastAnswerAt;
    if (this.failedRequestsInARow >= this.rules.circuitBreaker && silentMs >= (this.rules.quietMs ?? CIRCUIT_QUIET_MS) && !this.stopping) {
      this.rules.logger.error({ consecutiveRequests: this.failedRequestsInARow, silentSeconds: Math.round(silentMs / 1000) }, 'the API looks down: stopping');
      this.abort(`the API has not answered for ${Math.round(silentMs / 1000)} s (${this.failedRequestsInARow} requests in a row failed)`, { cancel: true });
    }
  }

  private followed: { signal: AbortSignal; listener: () => void } | undefined;

  /** A caller's signal (SIGINT/SIGTERM, or an API caller's abort) is a stop signal; until `dispose`. */
  follow(signal: AbortSignal | undefined): void {
    if (!signal) return;
    const listener = () => this.interrupt();
    signal.addEventListener('abort', listener);
    this.followed = { signal, listener };
    if (signal.aborted) this.interrupt();
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.followed?.signal.removeEventListener('abort', this.followed.listener);
  }
}
