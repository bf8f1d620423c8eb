import type { ApiClient } from '../api/client.js';
import type { SessionIndex } from './session-index.js';
import type { Session } from './resolver.js';

/**
 * Index mode never merges with a stale copy. A row's PUT depends on what the session holds (an
 * `append` or `keep` field, the before-values in changes.csv, and the check that skips a write
 * changing nothing), and another writer (a CRM integration, a person in the UI) may have changed
 * it since the window was listed. So a copy older than `freshMs` is read again before the merge:
 * the listing page it came from is asked for once more (one request gives a fresh copy of every
 * session on it, so an export in the order of the listing costs a page a hundred rows), and a
 * session no longer on its page is searched for, as in search mode.
 */
export class FreshCopies {
  /** Pages being read again, by page number: rows waiting for the same page share the request. */
  private readonly reading = new Map<number, Promise<void>>();
  pagesRead = 0;

  constructor(
    private readonly index: SessionIndex,
    private readonly client: ApiClient,
    readonly freshMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * What the index holds of a session it handed out, read at most `freshMs` ago; undefined when
   * it holds no fresh copy even after reading its page again (search for it), or the session did
   * not come from the index (a search found it: that copy is as fresh as search mode's).
   */
  async current(session: Session): Promise<{ session: Session } | 'search' | undefined> {
    const held = this.index.copyOf(session);
    if (!held) return undefined;
    if (this.now() - held.at <= this.freshMs) return { session: held.session };
    if (held.page === undefined) return 'search';
    const started = this.now();
    await this.readAgain(held.page);
    const again = this.index.copyOf(session);
    // read since this row asked (not an older answer) and still fresh
    return again && again.at >= started - 1 && this.now() - again.at <= this.freshMs ? { session: again.session } : 'search';
  }

  private readAgain(n: number): Promise<void> {
    const running = this.reading.get(n);
    if (running) return running;
    const page = this.index.pageRefs[n]!;
    const read = (async () => {
      try {
        const answer = await this.client.listSessions(page.filter, page.skip, page.limit);
        this.pagesRead++;
        // an answer longer than asked is not trusted (see the listing's own checks)
        if (answer.items.length <= page.limit) this.index.noteRead(answer.items, this.now());
      } finally {
        this.reading.delete(n);
      }
    })();
    this.reading.set(n, read);
    return read;
  }
}
