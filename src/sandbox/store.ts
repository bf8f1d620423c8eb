/** The sandbox's sessions, with a trigram index so a loose search stays fast on 1M sessions. */
export interface SandboxSession {
  id: string;
  metadata: Record<string, unknown>;
  [field: string]: unknown;
}

/** Session fields the loose `search_query` looks in (the file name with and without extension). */
export const SEARCH_FIELDS = ['external_id', 'file_name', 'caller', 'destination'] as const;

export class SessionStore {
  private sessions: SandboxSession[] = [];
  private byId = new Map<string, SandboxSession>();
  private hay: string[] = [];
  private grams = new Map<string, number[]>();
  /** All sessions, newest start first (built when first listed after a change). */
  private sorted: SandboxSession[] | undefined;

  constructor(sessions: SandboxSession[] = []) {
    this.load(sessions);
  }

  load(sessions: SandboxSession[]): void {
    this.sessions = [];
    this.byId.clear();
    this.hay = [];
    this.grams.clear();
    this.indexed = 0;
    this.add(sessions);
  }

  add(sessions: SandboxSession[]): void {
    this.sorted = undefined;
    for (const raw of sessions) {
      const s: SandboxSession = { ...raw, metadata: { ...(raw.metadata ?? {}) } };
      if (this.byId.has(s.id)) throw new Error(`duplicate session id ${s.id}`);
      this.sessions.push(s);
      this.byId.set(s.id, s);
    }
  }

  /** The trigram index, brought up to date on the first search after a change (a listing-only run never needs it). */
  private indexed = 0;
  private indexUpTo(): void {
    for (; this.indexed < this.sessions.length; this.indexed++) {
      const s = this.sessions[this.indexed]!;
      const text = SEARCH_FIELDS.map((f) => (s[f] === undefined || s[f] === null ? '' : String(s[f]).toLowerCase())).join('\u0001');
      this.hay.push(text);
      const seen = new Set<string>();
      for (let i = 0; i + 3 <= text.length; i++) {
        const g = text.slice(i, i + 3);
        if (seen.has(g)) continue;
        seen.add(g);
        let list = this.grams.get(g);
        if (!list) {
          list = [];
          this.grams.set(g, list);
        }
        list.push(this.indexed);
      }
    }
  }

  get(id: string): SandboxSession | undefined {
    return this.byId.get(id);
  }

  all(): SandboxSession[] {
    return this.sessions;
  }

  /** Every session, newest start first (ties by id), as the API lists them. */
  newestFirst(): SandboxSession[] {
    this.sorted ??= [...this.sessions].sort(newestFirst);
    return this.sorted;
  }

  /**
   * Sessions whose start date (the date part of `start_time`) is within FROM..TO, inclusive,
   * either end open: a slice of the newest-first list found by binary search.
   */
  startedBetween(from: string | undefined, to: string | undefined): { list: SandboxSession[]; first: number; end: number } {
    const list = this.newestFirst();
    const start = (s: SandboxSession) => String(s.start_time ?? '');
    // newest first: the sessions after `to` come first, those before `from` last
    const first = to ? lowerBound(list, (s) => start(s) < `${to}\uffff`) : 0;
    const end = from ? lowerBound(list, (s) => start(s) < from) : list.length;
    return { list, first, end: Math.max(first, end) };
  }

  get size(): number {
    return this.sessions.length;
  }

  /** Case-insensitive substring search over SEARCH_FIELDS. */
  search(query: string): SandboxSession[] {
    this.indexUpTo();
    const q = query.toLowerCase();
    if (q === '') return [...this.sessions];
    let candidates: Iterable<number>;
    if (q.length < 3) {
      candidates = this.sessions.keys();
    } else {
      let best: number[] | undefined;
      for (let i = 0; i + 3 <= q.length; i++) {
        const list = this.grams.get(q.slice(i, i + 3));
        if (!list) return [];
        if (!best || list.length < best.length) best = list;
      }
      candidates = best ?? [];
    }
    const out: SandboxSession[] = [];
    for (const i of candidates) {
      if (this.hay[i]!.includes(q)) out.push(this.sessions[i]!);
    }
    return out;
  }
}

/** What the API shows for a session: its fields with the metadata keys at the top level. */
export function toApiItem(s: SandboxSession): Record<string, unknown> {
  const { metadata, ...fields } = s;
  return { ...metadata, ...fields };
}

export function newestFirst(a: SandboxSession, b: SandboxSession): number {
  return String(b.start_time ?? '').localeCompare(String(a.start_time ?? '')) || a.id.localeCompare(b.id);
}

/** The first index whose element satisfies `pred`, for a `pred` false then true along the list. */
function lowerBound<T>(list: T[], pred: (x: T) => boolean): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (pred(list[mid]!)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}
