import { interrupted, sleep } from './retry.js';

/**
 * One request pace for the whole run. `--rate N` caps requests per second across all workers;
 * a 429 halves the pace (and pauses everyone for its Retry-After), and each second without a
 * 429 raises it by a quarter again, up to the cap (or back to unlimited when there is none).
 */
export class Throttle {
  private rate: number;
  private nextAt = 0;
  private pausedUntil = 0;
  private lastThrottle = -Infinity;
  private lastRaise = 0;
  /** Start times of the last second's requests, to know the pace actually reached. */
  private recent: number[] = [];
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
      this.rate = Math.max(1, Math.min(this.rate, reached) / 2);
      this.lastThrottle = now;
      this.lastRaise = now;
    }
    if (retryAfterMs !== undefined && retryAfterMs > 0) this.pausedUntil = Math.max(this.pausedUntil, now + retryAfterMs);
  }

  /**
   * What the API says of its limit (the IETF RateLimit headers, or X-RateLimit-*): a policy of N
   * requests a window of W seconds paces the run at 95 % of N/W, below --rate; nothing left of
   * the window pauses the run until it resets. Headers that say nothing usable change nothing.
   */
  advise(headers: Record<string, string | string[] | undefined>): void {
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
    this.lastRaise = now;
    this.rate = Math.min(this.rate * 1.25, ceiling);
    // past a generous pace with no cap set, stop pacing altogether
    if (this.rate >= this.cap || (!Number.isFinite(this.cap) && this.rate > 10_000)) this.rate = this.cap;
  }
}
