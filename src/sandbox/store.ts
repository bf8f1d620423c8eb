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

  constructor(sessions: SandboxSession[] = []) {
    this.load(sessions);
  }

  load(sessions: SandboxSession[]): void {
    this.sessions = [];
    this.byId.clear();
    this.hay = [];
    this.grams.clear();
    this.add(sessions);
  }

  add(sessions: SandboxSession[]): void {
    for (const raw of sessions) {
      const s: SandboxSession = { ...raw, metadata: { ...(raw.metadata ?? {}) } };
      if (this.byId.has(s.id)) throw new Error(`duplicate session id ${s.id}`);
      const index = this.sessions.length;
      this.sessions.push(s);
      this.byId.set(s.id, s);
      const text = SEARCH_FIELDS.map((f) => (s[f] === undefined || s[f] === null ? '' : String(s[f]).toLowerCase())).join('\u0001');
      this.hay.push(text);
      const seen = new Set<string>();
      for (let i = 0; i + 3 <= text.length; i++) {
        const g = text.slice(i, i + 3);
        if (seen.has(g)) continue;
        seen.add(g);
        let list = this.grams.get(g);
        if (!list) this.grams.set(g, (list = []));
        list.push(index);
      }
    }
  }

  get(id: string): SandboxSession | undefined {
    return this.byId.get(id);
  }

  all(): SandboxSession[] {
    return this.sessions;
  }

  get size(): number {
    return this.sessions.length;
  }

  /** Case-insensitive substring search over SEARCH_FIELDS. */
  search(query: string): SandboxSession[] {
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
