import type { Logger } from '../logger.js';

/**
 * Retries as people read them: each one a debug line, and at most one warning every 10 s that
 * sums up what was retried since ("retrying: 12 × HTTP 503, 3 × reset in the last 10 s"); the
 * first retry of a quiet spell is told at once, and what is left is told when the client closes.
 */
export class RetryNotes {
  private readonly counts = new Map<string, number>();
  private lastTold = Number.NEGATIVE_INFINITY;
  private since = 0;

  constructor(
    private readonly log: Logger | undefined,
    private readonly now: () => number = Date.now,
    private readonly everyMs = 10_000,
  ) {}

  note(fields: Record<string, unknown>, why: string): void {
    this.log?.debug(fields, 'retrying request');
    const t = this.now();
    if (this.counts.size === 0) this.since = t;
    const k = kindOf(why);
    this.counts.set(k, (this.counts.get(k) ?? 0) + 1);
    if (t - this.lastTold >= this.everyMs) this.tell();
  }

  /** Tells what was retried since the last line, if anything. */
  tell(): void {
    if (this.counts.size === 0) return;
    const t = this.now();
    const seconds = Math.max(1, Math.round((t - this.since) / 1000));
    const list = [...this.counts].sort((a, b) => b[1] - a[1]);
    const text = list.map(([k, n]) => `${n} × ${k}`).join(', ');
    this.log?.warn({ retries: Object.fromEntries(list) }, `retrying: ${text} in the last ${seconds} s`);
    this.counts.clear();
    this.lastTold = t;
  }
}

/** A retry's cause in a word: the HTTP status, or what became of the connection. */
export function kindOf(why: string): string {
  const status = /HTTP (\d{3})/.exec(why);
  if (status) return `HTTP ${status[1]}`;
  if (/ECONNRESET|socket hang up|reset/i.test(why)) return 'reset';
  if (/timed? ?out|ETIMEDOUT/i.test(why)) return 'timeout';
  if (/ECONNREFUSED|refused/i.test(why)) return 'refused';
  if (/EAI_AGAIN|ENOTFOUND|DNS/i.test(why)) return 'DNS';
  return why.length > 40 ? `${why.slice(0, 40)}…` : why;
}
