import pLimit, { type LimitFunction } from 'p-limit';
import type { ApiClient } from '../api/client.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Mapping } from '../mapping/types.js';
import { type FreshCopies, freshCopiesFor } from './fresh-copies.js';
import type { RowContext, SharedResolution } from './process-row.js';
import type { ResolveOptions } from './resolver.js';
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
export class RowScheduler implements RowContext {
  readonly limit: LimitFunction;
  readonly gate = new TurnGate();
  readonly queue = new SessionQueue();
  readonly written = new WrittenState();
  readonly shared = new Map<string, SharedResolution>();
  readonly dirty: Set<string> | undefined;
  readonly mapping: Mapping;
  readonly client: ApiClient;
  readonly stop: StopState;
  readonly sink: RowSink;
  readonly logger: Logger;
  readonly dryRun: boolean;
  readonly resolve: ResolveOptions;
  readonly maxBodyBytes: number;
  index: SessionIndex | undefined;
  fresh: FreshCopies | undefined;
  indexReady: (() => Promise<void>) | undefined;

  constructor(private readonly o: SchedulerOptions) {
    this.limit = pLimit(o.concurrency);
    this.dirty = o.resumed ? new Set() : undefined;
    this.mapping = o.mapping;
    this.client = o.client;
    this.stop = o.stop;
    this.sink = o.sink;
    this.logger = o.logger;
    this.dryRun = o.dryRun;
    this.resolve = o.resolve;
    this.maxBodyBytes = o.maxBodyBytes;
    this.useIndex(o.index?.current());
    const later = o.index?.later;
    if (later) this.indexReady = () => (this.listing ??= this.listLater(later));
  }

  private listing: Promise<void> | undefined;

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
