import { newestFirst, type SandboxSession, type SessionStore, toApiItem } from './store.js';

/** GET /sessions: `filters` (search_query, types, date_range, joined by ±), `skip`, `limit` (capped at the page size the server serves, as the real API does). */
export function searchSessions(
  store: SessionStore,
  params: URLSearchParams,
  maxPageSize: number,
): { total: number; items: Record<string, unknown>[] } | { error: string } {
  const skip = params.has('skip') ? Number(params.get('skip')) : 0;
  const asked = params.has('limit') ? Number(params.get('limit')) : 50;
  if (!Number.isInteger(skip) || skip < 0) return { error: 'skip: expected a whole number of at least 0' };
  if (!Number.isInteger(asked) || asked < 1) return { error: 'limit: expected a whole number of at least 1' };
  // like the real API, a larger limit is capped, not refused: a page may be shorter than asked
  const limit = Math.min(asked, maxPageSize);
  let hits: SandboxSession[] | undefined;
  let sorted = false;
  // a date range alone is a range of the newest-first list: only the page is copied
  let range: { list: SandboxSession[]; first: number; end: number } | undefined;
  const filters = params.get('filters') ?? '';
  for (const pair of filters === '' ? [] : filters.split('\u00b1')) {
    const comma = pair.indexOf(',');
    if (comma < 0) return { error: `filters: ${JSON.stringify(pair)} is not a name,value pair` };
    const name = pair.slice(0, comma);
    const value = pair.slice(comma + 1);
    if (range) {
      hits = range.list.slice(range.first, range.end);
      sorted = true;
      range = undefined;
    }
    if (name === 'search_query') {
      const found = store.search(value);
      hits = hits ? hits.filter((h) => found.includes(h)) : found;
    } else if (name === 'types') {
      const types = value.split(',');
      hits = (hits ?? store.all()).filter((h) => types.includes(String(h.type)));
    } else if (name === 'date_range') {
      const m = /^(\d{4}-\d{2}-\d{2})?\|\|(\d{4}-\d{2}-\d{2})?$/.exec(value);
      if (!m) return { error: `filters: date_range expects FROM||TO as YYYY-MM-DD, either end open, got ${JSON.stringify(value)}` };
      const [from, to] = [m[1], m[2]];
      if (hits)
        hits = hits.filter(
          (h) => (from === undefined || String(h.start_time ?? '').slice(0, 10) >= from) && (to === undefined || String(h.start_time ?? '').slice(0, 10) <= to),
        );
      else range = store.startedBetween(from, to);
    } else {
      return { error: `filters: unknown filter ${JSON.stringify(name)}` };
    }
  }
  const r = range as { list: SandboxSession[]; first: number; end: number } | undefined;
  if (r) return { total: r.end - r.first, items: r.list.slice(r.first + skip, Math.min(r.end, r.first + skip + limit)).map(toApiItem) };
  if (!hits) {
    hits = store.newestFirst();
    sorted = true;
  }
  if (!sorted) hits = [...hits].sort(newestFirst);
  return { total: hits.length, items: hits.slice(skip, skip + limit).map(toApiItem) };
}
