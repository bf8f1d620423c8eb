import { newestFirst, type SandboxSession, type SessionStore, toApiItem } from './store.js';

/** Filters on a session field, as the help article writes them (`queue_name,["Rejection"]`): a JSON list, or one value. */
const FIELD_FILTERS: Record<string, string> = { queue_name: 'queue', queue: 'queue', agent: 'agent', agent_name: 'agent', agent_login: 'agent' };

/** `date_range` ends: a day (`2025-06-01`) or a time (`2025-06-01T10:00:00Z`; no offset: UTC). */
const DAY = /^\d{4}-\d{2}-\d{2}$/;
const TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/;

function fieldValues(value: string): string[] | undefined {
  if (!value.startsWith('[')) return [value];
  try {
    const list: unknown = JSON.parse(value);
    return Array.isArray(list) && list.every((x) => typeof x === 'string') ? list : undefined;
  } catch {
    return undefined;
  }
}

/** A date_range end as a bound on `start_time`: a day compares the day, a time the instant. */
function rangeEnd(text: string, end: 'from' | 'to'): ((start: string) => boolean) | null | undefined {
  if (text === '') return null;
  if (DAY.test(text)) return end === 'from' ? (s) => s.slice(0, 10) >= text : (s) => s.slice(0, 10) <= text;
  if (!TIME.test(text)) return undefined;
  const t = Date.parse(/(Z|[+-]\d{2}:?\d{2})$/.test(text) ? text : `${text}Z`);
  if (Number.isNaN(t)) return undefined;
  return end === 'from' ? (s) => Date.parse(s) >= t : (s) => Date.parse(s) <= t;
}

type Range = { list: SandboxSession[]; first: number; end: number };

/** `date_range,FROM||TO`: days alone as a range of the newest-first list (only the page is copied); times, or days after other filters, as the sessions kept. */
function dateRange(store: SessionStore, value: string, hits: SandboxSession[] | undefined): { error: string } | { range: Range } | { hits: SandboxSession[] } {
  const [fromText, toText, ...rest] = value.split('||');
  const from = rangeEnd(fromText ?? '', 'from');
  const to = rangeEnd(toText ?? '', 'to');
  if (rest.length > 0 || toText === undefined || from === undefined || to === undefined)
    return {
      error: `filters: date_range expects FROM||TO, each a day (YYYY-MM-DD) or a time (YYYY-MM-DDTHH:MM:SSZ), either end open, got ${JSON.stringify(value)}`,
    };
  const days = (fromText === '' || DAY.test(fromText!)) && (toText === '' || DAY.test(toText));
  if (!hits && days) return { range: store.startedBetween(fromText || undefined, toText || undefined) };
  // times: the days they fall on, then the instants
  let base = hits;
  if (!base) {
    const r = store.startedBetween(fromText ? fromText.slice(0, 10) : undefined, toText ? toText.slice(0, 10) : undefined);
    base = r.list.slice(r.first, r.end);
  }
  return {
    hits: base.filter((h) => {
      const start = String(h.start_time ?? '');
      return (from === null || from(start)) && (to === null || to(start));
    }),
  };
}

/** GET /sessions: `filters` (search_query, types, date_range with days or times, queue_name, agent, joined by ±), `skip`, `limit` (capped at the page size the server serves, as the real API does). */
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
      const r = dateRange(store, value, hits);
      if ('error' in r) return r;
      if ('range' in r) range = r.range;
      else {
        sorted = !hits;
        hits = r.hits;
      }
    } else if (FIELD_FILTERS[name] !== undefined) {
      const values = fieldValues(value);
      if (!values) return { error: `filters: ${name} expects a value or a JSON list of texts, got ${JSON.stringify(value)}` };
      const field = FIELD_FILTERS[name]!;
      hits = (hits ?? store.all()).filter((h) => values.includes(String(h[field] ?? '')));
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
