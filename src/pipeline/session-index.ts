import { hasDroppedKeys } from '../api/json.js';
import { isUuid } from '../api/sessions.js';
import type { MatchSpec } from '../mapping/types.js';
import { candidatesAmong, decideConversation, rowBuckets, sessionBuckets } from './conversation.js';
import { type RowKey, matchValues } from './mapper.js';
import { decide, type Resolution, type Session } from './decide.js';
import { shiftDay } from './row-date.js';
import { StringSlots, grown } from './string-slots.js';

/**
 * The sessions of the listed date windows, by each key's exact match value, holding only what
 * merging needs. A key not found here is searched for as in search mode; the index only saves
 * requests, it is never the last word. Writes of this run update it.
 *
 * Compact, for windows of a million sessions, and outside the JS heap: a session is a slot; its id
 * is 16 bytes in a typed array, what merging needs is its JSON in one byte array (none for most
 * sessions), and each key value maps to its slot (or slots) in a typed-array table.
 */
export class SessionIndex {
  private readonly byKey: StringSlots[];
  private readonly keep: string[];
  private ids = new Uint32Array(4 * 1024);
  /** What merging needs of each listed session, as UTF-8 JSON one after another (none for most sessions). */
  private listed = new Uint8Array(1 << 16);
  /** Where each slot's listed JSON ends (it starts where the previous slot's ends). */
  private listedEnd = new Uint32Array(1024);
  /** The slot each session handed out by `resolve` came from. */
  private readonly origin = new WeakMap<Session, number>();
  /** 1 for a slot whose written values were not kept (over the budget): its keys are searched for. */
  private forgotten = new Uint8Array(1024);
  private anyForgotten = false;
  /**
   * What this run wrote, or read again since the listing, as JSON, by slot, written longest ago
   * first, with when: it stands for the listed JSON.
   */
  private readonly writes = new Map<number, { json: string | undefined; at: number }>();
  /** The listing page each slot came from (an index into `pageRefs`). */
  private pageOf = new Uint32Array(1024);
  /** Each listing page: its filter, offset and size, and when its answer came. */
  readonly pageRefs: { filter: string; skip: number; limit: number; at: number; sessions: number }[] = [];
  /** Characters of JSON those slots hold. */
  private writtenChars = 0;
  sessions = 0;
  pages = 0;
  fallbackSearches = 0;
  /** Listing pages read again for fresh copies (see FreshCopies). */
  pagesReadAgain = 0;
  readonly windows: string[] = [];

  constructor(
    private readonly match: MatchSpec,
    fields: readonly string[],
    /** Written values kept, in characters of JSON; past it the session written longest ago is dropped from the index. */
    private readonly writtenBudget = WRITTEN_BUDGET_CHARS,
  ) {
    this.byKey = match.keys.map(() => new StringSlots());
    // the session's time decides under onMultiple: newest, and with a date column; a
    // conversation key compares its time and equality fields
    const decides = match.onMultiple === 'newest' || match.dateColumn !== undefined ? [match.newestField] : [];
    this.keep = [...new Set([...fields, ...decides, ...match.keys.flatMap((k) => (k.by === 'conversation' ? k.sessionFields : []))])];
  }

  /** The values a session is filed under for key `k`: an ID key's exact values, a conversation key's time buckets. */
  private valuesOf(k: number, item: Record<string, unknown>): string[] {
    const key = this.match.keys[k]!;
    return key.by === 'conversation' ? sessionBuckets(key, item) : matchValues(key, item);
  }

  /** A row's key as `resolve` answers it; a conversation key: its time buckets' candidates, or undefined (search) for none or a time not listed. */
  resolveKey(k: RowKey, date?: string): (Resolution & { delta?: number }) | undefined {
    const key = this.match.keys[k.index]!;
    if (key.by !== 'conversation') return this.resolve(k.index, k.lookup, date);
    const v = k.conversation!;
    if (!this.listedKeys.has(k.index)) return undefined;
    const tol = key.time.tolerance * 1000;
    if (!this.coversSpan(new Date(v.at - tol).toISOString().slice(0, 10), new Date(v.at + tol).toISOString().slice(0, 10))) return undefined;
    const slots = new Set(rowBuckets(key, v).flatMap((b) => slotList(this.byKey[k.index]!.get(b))));
    if (this.anyForgotten && [...slots].some((slot) => this.forgotten[slot] === 1)) return undefined;
    const sessions = [...slots].map((slot) => {
      const session: Session = { ...parse(this.jsonOf(slot)), id: this.idOf(slot) };
      this.origin.set(session, slot);
      return session;
    });
    const found = candidatesAmong(key, v, sessions);
    return found.length === 0 ? undefined : decideConversation(key, found, this.match);
  }

  /** Keys whose sessions the listings filed (a conversation key with fixed filters: only when listed with them). */
  readonly listedKeys = new Set<number>();

  /** A listing page's answer arrived: returns its number, for `add`. */
  notePage(filter: string, skip: number, limit: number, at: number): number {
    this.pageRefs.push({ filter, skip, limit, at, sessions: 0 });
    return this.pageRefs.length - 1;
  }

  /** Adds a listed session (from page `page` of `notePage`); false when it was there already or holds no key value. */
  add(item: Record<string, unknown>, page = -1, keys?: readonly number[]): boolean {
    const id = item.id;
    // ids are kept as 16 bytes and given back in lower case: any other spelling is left to the search
    if (!isUuid(id) || id !== id.toLowerCase()) return false;
    // data the safe parser had to cut is left to the search, which reports it
    if (this.keep.some((f) => hasDroppedKeys(item[f]))) return false;
    const words = uuidWords(id);
    let slot = -1;
    this.match.keys.forEach((_key, k) => {
      if (keys && !keys.includes(k)) return;
      for (const value of this.valuesOf(k, item)) {
        const map = this.byKey[k]!;
        const slots = slotList(map.get(value));
        if (slots.some((s) => this.sameId(s, words))) continue;
        if (slot < 0) {
          slot = this.newSlot(words, this.snapshot(item), page);
          const ref = this.pageRefs[page];
          if (ref) ref.sessions++;
        }
        map.set(value, slots.length === 0 ? slot : [...slots, slot]);
      }
    });
    return slot >= 0;
  }

  /**
   * The sessions a key names, as search mode would decide among them (with the row's date, only
   * those near it: see `decide`); undefined when the index cannot tell (search for it): it does not
   * know the key, the row's days reach past the listed windows, or none of its sessions is near
   * the row's date (another may be, outside the window).
   */
  resolve(keyIndex: number, lookup: string, date?: string): Resolution | undefined {
    const there = this.byKey[keyIndex]?.get(lookup);
    if (there === undefined) return undefined;
    if (this.anyForgotten && slotList(there).some((slot) => this.forgotten[slot] === 1)) return undefined;
    if (date !== undefined && !this.covers(date)) return undefined;
    const found = slotList(there).map((slot) => {
      const session: Session = { ...parse(this.jsonOf(slot)), id: this.idOf(slot) };
      this.origin.set(session, slot);
      return session;
    });
    const r = decide(found, this.match, date);
    if (r.kind === 'unmatched') return undefined;
    // the listing holds only the days near the row's date: the date decided which sessions count
    if (date !== undefined && r.note === undefined)
      r.note = `the date decided: only sessions within ${this.match.datePad} day${this.match.datePad === 1 ? '' : 's'} of ${date} count (${this.match.newestField}), and the listing of those days holds ${found.length} with this key`;
    // without a date, the index knows only the window's sessions: say so where a search might not agree
    if (date === undefined && r.note === undefined && this.windows.length > 0)
      r.note = `matched among the sessions of the listed window${this.windows.length === 1 ? '' : 's'} ${this.windows.join(', ')} only (no match.dateColumn)`;
    return r;
  }

  /** Whether every day within match.datePad of `date` was listed. */
  private covers(date: string): boolean {
    return this.coversSpan(date, date);
  }

  /** Whether every day from FROM to TO, padded by match.datePad, was listed. */
  private coversSpan(fromDay: string, toDay: string): boolean {
    const from = shiftDay(fromDay, -this.match.datePad);
    const to = shiftDay(toDay, this.match.datePad);
    return this.windows.some((w) => w.slice(0, 10) <= from && w.slice(12) >= to);
  }

  /**
   * What this run wrote to a session: later rows resolved from the index see it. A session
   * resolved from the index is its slot; one found by a search is looked up by its key fields.
   */
  noteWrite(session: Session, values: Record<string, unknown>, at = Date.now()): void {
    const known = this.origin.get(session);
    const slots = known !== undefined ? [known] : this.slotsOf(session);
    for (const s of slots) this.keepCopy(s, this.snapshot({ ...parse(this.jsonOf(s)), ...values }), at);
  }

  /** A listing page read again, or a session searched for (`at`: when the answer came): its sessions' copies are that fresh. */
  noteRead(items: Record<string, unknown>[], at: number): void {
    for (const item of items) {
      if (this.keep.some((f) => hasDroppedKeys(item[f]))) continue;
      for (const s of this.slotsOf(item as Session)) this.keepCopy(s, this.snapshot(item), at);
    }
  }

  /**
   * A session handed out by `resolve`: what the index holds of it now, when that was read from
   * the server (a listing, a page read again, or this run's own write), and the listing page to
   * read again for a fresher copy. Undefined for a session the index did not hand out, or one
   * that left it.
   */
  copyOf(session: Session): { session: Session; at: number; page: number | undefined } | undefined {
    const slot = this.origin.get(session);
    if (slot === undefined || this.forgotten[slot] === 1) return undefined;
    const n = this.pageOf[slot]!;
    const page = this.pageRefs[n];
    const copy: Session = { ...parse(this.jsonOf(slot)), id: session.id };
    this.origin.set(copy, slot);
    return { session: copy, at: this.writes.get(slot)?.at ?? page?.at ?? 0, page: page ? n : undefined };
  }

  private keepCopy(s: number, json: string | undefined, at: number): void {
    // a session that left the index stays out: its key is searched for
    if (this.forgotten[s] === 1) return;
    const before = this.writes.get(s);
    // an answer older than the copy held (pages answer out of order) is not the newer for it
    if (before && before.at > at) return;
    this.writtenChars += (json?.length ?? 0) - (before?.json?.length ?? 0);
    // the newest copies are kept: a session written again moves to the back
    this.writes.delete(s);
    this.writes.set(s, { json, at });
    // past the budget, the sessions written longest ago leave the index: a later row of one of
    // them is searched for (the server has the write), and memory stays bounded on any file
    for (const [old, copy] of this.writes) {
      if (this.writtenChars <= this.writtenBudget) break;
      this.writes.delete(old);
      this.writtenChars -= copy.json?.length ?? 0;
      this.forgotten[old] = 1;
      this.anyForgotten = true;
    }
  }

  private slotsOf(session: Session): number[] {
    const out = new Set<number>();
    if (!isUuid(session.id)) return [];
    const words = uuidWords(session.id);
    this.match.keys.forEach((_key, k) => {
      for (const value of this.valuesOf(k, session)) for (const s of slotList(this.byKey[k]!.get(value))) if (this.sameId(s, words)) out.add(s);
    });
    return [...out];
  }

  private newSlot(words: number[], json: string | undefined, page: number): number {
    const slot = this.sessions++;
    if (slot >= this.pageOf.length) this.pageOf = grown(this.pageOf, this.pageOf.length * 2);
    this.pageOf[slot] = page < 0 ? 0xffffffff : page;
    if ((slot + 1) * 4 > this.ids.length) this.ids = grown(this.ids, this.ids.length * 2);
    if (slot >= this.forgotten.length) this.forgotten = grown(this.forgotten, this.forgotten.length * 2);
    if (slot >= this.listedEnd.length) this.listedEnd = grown(this.listedEnd, this.listedEnd.length * 2);
    this.ids.set(words, slot * 4);
    let end = slot === 0 ? 0 : this.listedEnd[slot - 1]!;
    if (json !== undefined) {
      // UTF-8 takes at most 3 bytes a UTF-16 code unit
      if (end + json.length * 3 > this.listed.length) this.listed = grown(this.listed, Math.max(this.listed.length * 2, end + json.length * 3));
      end += encoder.encodeInto(json, this.listed.subarray(end)).written;
    }
    this.listedEnd[slot] = end;
    return slot;
  }

  /** What merging needs of a slot: this run's write, else what the listing said. */
  private jsonOf(slot: number): string | undefined {
    const copy = this.writes.get(slot);
    if (copy) return copy.json;
    const start = slot === 0 ? 0 : this.listedEnd[slot - 1]!;
    const end = this.listedEnd[slot]!;
    return end === start ? undefined : decoder.decode(this.listed.subarray(start, end));
  }

  private sameId(slot: number, words: number[]): boolean {
    const o = slot * 4;
    return this.ids[o] === words[0] && this.ids[o + 1] === words[1] && this.ids[o + 2] === words[2] && this.ids[o + 3] === words[3];
  }

  private idOf(slot: number): string {
    const hex = Array.from(this.ids.subarray(slot * 4, slot * 4 + 4), (w) => w.toString(16).padStart(8, '0')).join('');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
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

/**
 * Written values the index keeps: 8 M characters of JSON (~65,000 sessions' worth), the most
 * recently written. A file that writes more sessions than that stays in bounded memory; a row
 * whose session was written longer ago costs a search.
 */
const WRITTEN_BUDGET_CHARS = 8 * 1024 * 1024;

/** The slots a key value maps to. */
function slotList(there: number | number[] | undefined): number[] {
  return there === undefined ? [] : typeof there === 'number' ? [there] : there;
}

/** A UUID as four 32-bit words (its 32 hex digits). Lower case comes back out. */
function uuidWords(id: string): number[] {
  const hex = id.replace(/-/g, '');
  return [0, 8, 16, 24].map((i) => Number.parseInt(hex.slice(i, i + 8), 16));
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function parse(json: string | undefined): Record<string, unknown> {
  return json === undefined ? {} : (JSON.parse(json) as Record<string, unknown>);
}
