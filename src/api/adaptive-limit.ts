/**
 * `--concurrency auto`: how many requests may be in flight, found from what the API shows, as TCP
 * finds a window (AIMD with a latency gradient, after Netflix's concurrency-limits):
 *
 * - each answer's time is compared with the fastest seen for its endpoint (the unloaded latency);
 * - after a window of answers as long as the limit, the limit grows by one while they averaged
 *   under 1.2 times that minimum (the server is not queueing), and shrinks by an eighth when they
 *   averaged over 1.5 times it (it is);
 * - a 429, a 5xx or no answer at all cuts it to 70 % at once; the answers of the requests already in
 *   flight at that moment are not counted again (a window of cool-down).
 *
 * The limit stays between 1 and `max`. The client honours `Retry-After` and learns a rate of its own
 * from 429s (throttle.ts); this keeps the number in flight where the latency says the server copes.
 * The changes are kept (`history`) for summary.json.
 */
export class AdaptiveLimit {
  limit: number;
  private readonly fastest = new Map<string, number>();
  private ratios = 0;
  private seen = 0;
  private coolDown = 0;
  /** Each change: seconds since the start, the new limit (at most 200 kept: the first 100 and the last 100). */
  readonly history: { atS: number; limit: number }[] = [];
  private changes = 0;
  private readonly started: number;
  /** The request slots that follow the limit (p-limit's settable concurrency). */
  private slots: { concurrency: number } | undefined;

  /** Makes these request slots follow the limit, from now on. */
  drive(slots: { concurrency: number }): void {
    this.slots = slots;
    slots.concurrency = this.limit;
  }

  constructor(
    start: number,
    readonly max: number,
    private readonly now: () => number = Date.now,
  ) {
    this.limit = Math.max(1, Math.min(max, start));
    this.started = now();
    this.history.push({ atS: 0, limit: this.limit });
  }

  /** One answer: its endpoint, HTTP status (0: none) and time on the wire. */
  observe = (endpoint: string, status: number, ms: number): void => {
    if (status === 429 || status === 0 || status >= 500) {
      if (this.coolDown === 0) this.set(Math.floor(this.limit * 0.7));
      this.coolDown = this.limit;
      return;
    }
    const fastest = Math.min(this.fastest.get(endpoint) ?? Number.POSITIVE_INFINITY, Math.max(ms, 0.1));
    this.fastest.set(endpoint, fastest);
    if (this.coolDown > 0) {
      this.coolDown--;
      return;
    }
    this.ratios += ms / fastest;
    if (++this.seen < this.limit) return;
    const gradient = this.ratios / this.seen;
    this.ratios = 0;
    this.seen = 0;
    if (gradient > 1.5) this.set(this.limit - Math.max(1, Math.floor(this.limit / 8)));
    else if (gradient < 1.2) this.set(this.limit + 1);
  };

  private set(n: number): void {
    const next = Math.max(1, Math.min(this.max, n));
    if (next === this.limit) return;
    this.limit = next;
    this.changes++;
    const atS = Math.round((this.now() - this.started) / 100) / 10;
    if (this.history.length >= 200) this.history.splice(100, 1);
    this.history.push({ atS, limit: next });
    if (this.slots) this.slots.concurrency = next;
  }

  /** For summary.json: the range it moved in, where it ended, and its changes. */
  report(): { auto: true; max: number; final: number; low: number; high: number; changes: number; history: { atS: number; limit: number }[] } {
    const limits = this.history.map((h) => h.limit);
    return { auto: true, max: this.max, final: this.limit, low: Math.min(...limits), high: Math.max(...limits), changes: this.changes, history: this.history };
  }
}
