import { interrupted, sleep } from './retry.js';

/**
 * One request pace for the whole run. `--rate N` caps requests per second across all workers.
 * A 429 pauses everyone for a Retry-After longer than a second and sets the pace to 95 % of what the API accepted in
 * the second before it (the limit it showed, when it advertises none); each second without a 429
 * raises the pace by a quarter up to that mark, then probes above it by 2 % a second, later after
 * each 429 met at the same mark again (5 s, 10 s, ... up to a minute): a limit that stays put is
 * met about once a minute, a limit that grows is found again. With no 429 for a while the pace
 * goes back to the cap (or to unlimited when there is none).
 */
export class Throttle {
  private rate: number;
  private nextAt = 0;
  private pausedUntil = 0;
  private lastThrottle = -Infinity;
  private lastRaise = 0;
  /** Start times of the last second's requests, to know the pace actually reached. */
  private recent: number[] = [];
  /** When the last second's answers other than 429 came: the pace the API accepted. */
  private accepted: number[] = [];
  /** The pace the API last throttled at (Infinity: never). */
  private mark = Number.POSITIVE_INFINITY;
  /** 429s met at about the same mark in a row: each makes the probing above it wait longer. */
  private strikes = 0;
  throttled = 0;

  constructor(
    private readonly cap: number = Infinity,
    private readonly now: () => number = Date.now,
    private readonly wait: (ms: number, signal?: AbortSignal) => Promise<void> = sleep,
  ) {
    this.rate = cap;
  }

  /** Current pace in requests per second (Infinity: unlimited). */
  get currentRate(): number {
    return this.rate;
  }

  /**
   * This request's turn: nothing to wait for (undefined, no promise and no tick: the common case),
   * or a wait that a stop (`signal`) ends with E_INTERRUPTED.
   */
  acquire(signal?: AbortSignal): Promise<void> | undefined {
    if (signal?.aborted) throw interrupted();
    const now = this.now();
    this.raise(now);
    let at = Math.max(now, this.pausedUntil);
    if (Number.isFinite(this.rate)) {
      at = Math.max(at, this.nextAt);
      this.nextAt = at + 1000 / this.rate;
    }
    this.recent.push(at);
    while (this.recent.length > 0 && this.recent[0]! <= now - 1000) this.recent.shift();
    return at > now ? this.wait(at - now, signal) : undefined;
  }

  /** A 429: slow the whole run down, and pause it for Retry-After when given. */
  onThrottled(retryAfterMs?: number): void {
    const now = this.now();
    this.throttled++;
    // several requests in flight see the same 429 burst: slow down once per burst
    if (now - this.lastThrottle > 250) {
      const reached = Math.max(1, this.recent.filter((t) => t > now - 1000).length);
      const accepted = this.accepted.filter((t) => t > now - 1000).length;
      // what the API let through is its limit; with too few answers to tell, half the pace reached
      const at = accepted >= 2 ? Math.min(this.rate, accepted) : Math.min(this.rate, reached) / 2;
      this.strikes = at >= this.mark * 0.8 ? this.strikes + 1 : 1;
      this.mark = Math.max(1, at);
      this.rate = Math.max(1, at * 0.95);
      this.lastThrottle = now;
      this.lastRaise = now;
    }
    // the throttled request itself always waits its Retry-After (the client's retry); a longer one
    // than a second pauses everyone, a second or less is the usual answer of a per-second window
    // and the slower pace is the run's answer to it (a whole second's pause each time cost 15 % of
    // the throughput under a 200/s limit)
    if (retryAfterMs !== undefined && retryAfterMs > 1000) this.pausedUntil = Math.max(this.pausedUntil, now + retryAfterMs);
  }

  /**
   * What the API says of its limit (the IETF RateLimit headers, or X-RateLimit-*): a policy of N
   * requests a window of W seconds paces the run at 95 % of N/W, below --rate; nothing left of
   * the window pauses the run until it resets. Headers that say nothing usable change nothing.
   */
  advise(headers: Record<string, string | string[] | undefined>, status = 200): void {
    if (status !== 429) {
      const now = this.now();
      this.accepted.push(now);
      while (this.accepted.length > 0 && this.accepted[0]! <= now - 1000) this.accepted.shift();
    }
    const h = (name: string) => {
      const v = headers[name] ?? headers[`x-${name}`];
      return Array.isArray(v) ? v[0] : v;
    };
    const policy = /^\s*(\d+)\s*;\s*w=(\d+)/.exec(h('ratelimit-policy') ?? '');
    if (policy && Number(policy[2]) > 0) {
      const advised = (Number(policy[1]) / Number(policy[2])) * 0.95;
      if (advised > 0 && advised < this.cap && Math.abs(advised - this.advised) > 1e-9) {
        this.advised = advised;
        this.rate = Math.min(this.rate, advised);
      }
    }
    const remaining = Number(h('ratelimit-remaining'));
    const reset = Number(h('ratelimit-reset'));
    if (h('ratelimit-remaining') !== undefined && remaining === 0 && reset > 0 && reset <= 60)
      this.pausedUntil = Math.max(this.pausedUntil, this.now() + reset * 1000);
  }

  /** The pace the API's RateLimit-Policy advises (Infinity: none seen). */
  private advised = Number.POSITIVE_INFINITY;

  private raise(now: number): void {
    const ceiling = Math.min(this.cap, this.advised);
    if (this.rate >= ceiling || now - this.lastRaise < 1000 || now - this.lastThrottle < 1000) return;
    const near = this.mark * 0.95;
    // up to the mark quickly; above it slowly, and later the more often it was met there
    if (this.rate < near) this.rate = Math.min(this.rate * 1.25, near, ceiling);
    else if (now - this.lastThrottle >= probeDelay(this.strikes)) this.rate = Math.min(this.rate * 1.02, ceiling);
    else return;
    this.lastRaise = now;
    // a minute past the mark without a 429: it no longer holds
    if (this.rate > this.mark * 1.1 && now - this.lastThrottle > 60_000) this.mark = Number.POSITIVE_INFINITY;
    // past a generous pace with no cap set, stop pacing altogether
    if (this.rate >= this.cap || (!Number.isFinite(this.cap) && this.rate > 10_000)) this.rate = this.cap;
  }
}

/** How long after a 429 the pace may probe above its mark: at once the first time, then 5 s, 10 s, 20 s, 40 s, a minute. */
function probeDelay(strikes: number): number {
  return strikes <= 1 ? 0 : Math.min(60_000, 5_000 * 2 ** (strikes - 2));
}
