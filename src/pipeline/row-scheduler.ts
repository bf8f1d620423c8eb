import pLimit, { type LimitFunction } from 'p-limit';
import type { ApiClient } from '../api/client.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../logger.js';
import type { ChangeSink } from '../change-line.js';
import type { Mapping } from '../mapping/types.js';
import { type FreshCopies, freshCopiesFor } from './fresh-copies.js';
import type { MappedRow } from './mapper.js';
import { type ResolveOptions, type RowResolution, resolveFromIndex, resolveRow, type Session } from './resolver.js';
import type { RowSink, StopState } from './row.js';
import type { SessionIndex } from './session-index.js';
import { SessionQueue } from './session-queue.js';
import { TurnGate } from './turn-gate.js';
import { WrittenState } from './written-state.js';

/** Index mode's index: listed before the rows, or (`later`) when the first row needs the API. */
export interface IndexSource {
  current(): SessionIndex | undefined;
  later?: () => Promise<SessionIndex | undefined>;
}

export interface SchedulerOptions {
  mapping: Mapping;
  client: ApiClient;
  stop: StopState & { readonly stopSignal: AbortSignal };
  sink: RowSink;
  logger: Logger;
  dryRun: boolean;
  concurrency: number;
  resolve: ResolveOptions;
  maxBodyBytes: number;
  /** A resumed run: later rows of a session a redone row wrote are redone too. */
  resumed: boolean;
  index: IndexSource | undefined;
  /** Index mode: `--index-fresh`, ms. */
  freshMs: number;
  /** `--concurrency auto`: the request slots follow its limit. */
  adaptive?: { drive(slots: { concurrency: number }): void } | undefined;
  /** The run's way back: each write's line, durable before its PUT is sent (a dry run's plan). */
  changes?: { runId: string; sink: ChangeSink } | undefined;
}

/**
 * Owns what keeps the rows of a run in order while `concurrency` of them are in flight; every
 * row's life goes through it: a ticket when read, its search (or a search shared with a row of
 * the same keys still in flight), its turn, its place on its session's queue, its write, its
 * release. The invariants, kept together by the parts below:
 *
 * 1. Requests in flight never exceed `concurrency` (`limit`: searches, page reads, writes alike).
 * 2. Rows of one session write in file order: a row queues its write only in its turn (`gate`:
 *    every earlier row has queued its write or learnt it has none), and a session's writes run
 *    one after the other (`queue`).
 * 3. A row merges with what the session holds as of its search, or later: a write of this run
 *    that a row in flight searched before (`written`, by mark) is merged in; in index mode, a
 *    copy older than --index-fresh is read again first (`fresh`).
 * 4. A key repeated while its session is in flight is searched once (`shared`), and its rows keep
 *    the mark of that search.
 * 5. Resuming, a row after a redone row of the same session is redone (`dirty`).
 * 6. Memory holds only the rows in flight (the reader's look-ahead bounds them) and the sessions
 *    they touch; every part forgets a session once no row in flight needs it.
 */
/** A search shared by the rows of the same keys still in flight. */
export interface SharedResolution {
  promise: Promise<RowResolution | null>;
  users: number;
  /** The written-state mark of its search: every row using it saw the server as of then. */
  mark: number;
}

/** A row's hold on a search: its answer, the row's mark, and the release when the row is done with it. */
export interface Lease {
  resolution: Promise<RowResolution | null>;
  mark: number;
  release: () => void;
}

export class RowScheduler {
  private readonly limit: LimitFunction;
  private readonly gate = new TurnGate();
  private readonly queue = new SessionQueue();
  /** What this run last wrote to each session, for rows that searched before (merged in writeRow). */
  readonly written: WrittenState;
  private readonly shared = new Map<string, SharedResolution>();
  private readonly dirty: Set<string> | undefined;
  readonly mapping: Mapping;
  readonly client: ApiClient;
  readonly stop: StopState;
  readonly sink: RowSink;
  readonly logger: Logger;
  readonly dryRun: boolean;
  readonly resolve: ResolveOptions;
  readonly maxBodyBytes: number;
  readonly changes: SchedulerOptions['changes'];
  index: SessionIndex | undefined;
  fresh: FreshCopies | undefined;
  indexReady: (() => Promise<void>) | undefined;

  constructor(private readonly o: SchedulerOptions) {
    this.limit = pLimit(o.concurrency);
    o.adaptive?.drive(this.limit);
    this.written = new WrittenState(o.dryRun);
    this.dirty = o.resumed ? new Set() : undefined;
    this.mapping = o.mapping;
    this.client = o.client;
    this.stop = o.stop;
    this.sink = o.sink;
    this.logger = o.logger;
    this.dryRun = o.dryRun;
    this.resolve = o.resolve;
    this.maxBodyBytes = o.maxBodyBytes;
    this.changes = o.changes;
    this.useIndex(o.index?.current());
    const later = o.index?.later;
    if (later) this.indexReady = () => (this.listing ??= this.listLater(later));
  }

  private listing: Promise<void> | undefined;

  /** A ticket for the next row, in the order rows are read (invariant 2). */
  ticket(): number {
    return this.gate.ticket();
  }

  /** Resolves when every earlier row has queued its write or learnt it has none. */
  turn(ticket: number): Promise<void> {
    return this.gate.turn(ticket);
  }

  pass(ticket: number): void {
    this.gate.pass(ticket);
  }

  /**
   * The row's search: its own, or the one a row with the same keys still in flight made (a key
   * repeated in the file is searched once while its session is being written; invariant 4), with
   * the row's mark (invariant 3). The row's date is part of the question: the same key on another
   * day may be another session.
   */
  search(mapped: MappedRow): Lease {
    const sig = `${mapped.keys.map((k) => `${k.index}\u0000${k.lookup}`).join('\u0001')}\u0002${mapped.date ?? ''}`;
    let shared = this.shared.get(sig);
    let mark: number;
    if (shared) {
      shared.users++;
      mark = this.written.join(shared.mark);
    } else {
      mark = this.written.begin();
      shared = { promise: this.resolveKeys(mapped), users: 1, mark };
      this.shared.set(sig, shared);
    }
    const mine = shared;
    const release = () => {
      if (--mine.users === 0 && this.shared.get(sig) === mine) this.shared.delete(sig);
    };
    return { resolution: mine.promise, mark, release };
  }

  private resolveKeys(mapped: MappedRow): Promise<RowResolution | null> {
    // a key the index knows needs no request, so no turn among the requests in flight
    const known = this.index && !this.stop.stopping ? resolveFromIndex(mapped.keys, this.index, mapped.date) : undefined;
    const promise = known
      ? Promise.resolve(known)
      : this.limit(() => (this.stop.stopping ? null : resolveRow(this.client, this.mapping.match, mapped.keys, this.resolve, this.index, mapped.date)));
    // every row using it handles a failure; this keeps an unwatched rejection from surfacing
    promise.catch(() => undefined);
    return promise;
  }

  /**
   * Queues a row's write on its session (invariant 2): in index mode a stale copy first waits,
   * with its page's other rows, for the page to be read again (invariant 3); the write takes a
   * request slot (invariant 1), and `then` records it before the session's next write starts.
   */
  queueWrite<T>(session: Session, write: (readSince: number | undefined) => Promise<T>, then: (result: T) => Promise<void>): Promise<void> {
    return this.queue.run(session.id, async () => {
      const ready = this.fresh ? await this.fresh.ready(session) : undefined;
      try {
        await then(
          await this.limit(() => {
            ready?.sent();
            return write(ready?.readSince);
          }),
        );
      } finally {
        ready?.sent();
      }
    });
  }

  /** The row is done with what it searched: writes it may have missed can be forgotten. */
  done(mark: number): void {
    this.written.done(mark);
  }

  /** Resuming: a session a redone row writes; its later finished rows are redone too (invariant 5). */
  redo(sessionId: string): void {
    this.dirty?.add(sessionId);
  }

  redone(sessionId: string): boolean {
    return this.dirty?.has(sessionId) ?? false;
  }

  private useIndex(index: SessionIndex | undefined): void {
    this.index = index;
    this.fresh = index
      ? freshCopiesFor(index, this.client, { freshMs: this.o.freshMs, concurrency: this.o.concurrency, limit: this.limit, stopSignal: this.o.stop.stopSignal })
      : undefined;
  }

  /** A resumed run lists the window when its first row needs the API: resuming a finished run sends nothing. */
  private async listLater(later: () => Promise<SessionIndex | undefined>): Promise<void> {
    let index: SessionIndex | undefined;
    try {
      index = await later();
    } catch (e) {
      // a refused login or a stop while listing: the run cannot go on
      if (!this.stop.stopping) this.stop.fatal(errorMessage(e));
    }
    this.useIndex(index);
    this.indexReady = undefined;
  }
}
