import { hasDroppedKeys } from '../api/json.js';
import { isUuid } from '../api/sessions.js';
import type { MatchSpec } from '../mapping/types.js';
import { baseName } from './mapper.js';
import { pickNewest, type Resolution, type Session } from './resolver.js';

/**
 * One listed session: its id and what merging needs (the mapped fields, and the newest field when
 * onMultiple is newest) as JSON. A million of them must fit in a couple of hundred megabytes.
 */
interface Entry {
  id: string;
  json: string | undefined;
}

/**
 * The sessions of the listed date windows, by each key's exact match value, holding only what
 * merging needs. A key not found here is searched for as in search mode; the index only saves
 * requests, it is never the last word. Writes of this run update it.
 */
export class SessionIndex {
  /** Per key of `match.keys`: match value -> the session (or sessions) holding it. */
  private readonly byKey: Map<string, Entry | Entry[]>[];
  private readonly keep: string[];
  /** The entry each session handed out by `resolve` came from. */
  private readonly origin = new WeakMap<Session, Entry>();
  sessions = 0;
  pages = 0;
  fallbackSearches = 0;
  readonly windows: string[] = [];

  constructor(
    private readonly match: MatchSpec,
    fields: readonly string[],
  ) {
    this.byKey = match.keys.map(() => new Map());
    this.keep = match.onMultiple === 'newest' ? [...new Set([...fields, match.newestField])] : [...fields];
  }

  /** Adds a listed session; false when it was there already (pages shift while listing). */
  add(item: Record<string, unknown>): boolean {
    const id = item.id;
    if (!isUuid(id)) return false;
    // data the safe parser had to cut is left to the search, which reports it
    if (this.keep.some((f) => hasDroppedKeys(item[f]))) return false;
    let entry: Entry | undefined;
    let added = false;
    this.match.keys.forEach((key, k) => {
      for (const field of key.sessionFields) {
        const v = item[field];
        if (typeof v !== 'string' && typeof v !== 'number') continue;
        const value = key.by === 'audio_filename' ? baseName(String(v)) : String(v);
        const map = this.byKey[k]!;
        const there = map.get(value);
        const list = there === undefined ? [] : Array.isArray(there) ? there : [there];
        if (list.some((e) => e.id === id)) continue;
        entry ??= { id, json: this.snapshot(item) };
        map.set(value, list.length === 0 ? entry : [...list, entry]);
        added = true;
      }
    });
    if (added) this.sessions++;
    return added;
  }

  /** The sessions a key names, or undefined when the index does not know the key (search for it). */
  resolve(keyIndex: number, lookup: string): Resolution | undefined {
    const there = this.byKey[keyIndex]?.get(lookup);
    if (there === undefined) return undefined;
    const found = (Array.isArray(there) ? there : [there]).map((e) => {
      const session = toSession(e);
      this.origin.set(session, e);
      return session;
    });
    if (found.length === 1) return { kind: 'matched', session: found[0]! };
    if (this.match.onMultiple === 'newest') {
      const newest = pickNewest(found, this.match.newestField);
      if (newest) return { kind: 'matched', session: newest };
    }
    return { kind: 'ambiguous', ids: found.map((s) => s.id) };
  }

  /**
   * What this run wrote to a session: later rows resolved from the index see it. A session
   * resolved from the index is its entry; one found by a search is looked up by its key fields.
   */
  noteWrite(session: Session, values: Record<string, unknown>): void {
    const known = this.origin.get(session);
    const entries = known ? [known] : this.entriesOf(session);
    for (const e of entries) e.json = this.snapshot({ ...parse(e.json), ...values });
  }

  private entriesOf(session: Session): Entry[] {
    const out = new Set<Entry>();
    this.match.keys.forEach((key, k) => {
      for (const field of key.sessionFields) {
        const v = session[field];
        if (typeof v !== 'string' && typeof v !== 'number') continue;
        const there = this.byKey[k]!.get(key.by === 'audio_filename' ? baseName(String(v)) : String(v));
        for (const e of there === undefined ? [] : Array.isArray(there) ? there : [there]) if (e.id === session.id) out.add(e);
      }
    });
    return [...out];
  }

  private snapshot(item: Record<string, unknown>): string | undefined {
    const kept: Record<string, unknown> = {};
    let any = false;
    for (const f of this.keep) {
      if (Object.hasOwn(item, f) && item[f] !== undefined) {
        kept[f] = item[f];
        any = true;
      }
    }
    return any ? JSON.stringify(kept) : undefined;
  }
}

function parse(json: string | undefined): Record<string, unknown> {
  return json === undefined ? {} : (JSON.parse(json) as Record<string, unknown>);
}

function toSession(e: Entry): Session {
  return { ...parse(e.json), id: e.id };
}
