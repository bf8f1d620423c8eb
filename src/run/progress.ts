import type { Logger } from '../logger.js';
import type { Counts } from '../row-result.js';
import { OK_STATUSES, STATUSES } from '../row-result.js';

export interface ProgressState {
  rows: number;
  /** Null when not known. */
  total: number | null;
  percent: number | null;
  rowsPerSec: { interval: number; overall: number };
  etaSeconds: number | null;
  /** Rows that did not end well so far. */
  notWell: number;
  skipped: number;
  counts: Counts;
  /** `--concurrency auto`: the limit now. */
  concurrency?: number;
  /** A stopped run's last view: where it stopped. */
  stoppedAt?: string;
}

/** Where a live view of the run goes (a progress bar on a terminal). */
export interface ProgressView {
  start(total: number | null): void;
  update(state: ProgressState): void;
  stop(): void;
}

/**
 * Follows a run: every `everyMs`, a `progress` log line (what schedulers and log systems read),
 * or, with a view (a terminal), a bar updated several times a second instead. The total comes
 * from a quick count before the run and is refined as reading passes it.
 */
export class Progress {
  private readonly started: number;
  private lastAt: number;
  private lastRows = 0;
  private timer: NodeJS.Timeout | undefined;
  private total: number | null;

  constructor(
    estimate: number | undefined,
    private readonly rows: () => { done: number; counts: Counts; limit?: number | undefined },
    private readonly logger: Logger,
    private readonly everyMs: number,
    private readonly view: ProgressView | undefined,
    private readonly now: () => number = Date.now,
  ) {
    this.started = now();
    this.lastAt = this.started;
    this.total = estimate ?? null;
  }

  start(): void {
    this.view?.start(this.total);
    this.timer = setInterval(() => this.tick(), this.view ? 250 : this.everyMs);
    this.timer.unref();
  }

  /** The state now; moves the interval window on. */
  state(): ProgressState {
    const t = this.now();
    const { done, counts, limit } = this.rows();
    if (this.total !== null && done > this.total) this.total = done;
    const overall = t > this.started ? (done / (t - this.started)) * 1000 : 0;
    const interval = t > this.lastAt ? ((done - this.lastRows) / (t - this.lastAt)) * 1000 : 0;
    this.lastAt = t;
    this.lastRows = done;
    const percent = this.total ? Math.min(100, Math.round((done / this.total) * 1000) / 10) : this.total === 0 ? 100 : null;
    const etaSeconds = this.total !== null && overall > 0 ? Math.max(0, Math.round((this.total - done) / overall)) : null;
    const notWell = STATUSES.filter((s) => !OK_STATUSES.has(s)).reduce((n, s) => n + counts[s], 0);
    return {
      rows: done,
      total: this.total,
      percent,
      rowsPerSec: { interval: round(interval), overall: round(overall) },
      etaSeconds,
      notWell,
      skipped: counts.skipped,
      counts: { ...counts },
      ...(limit !== undefined && { concurrency: limit }),
    };
  }

  private tick(): void {
    const s = this.state();
    if (this.view) this.view.update(s);
    else
      this.logger.info(
        { rows: s.rows, total: s.total, percent: s.percent, rowsPerSec: s.rowsPerSec, etaSeconds: s.etaSeconds, counts: s.counts, concurrency: s.concurrency },
        'progress',
      );
  }

  /** The run is over: what was read is the total; a stopped run shows where it stopped instead. */
  stop(stopped = false): void {
    if (this.timer) clearInterval(this.timer);
    if (this.view) {
      const s = this.state();
      this.view.update(
        stopped
          ? { ...s, etaSeconds: null, stoppedAt: `stopped at row ${s.rows}${s.total !== null ? ` of ${s.total}` : ''}` }
          : { ...s, total: s.rows, percent: 100, etaSeconds: 0 },
      );
      this.view.stop();
    }
  }
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}
