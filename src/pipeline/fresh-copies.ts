import type { LimitFunction } from 'p-limit';
import type { ApiClient } from '../api/client.js';
import type { SessionIndex } from './session-index.js';
import type { Session } from './resolver.js';

export interface FreshOptions {
  /** A copy read at most this long ago (ms) is used as it is. */
  freshMs: number;
  /** The one bound on requests in flight: the pages read again take their turn in it. */
  limit: LimitFunction;
  /** Rows that may wait for their page at once; past it the largest group is read. */
  lookAhead: number;
  /** The longest a row waits for its page to be read (ms). */
  maxWaitMs: number;
  /** Pages read (with their rows' writes) at once. */
  flushes: number;
  /** The most rows one read lets write: more wait for the next read of their page (each waits for a slot after the read). */
  groupMax: number;
  stopSignal: AbortSignal;
  now?: () => number;
}

/**
 * Index mode's rows that may wait for their listing page to be read again (a few MB of rows).
 * The reader may run this far (plus two rounds of requests) ahead of the rows in flight.
 */
export const FRESH_LOOK_AHEAD = 4096;

/**
 * A run's FreshCopies: groups between their read and their rows' request slots, one for every 8
 * requests in flight, at least 2 (more overlap the reads with the writes); and at most two rounds
 * of requests a read, so a merge's copy is at most a read and two round trips old when its PUT
 * leaves (a read a 2 x concurrency rows at worst: 1.06 requests a row at the default 8).
 */
export function freshCopiesFor(
  index: SessionIndex,
  client: ApiClient,
  o: { freshMs: number; concurrency: number; limit: LimitFunction; stopSignal: AbortSignal },
): FreshCopies {
  return new FreshCopies(index, client, {
    freshMs: o.freshMs,
    limit: o.limit,
    lookAhead: FRESH_LOOK_AHEAD,
    maxWaitMs: 1000,
    flushes: Math.max(2, Math.ceil(o.concurrency / 8)),
    groupMax: o.concurrency * 2,
    stopSignal: o.stopSignal,
  });
}

/** Rows waiting for one listing page to be read again. */
interface Group {
  page: number;
  since: number;
  waiters: { go: (readSince: number) => void; sent: Promise<void> }[];
}

/**
 * Index mode never merges with a stale copy. A row's PUT depends on what the session holds (an
 * `append` or `keep` field, the before-values in changes.csv, and the check that skips a write
 * changing nothing), and another writer (a CRM integration, a person in the UI) may change it
 * at any time. What is lost to such a writer is what lands between the read a merge used and the
 * PUT: in search mode, one round trip.
 *
 * So a row whose copy is older than `freshMs` waits, grouped with the other rows of the listing
 * page its session came from; when the group is read (the page is asked for again: one request
 * gives a fresh copy of every session on it), its rows are written at once, before the next
 * groups: the time between the read and the PUTs is a few round trips, as in search mode, and an
 * export in any order costs about one page a group instead of a request a row. A group is read
 * when it holds a page's worth of rows, when `lookAhead` rows wait, when its first row has waited
 * `maxWaitMs`, or when the input is read to its end. A session no longer on its page is searched
 * for. Invariants: a waiting row holds no request slot; at most `flushes` groups are between
 * their read and their rows' last request slot; a stop releases every waiting row at once.
 */
export class FreshCopies {
  private readonly groups = new Map<number, Group>();
  private readonly due: number[] = [];
  private waiting = 0;
  private flushing = 0;
  private ended = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly now: () => number;

  constructor(
    private readonly index: SessionIndex,
    private readonly client: ApiClient,
    private readonly o: FreshOptions,
  ) {
    this.now = o.now ?? Date.now;
    o.stopSignal.addEventListener('abort', () => this.releaseAll(), { once: true });
  }

  /**
   * Waits until the session may be merged: its copy is fresh, or its page has just been read
   * again. Returns when that read was (a copy read since then counts as fresh) and the call to
   * make once the row's write has its request slot (or will not be made).
   */
  async ready(session: Session): Promise<{ readSince: number; sent: () => void }> {
    const none = { readSince: Infinity, sent: () => undefined };
    const held = this.index.copyOf(session);
    if (!held || held.page === undefined || this.o.stopSignal.aborted) return none;
    if (this.now() - held.at <= this.o.freshMs) return { readSince: held.at, sent: () => undefined };
    let group = this.groups.get(held.page);
    if (!group) {
      group = { page: held.page, since: this.now(), waiters: [] };
      this.groups.set(held.page, group);
    }
    let sent!: () => void;
    const done = new Promise<void>((r) => (sent = r));
    const readSince = new Promise<number>((go) => group.waiters.push({ go, sent: done }));
    this.waiting++;
    // a group as large as its page's sessions can grow no more (but by repeats)
    const full = Math.max(1, Math.min(this.o.groupMax, this.index.pageRefs[held.page]?.sessions ?? 100));
    if (group.waiters.length >= full) this.makeDue(group.page);
    else this.pump();
    this.tick();
    return { readSince: await readSince, sent };
  }

  /**
   * The input is read to its end: no group waits for more rows; from now on, whenever a read is
   * free, the largest group is read (rows arriving meanwhile, later rows of sessions just written,
   * gather into groups while the reads are busy).
   */
  inputDone(): void {
    this.ended = true;
    this.pump();
  }

  /**
   * What the index holds of a session it handed out, read at most `freshMs` ago or since
   * `readSince`; 'search' when it holds no such copy even after reading its page again (search for
   * it); undefined when the session did not come from the index (a search found it: that copy is
   * as fresh as search mode's).
   */
  async current(session: Session, readSince = Infinity): Promise<{ session: Session } | 'search' | undefined> {
    const fresh = (c: { at: number } | undefined) => c !== undefined && (c.at >= readSince || this.now() - c.at <= this.o.freshMs);
    const held = this.index.copyOf(session);
    if (!held) return undefined;
    if (fresh(held)) return { session: held.session };
    if (held.page === undefined) return 'search';
    // not waited for (a stop, or a copy that aged in the queue): read its page now
    const started = this.now();
    await this.read(held.page);
    const again = this.index.copyOf(session);
    return again && again.at >= started ? { session: again.session } : 'search';
  }

  private makeDue(page: number | undefined): void {
    if (page === undefined || !this.groups.has(page) || this.due.includes(page)) return;
    this.due.push(page);
    this.pump();
  }

  private largest(): number | undefined {
    let best: Group | undefined;
    for (const g of this.groups.values()) if (!this.due.includes(g.page) && (!best || g.waiters.length > best.waiters.length)) best = g;
    return best?.page;
  }

  /**
   * Once nothing more can join the groups soon (the input is read, or `lookAhead` rows wait and
   * the reader waits for them), every free read takes the largest group: rows gather into groups
   * while the reads are busy, as writes gather in a Nagle buffer.
   */
  private pressed(): boolean {
    return (this.ended || this.waiting >= this.o.lookAhead) && this.due.length === 0 && this.flushing < this.o.flushes && this.groups.size > 0;
  }

  private pump(): void {
    if (this.pressed()) this.makeDue(this.largest());
    while (this.flushing < this.o.flushes && this.due.length > 0) {
      const page = this.due.shift()!;
      const group = this.groups.get(page);
      if (!group) continue;
      // at most groupMax rows a read: the others wait for the page's next read
      const waiters = group.waiters.splice(0, this.o.groupMax);
      if (group.waiters.length === 0) this.groups.delete(page);
      else group.since = this.now();
      this.waiting -= waiters.length;
      this.flushing++;
      void this.flush({ page, since: group.since, waiters }).finally(() => {
        this.flushing--;
        this.pump();
      });
      if (this.pressed()) this.makeDue(this.largest());
    }
    if (this.groups.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  /** Reads the group's page, lets its rows write, and waits until every one has its request slot: the next group's read queues behind them. */
  private async flush(group: Group): Promise<void> {
    const started = this.now();
    try {
      await this.o.limit(() => this.read(group.page));
    } catch {
      // the rows find no fresh copy and search for their sessions, which reports any failure
    }
    for (const w of group.waiters) w.go(started);
    await Promise.all(group.waiters.map((w) => w.sent));
  }

  private async read(n: number): Promise<void> {
    const page = this.index.pageRefs[n]!;
    const answer = await this.client.listSessions(page.filter, page.skip, page.limit);
    this.index.pagesReadAgain++;
    // an answer longer than asked is not trusted (see the listing's own checks)
    if (answer.items.length <= page.limit) this.index.noteRead(answer.items, this.now());
  }

  /** Groups whose first row waited `maxWaitMs` are read; checked while any row waits. */
  private tick(): void {
    if (this.timer) return;
    this.timer = setInterval(
      () => {
        const t = this.now();
        for (const g of this.groups.values()) if (t - g.since >= this.o.maxWaitMs) this.makeDue(g.page);
        this.pump();
      },
      Math.max(10, Math.min(100, this.o.maxWaitMs / 4)),
    );
  }

  private releaseAll(): void {
    for (const g of this.groups.values()) for (const w of g.waiters) w.go(Infinity);
    this.groups.clear();
    this.due.length = 0;
    this.waiting = 0;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
