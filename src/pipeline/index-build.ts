import type { ApiClient } from '../api/client.js';
import { dateRangeFilter, joinFilters } from '../api/sessions.js';
import { EtError, errorMessage } from '../errors.js';
import { openRows } from '../input/open-rows.js';
import type { Logger } from '../logger.js';
import type { Mapping, MatchSpec } from '../mapping/types.js';
import { rowTime } from './conversation.js';
import { hashString } from './hash.js';
import { rowDay, shiftDay } from './row-date.js';
import { SessionIndex } from './session-index.js';
import type { PlannedSource } from './sources.js';

/** Dates, inclusive: YYYY-MM-DD. */
export interface Window {
  from: string;
  to: string;
}

/**
 * The windows the files' dates call for: each date in `match.dateColumn`, padded by
 * `match.datePad` days each side (time zones), overlapping or touching spans merged.
 */
export async function windowsFromFiles(sources: PlannedSource[], mapping: Mapping): Promise<Window[]> {
  const days = new Set<string>();
  const times = mapping.match.keys.flatMap((key, i) => (key.by === 'conversation' ? [{ key, i }] : []));
  for (const { source, plan } of sources) {
    if (plan.dateIndex === undefined && times.length === 0) continue;
    // the bytes the rows are read from (a row appended meanwhile is in neither)
    const again = await openRows(source.file, mapping.input, source.snapshot);
    try {
      for await (const row of again.rows) {
        // a date that cannot be read makes its row invalid when the rows are read; not a window
        if (plan.dateIndex !== undefined) {
          const d = rowDay(row.cells[plan.dateIndex] ?? null, plan.dateField);
          if (d.ok && d.day !== null) days.add(d.day);
        }
        // a conversation's time: the days its tolerance reaches
        for (const { key, i } of times) {
          const t = rowTime(key, row.cells[plan.keyIndexes[i]!]);
          if (!t.ok || t.value === undefined) continue;
          days.add(new Date(t.value - key.time.tolerance * 1000).toISOString().slice(0, 10));
          days.add(new Date(t.value + key.time.tolerance * 1000).toISOString().slice(0, 10));
        }
      }
    } finally {
      await again.close();
    }
  }
  const pad = mapping.match.datePad;
  const spans = [...days].sort().map((d) => ({ from: shiftDay(d, -pad), to: shiftDay(d, pad) }));
  const out: Window[] = [];
  for (const s of spans) {
    const last = out[out.length - 1];
    // dates as YYYY-MM-DD text: the later of two is the larger string (Math.max is for numbers)
    // biome-ignore lint/complexity/useMathMinMax: strings, not numbers
    if (last && s.from <= shiftDay(last.to, 1)) last.to = s.to > last.to ? s.to : last.to;
    else out.push({ ...s });
  }
  return out;
}

export interface IndexOptions {
  pageSize: number;
  /** Pages fetched at once. */
  concurrency: number;
  /** More sessions than this in the windows: refused, with what to do. */
  maxSessions: number;
  logger: Logger;
  stopping: () => boolean;
  now?: () => number;
}

/**
 * Lists the sessions of each window into an index, one day at a time: a page of a past day
 * keeps its sessions, so a copy can be read again later by asking for the same page (see
 * FreshCopies), and sessions arriving today shift only today's pages.
 *
 * Paging is not trusted: a short page is not the end (the API may cap `limit`), only an empty
 * page is; sessions arriving meanwhile shift pages, so repeats are dropped; one that slipped
 * between pages is found later by the fallback search. Nor is it believed: a `total` past
 * --index-max is refused at the first page, a page longer than asked, a page the same as the one
 * before it (a server ignoring or clamping `skip`), or a listing still going a page past its
 * `total` stop the run (exit 3), and pages are asked for a few at a time, so memory never grows
 * with what `total` claims.
 */
export async function buildIndex(client: ApiClient, mapping: Mapping, windows: Window[], o: IndexOptions): Promise<SessionIndex> {
  const index = new SessionIndex(
    mapping.match,
    mapping.fields.map((f) => f.name),
  );
  const now = o.now ?? Date.now;
  const listings = indexListings(mapping.match);
  for (const l of listings) for (const k of l.keys) index.listedKeys.add(k);
  for (const w of windows) {
    index.windows.push(`${w.from}..${w.to}`);
    for (const l of listings) for (let day = w.from; day <= w.to && !o.stopping(); day = shiftDay(day, 1)) await listDay(client, index, day, l, o, now);
    o.logger.info({ window: `${w.from}..${w.to}`, pages: index.pages, sessions: index.sessions }, 'window listed');
  }
  return index;
}

/** One listing of the windows, and the keys that file its sessions. */
export interface Listing {
  /** Fixed filters added to each day's `date_range`, as `name,value`. */
  filters: string[];
  keys: number[];
}

/**
 * The listings index mode makes of each day: one without filters for the ID keys and the
 * conversation keys without fixed filters, and one per set of fixed filters (`types: call`): a
 * session such a listing leaves out is never that key's.
 */
export function indexListings(match: MatchSpec): Listing[] {
  const bySet = new Map<string, Listing>();
  match.keys.forEach((key, k) => {
    const filters = key.by === 'conversation' ? key.filters.map(([n, v]) => `${n},${v}`) : [];
    const sig = joinFilters(filters);
    const l = bySet.get(sig) ?? { filters, keys: [] };
    l.keys.push(k);
    bySet.set(sig, l);
  });
  return [...bySet.values()];
}

async function listDay(client: ApiClient, index: SessionIndex, day: string, listing: Listing, o: IndexOptions, now: () => number): Promise<void> {
  const filter = joinFilters([dateRangeFilter(day, day), ...listing.filters]);
  const lie = (why: string) =>
    new EtError(
      'E_LISTING',
      `the listing of ${day} (GET /sessions?filters=${filter}) ${why}; the API's paging cannot be trusted for index mode: use --lookup search`,
    );
  /** A hash of each page's ids, by offset: a page the same as the one before it is a server ignoring `skip`. */
  const seen = new Map<number, string>();
  let served = 0;
  const take = async (skip: number) => {
    const page = await client.listSessions(filter, skip, o.pageSize);
    index.pages++;
    if (page.items.length > o.pageSize) throw lie(`answered ${page.items.length} sessions for limit=${o.pageSize}`);
    // (the hash, not the ids: a million sessions' ids would be 40 MB held to the listing's end)
    const { a, b } = hashString(page.items.map((i) => String(i.id)).join(','));
    const ids = `${a}:${b}`;
    if (page.items.length > 0 && served > 0 && (seen.get(skip - served) === ids || seen.get(skip + served) === ids))
      throw lie(`answered the same page for skip=${skip} as for the page before it`);
    seen.set(skip, ids);
    const n = index.notePage(filter, skip, o.pageSize, now());
    for (const item of page.items) index.add(item, n, listing.keys);
    if (index.sessions > o.maxSessions) throw tooMany(day, o.maxSessions);
    return page;
  };
  // the first page tells the page size the API really serves, and the total
  const first = await take(0);
  const total = first.total;
  if (!Number.isSafeInteger(total) || total < 0) throw lie(`gave total ${JSON.stringify(total)}`);
  if (index.sessions - first.items.length + total > o.maxSessions) throw tooMany(day, o.maxSessions, total);
  served = first.items.length;
  if (served === 0) return;
  // the other pages of the total side by side, as many at once as rows may be in flight, taken
  // from a counter: nothing is held per page but its ids
  let next = served;
  const worker = async () => {
    while (next < total && !o.stopping()) {
      const at = next;
      next += served;
      await take(at);
    }
  };
  await Promise.all(Array.from({ length: Math.min(o.concurrency, Math.ceil((total - served) / served)) }, worker));
  // a first page that holds the whole total is the day (a session arriving since is found by the
  // fallback search): no page more to confirm it, which would double a sparse window's listing
  if (served >= total) return;
  // past the total, on in turn until an empty page: sessions may have arrived meanwhile, but not
  // more than a page of them
  let skip = Math.max(served, Math.ceil(total / served) * served);
  for (let n = served; n > 0 && !o.stopping(); ) {
    if (skip > total + served) throw lie(`goes on past its total of ${total} sessions by more than a page`);
    const page = await take(skip);
    n = page.items.length;
    skip += n;
  }
}

function tooMany(day: string, max: number, total?: number): EtError {
  return new EtError(
    'E_USAGE',
    `the window holds more than --index-max ${max} sessions${total !== undefined ? ` (${day} alone: ${total}, the API says)` : ` (by ${day})`}, more than the index may hold in memory; give a narrower --window (or several runs, one per window), or use --lookup search`,
  );
}

/** Builds the index, or goes on without one when the listing fails: correctness never depends on it. */
export async function tryBuildIndex(client: ApiClient, mapping: Mapping, windows: Window[], o: IndexOptions): Promise<SessionIndex | undefined> {
  try {
    return await buildIndex(client, mapping, windows, o);
  } catch (e) {
    if (e instanceof EtError && (e.code === 'E_USAGE' || e.code === 'E_LISTING' || e.code === 'E_LOGIN' || e.code === 'E_INTERRUPTED')) throw e;
    o.logger.warn({ err: errorMessage(e) }, 'the sessions of the window could not be listed: every row is searched for instead');
    return undefined;
  }
}

/** What the index build is told of the run: whether it is stopping, and how to stop it. */
export interface IndexStop {
  readonly stopping: boolean;
  fatal(message: string): void;
}

export interface RunIndexOptions {
  /** `--window`; without it, `match.dateColumn` gives the windows. */
  window: Window | undefined;
  pageSize: number;
  concurrency: number;
  maxSessions: number;
  logger: Logger;
}

/**
 * Index mode: the sessions of the window (--window, or the files' dates in match.dateColumn),
 * listed once; or a stop (exit 3, with the summary written) when the index cannot be had: a
 * window larger than --index-max, or a listing that cannot be trusted. Undefined: every row is
 * searched for.
 */
export async function indexForRun(
  client: ApiClient,
  mapping: Mapping,
  sources: PlannedSource[],
  o: RunIndexOptions,
  stop: IndexStop,
): Promise<SessionIndex | undefined> {
  try {
    const fromFiles = mapping.match.dateColumn !== undefined || mapping.match.keys.some((k) => k.by === 'conversation');
    const windows = o.window ? [o.window] : fromFiles ? await windowsFromFiles(sources, mapping) : undefined;
    if (!windows) throw new EtError('E_USAGE', 'index mode needs a window: --window FROM..TO, or match.dateColumn (or a conversation key) in the mapping');
    if (windows.length === 0) {
      o.logger.warn({ dateColumn: mapping.match.dateColumn }, 'no date in match.dateColumn: every row is searched for');
      return undefined;
    }
    const started = Date.now();
    const index = await tryBuildIndex(client, mapping, windows, { ...o, stopping: () => stop.stopping });
    if (index) o.logger.info({ windows: index.windows, pages: index.pages, sessions: index.sessions, ms: Date.now() - started }, 'sessions indexed');
    return index;
  } catch (e) {
    if (!(e instanceof EtError && (e.code === 'E_LISTING' || (e.code === 'E_USAGE' && /--index-max/.test(e.message))))) throw e;
    o.logger.error({ err: e.message }, 'index mode cannot go on');
    stop.fatal(e.message);
    return undefined;
  }
}
