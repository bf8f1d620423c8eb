import type { ApiClient } from '../api/client.js';
import { checkedSessionId, dateRangeFilter, joinFilters } from '../api/sessions.js';
import { ApiError } from '../errors.js';
import type { ConversationKey } from '../mapping/types.js';
import { type Candidate, type ConversationValue, candidatesAmong } from './conversation.js';
import type { Session } from './decide.js';
import { shiftDay } from './row-date.js';

/** Whether the API's `date_range` takes days only (`2025-06-01||2025-06-01`) or times too (`2025-06-01T10:00:00Z||...`): not known for the real API. */
export const DATE_RANGES = ['days', 'times'] as const;
export type DateRange = (typeof DATE_RANGES)[number];

export interface FinderOptions {
  pageSize: number;
  /** The most sessions one slice may list before the row fails rather than guess. */
  maxSessions: number;
  dateRange: DateRange;
  /** days: days listed each side of the row's (UTC) day, for an API that counts days in another zone. */
  datePad: number;
}

/** A time slice of `times` mode: a quarter of an hour (or twice the tolerance, when wider), aligned. */
const SLICE_MS = 15 * 60 * 1000;

/**
 * Finds a conversation key's candidates in search mode: the sessions of the row's time slice, as
 * the API's own filters give them (`date_range` around the time, plus the key's fixed filters),
 * listed once for all the rows in flight that need that slice, then matched locally — never a
 * loose search plus the first hit. A listing is shared only while it is in flight: a row never
 * merges with a copy read before it was read for (as a search's answer would be).
 */
export class ConversationFinder {
  private readonly inFlight = new Map<string, Promise<Session[]>>();
  /** Pages listed, for the summary. */
  pages = 0;

  constructor(
    private readonly client: ApiClient,
    private readonly o: FinderOptions,
  ) {}

  /** The key's candidates for a row: every session of its slices within the tolerance that meets every equality. */
  async candidates(key: ConversationKey, v: ConversationValue): Promise<{ found: Candidate[]; seen: number }> {
    const all = await this.sessionsNear(key, v);
    return { found: candidatesAmong(key, v, all), seen: all.length };
  }

  /** Every session of the slices around the row's time (the tolerance each side), once each. */
  async sessionsNear(key: ConversationKey, v: Pick<ConversationValue, 'at'>): Promise<Session[]> {
    const lists = await Promise.all(this.slices(key, v).map((f) => this.slice(f)));
    return [...new Map(lists.flat().map((s) => [s.id, s])).values()];
  }

  /** The filters of the slices that hold every time within the tolerance of the row's. */
  slices(key: ConversationKey, v: Pick<ConversationValue, 'at'>): string[] {
    const tol = key.time.tolerance * 1000;
    const fixed = key.filters.map(([n, value]) => `${n},${value}`);
    if (this.o.dateRange === 'days') {
      const from = shiftDay(new Date(v.at - tol).toISOString().slice(0, 10), -this.o.datePad);
      const to = shiftDay(new Date(v.at + tol).toISOString().slice(0, 10), this.o.datePad);
      const out: string[] = [];
      for (let d = from; d <= to; d = shiftDay(d, 1)) out.push(joinFilters([dateRangeFilter(d, d), ...fixed]));
      return out;
    }
    const size = Math.max(SLICE_MS, Math.ceil((2 * tol) / 60_000) * 60_000);
    const out: string[] = [];
    for (let s = Math.floor((v.at - tol) / size) * size; s <= v.at + tol; s += size)
      out.push(joinFilters([dateRangeFilter(iso(s), iso(s + size - 1000)), ...fixed]));
    return out;
  }

  private slice(filter: string): Promise<Session[]> {
    let p = this.inFlight.get(filter);
    if (!p) {
      p = this.list(filter).finally(() => this.inFlight.delete(filter));
      this.inFlight.set(filter, p);
    }
    return p;
  }

  /** Every session of a slice, paged until an empty page (a short page is not the end), repeats dropped. */
  private async list(filter: string): Promise<Session[]> {
    const byId = new Map<string, Session>();
    let total = 0;
    for (let skip = 0; ; ) {
      const page = await this.client.listSessions(filter, skip, this.o.pageSize);
      this.pages++;
      total = page.total;
      for (const item of page.items) byId.set(checkedSessionId(item.id, `the listing ${filter} returned`), item as Session);
      if (byId.size > this.o.maxSessions)
        throw new ApiError(
          'E_TOO_MANY_CANDIDATES',
          `the listing ${filter} holds more than --max-candidates ${this.o.maxSessions} sessions; add fixed filters to the conversation key (types, queue_name), set --date-range times if the API takes times, or raise --max-candidates`,
        );
      skip += page.items.length;
      if (page.items.length === 0 || skip >= total) break;
    }
    return [...byId.values()];
  }
}

function iso(ms: number): string {
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}

/**
 * Sessions taken by a conversation key, by the first row that took each: a second row of another
 * conversation value taken to the same session is a warning (two calls taken for one).
 */
export class Claims {
  private readonly first = new Map<string, { lookup: string; where: string }>();

  /** Notes the claim; the earlier row's place when the session was already taken by a different value. */
  claim(sessionId: string, lookup: string, where: string): string | undefined {
    const was = this.first.get(sessionId);
    if (!was) {
      this.first.set(sessionId, { lookup, where });
      return undefined;
    }
    return was.lookup === lookup ? undefined : was.where;
  }
}
