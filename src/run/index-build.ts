import pLimit from 'p-limit';
import type { ApiClient } from '../api/client.js';
import { dateRangeFilter } from '../api/sessions.js';
import { EtError, errorMessage } from '../errors.js';
import { cellText } from '../input/cell.js';
import { openRows } from '../input/open-rows.js';
import type { Logger } from '../logger.js';
import type { Mapping } from '../mapping/types.js';
import { convertCell } from '../pipeline/convert.js';
import { SessionIndex } from '../pipeline/session-index.js';
import type { PlannedSource } from '../pipeline/sources.js';

/** Dates, inclusive: YYYY-MM-DD. */
export interface Window {
  from: string;
  to: string;
}

/** `--window 2025-06-01..2025-06-30`. */
export function parseWindow(text: string): Window {
  const m = /^\s*(\d{4}-\d{2}-\d{2})\s*\.\.\s*(\d{4}-\d{2}-\d{2})\s*$/.exec(text);
  if (!m || Number.isNaN(Date.parse(`${m[1]}T00:00:00Z`)) || Number.isNaN(Date.parse(`${m[2]}T00:00:00Z`)) || m[1]! > m[2]!) {
    throw new EtError('E_USAGE', `--window must be FROM..TO as dates, FROM not after TO, e.g. 2025-06-01..2025-06-30; got ${JSON.stringify(text)}`);
  }
  return { from: m[1]!, to: m[2]! };
}

/**
 * The windows the files' dates call for: each date in `match.dateColumn`, padded by
 * `match.datePad` days each side (time zones), overlapping or touching spans merged.
 */
export async function windowsFromFiles(sources: PlannedSource[], mapping: Mapping): Promise<Window[]> {
  const days = new Set<string>();
  const field = mapping.fields.find((f) => f.column === mapping.match.dateColumn && (f.type === 'date' || f.type === 'datetime'));
  for (const { source, plan } of sources) {
    if (plan.dateIndex === undefined) continue;
    const again = await openRows(source.file, mapping.input);
    try {
      for await (const row of again.rows) {
        const day = dayOf(row.cells[plan.dateIndex] ?? null, field);
        if (day) days.add(day);
      }
    } finally {
      await again.close();
    }
  }
  const pad = mapping.match.datePad;
  const spans = [...days].sort().map((d) => ({ from: shift(d, -pad), to: shift(d, pad) }));
  const out: Window[] = [];
  for (const s of spans) {
    const last = out[out.length - 1];
    if (last && s.from <= shift(last.to, 1)) last.to = s.to > last.to ? s.to : last.to;
    else out.push({ ...s });
  }
  return out;
}

function dayOf(cell: Parameters<typeof convertCell>[0], field: Parameters<typeof convertCell>[1] | undefined): string | undefined {
  if (field) {
    const r = convertCell(cell, field);
    return r.ok && typeof r.value === 'string' ? r.value.slice(0, 10) : undefined;
  }
  if (cell instanceof Date) return Number.isNaN(cell.getTime()) ? undefined : cell.toISOString().slice(0, 10);
  const m = /^(\d{4}-\d{2}-\d{2})/.exec(cellText(cell ?? null).trim());
  return m?.[1];
}

function shift(day: string, days: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}

export interface IndexOptions {
  pageSize: number;
  /** Pages fetched at once. */
  concurrency: number;
  /** More sessions than this in the windows: refused, with what to do. */
  maxSessions: number;
  logger: Logger;
  stopping: () => boolean;
}

/**
 * Lists the sessions of each window into an index. Paging is not trusted: a short page is not
 * the end (the API may cap `limit`), only an empty page is; sessions arriving meanwhile shift
 * pages, so repeats are dropped; one that slipped between pages is found later by the fallback
 * search.
 */
export async function buildIndex(client: ApiClient, mapping: Mapping, windows: Window[], o: IndexOptions): Promise<SessionIndex> {
  const index = new SessionIndex(mapping.match, mapping.fields.map((f) => f.name));
  // as many pages at once as requests may be in flight in the run (--concurrency, the run's one
  // bound on the API); a page is indexed and dropped as it comes
  const limit = pLimit(o.concurrency);
  for (const w of windows) {
    index.windows.push(`${w.from}..${w.to}`);
    const filter = dateRangeFilter(w.from, w.to);
    const take = async (skip: number) => {
      const page = await client.listSessions(filter, skip, o.pageSize);
      index.pages++;
      for (const item of page.items) index.add(item);
      if (index.sessions > o.maxSessions) {
        throw new EtError('E_USAGE', `the window ${w.from}..${w.to} holds more than --index-max ${o.maxSessions} sessions, more than the index may hold in memory; give a narrower --window (or several runs, one per window), or use --lookup search`);
      }
      return page;
    };
    // the first page tells the page size the API really serves, and the total: the other pages
    // of the total are fetched side by side, as many at once as rows may be in flight
    const first = await take(0);
    const served = first.items.length;
    let skip = served;
    if (served > 0 && first.total > served) {
      const offsets: number[] = [];
      for (let at = served; at < first.total; at += served) offsets.push(at);
      // (the tasks keep nothing: Promise.all would otherwise hold every page until the last)
      await Promise.all(offsets.map((at) => limit(async () => void (o.stopping() ? undefined : await take(at)))));
      skip = offsets[offsets.length - 1]! + served;
    }
    // past the total, on in turn until an empty page: sessions may have arrived meanwhile
    for (let n = served; n > 0 && !o.stopping(); ) {
      const page = await take(skip);
      n = page.items.length;
      skip += n;
    }
    o.logger.info({ window: `${w.from}..${w.to}`, pages: index.pages, sessions: index.sessions }, 'window listed');
  }
  return index;
}

/** Builds the index, or goes on without one when the listing fails: correctness never depends on it. */
export async function tryBuildIndex(client: ApiClient, mapping: Mapping, windows: Window[], o: IndexOptions): Promise<SessionIndex | undefined> {
  try {
    return await buildIndex(client, mapping, windows, o);
  } catch (e) {
    if (e instanceof EtError && (e.code === 'E_USAGE' || e.code === 'E_LOGIN' || e.code === 'E_INTERRUPTED')) throw e;
    o.logger.warn({ err: errorMessage(e) }, 'the sessions of the window could not be listed: every row is searched for instead');
    return undefined;
  }
}
