import type { ApiClient } from '../api/client.js';
import { checkedSessionId, searchFilter } from '../api/sessions.js';
import { ApiError } from '../errors.js';
import type { ConversationKey, IdKey, MatchKey, MatchSpec } from '../mapping/types.js';
import { deltaText, decideConversation, type ConversationValue } from './conversation.js';
import { Claims, ConversationFinder, type DateRange } from './conversation-finder.js';
import type { RowKey } from './mapper.js';
import type { SessionIndex } from './session-index.js';
import { matchValues } from './mapper.js';
import { decide, type Resolution, type Session } from './decide.js';

export interface ResolveOptions {
  pageSize: number;
  /** Stop paging a loose search after this many hits; the row fails rather than guessing. */
  maxCandidates: number;
  /** Conversation keys: their time slices' listings, and the sessions they took. */
  conversations?: { finder: ConversationFinder; claims: Claims } | undefined;
}

/** A run's ResolveOptions: its pages, its bound on candidates, and the listings of its conversation keys' time slices. */
export function resolveOptions(client: ApiClient, o: { pageSize: number; maxCandidates: number; dateRange: DateRange }, datePad: number): ResolveOptions {
  const finder = new ConversationFinder(client, { pageSize: o.pageSize, maxSessions: o.maxCandidates, dateRange: o.dateRange, datePad });
  return { pageSize: o.pageSize, maxCandidates: o.maxCandidates, conversations: { finder, claims: new Claims() } };
}

/**
 * Finds the one session a key belongs to. `search_query` is a loose search, so every hit is
 * checked: it counts only if one of `match.sessionFields` equals the key exactly (audio file
 * names: both sides reduced to the base name without directory and extension).
 */
export async function resolveSession(
  client: ApiClient,
  key: IdKey,
  match: Pick<MatchSpec, 'onMultiple' | 'newestField' | 'datePad'>,
  lookup: string,
  options: ResolveOptions,
  date?: string,
): Promise<Resolution> {
  const { hits, seen } = await exactHits(client, key, lookup, options);
  const r = decide(hits, match, date);
  return r.kind === 'unmatched' ? { ...r, searched: seen } : r;
}

/** Every session the key's search finds whose session fields hold the key exactly (paged, at most --max-candidates examined). */
export async function exactHits(
  client: ApiClient,
  key: Pick<MatchKey, 'by' | 'sessionFields'>,
  lookup: string,
  options: ResolveOptions,
): Promise<{ hits: Session[]; seen: number }> {
  const filters = searchFilter(lookup);
  const hits = new Map<string, Session>();
  let seen = 0;
  for (let skip = 0; ; ) {
    // --max-candidates holds within a page too: a page of more is refused before it is parsed
    const page = await client.searchSessions(filters, skip, options.pageSize, options.maxCandidates - seen);
    for (const item of page.items) {
      if (isExactHit(item, key, lookup)) {
        const id = checkedSessionId(item.id, `search for ${JSON.stringify(lookup)} returned`);
        hits.set(id, item as Session);
      }
    }
    seen += page.items.length;
    skip += page.items.length;
    if (page.items.length === 0 || seen >= page.total) break;
    if (seen >= options.maxCandidates) {
      throw new ApiError(
        'E_TOO_MANY_CANDIDATES',
        `search for ${JSON.stringify(lookup)} found ${page.total} candidate sessions, more than --max-candidates ${options.maxCandidates}; use a more specific key`,
      );
    }
  }
  return { hits: [...hits.values()], seen };
}

export function isExactHit(item: Record<string, unknown>, key: Pick<MatchKey, 'by' | 'sessionFields'>, lookup: string): boolean {
  return matchValues(key, item).includes(lookup);
}

export interface KeyTry {
  /** Which of `match.keys`. */
  index: number;
  column: string;
  lookup: string;
  /** Candidates the search examined (0 for a key answered by the index). */
  searched: number;
  /** Why the candidates found did not count (the date). */
  note?: string | undefined;
}

export type RowResolution =
  | { kind: 'matched'; session: Session; matchedBy: string; keyIndex: number; lookup: string; note?: string | undefined }
  | { kind: 'ambiguous'; ids: string[]; matchedBy: string; keyIndex: number; lookup: string; note?: string | undefined }
  | { kind: 'unmatched'; tried: KeyTry[] };

/**
 * Resolves a row by its keys, in order: the first key that names a session (or several) decides;
 * an unmatched key passes the row to the next. With an index, a key it knows costs no request;
 * one it does not know is searched for.
 */
export async function resolveRow(
  client: ApiClient,
  match: MatchSpec,
  keys: RowKey[],
  options: ResolveOptions,
  index?: SessionIndex,
  date?: string,
): Promise<RowResolution> {
  const tried: KeyTry[] = [];
  for (const k of keys) {
    let r = index?.resolveKey(k, date);
    if (!r) {
      if (index) index.fallbackSearches++;
      r = await resolveKey(client, match.keys[k.index]!, match, k, options, date);
    }
    if (r.kind === 'unmatched') {
      tried.push({ index: k.index, column: k.column, lookup: k.lookup, searched: r.searched, note: r.note });
      continue;
    }
    return decided(r, k);
  }
  return { kind: 'unmatched', tried };
}

/**
 * The row's resolution when the index knows its first key: what `resolveRow` would answer,
 * without a request, so without waiting for a turn among the requests in flight. Undefined
 * otherwise (`resolveRow` searches).
 */
export function resolveFromIndex(keys: RowKey[], index: SessionIndex, date?: string): RowResolution | undefined {
  const k = keys[0];
  const r = k && index.resolveKey(k, date);
  return r && r.kind !== 'unmatched' ? decided(r, k) : undefined;
}

function decided(r: Exclude<Resolution, { kind: 'unmatched' }> & { delta?: number }, k: RowKey): RowResolution {
  // a conversation key says so, with the time difference: `conversation, Δ 14 s`
  const by = k.conversation === undefined ? k.column : r.kind === 'matched' && r.delta !== undefined ? `conversation, ${deltaText(r.delta)}` : 'conversation';
  // (literals, not a spread: this runs for every row)
  return r.kind === 'matched'
    ? { kind: 'matched', session: r.session, matchedBy: by, keyIndex: k.index, lookup: k.lookup, note: r.note }
    : { kind: 'ambiguous', ids: r.ids, matchedBy: by, keyIndex: k.index, lookup: k.lookup, note: r.note };
}

/** One key of a row, found by the API: an ID key's search and exact check, or a conversation key's time slices. */
export async function resolveKey(
  client: ApiClient,
  key: MatchKey,
  match: Pick<MatchSpec, 'onMultiple' | 'newestField' | 'datePad'>,
  k: Pick<RowKey, 'lookup' | 'conversation'>,
  options: ResolveOptions,
  date?: string,
): Promise<Resolution & { delta?: number }> {
  if (key.by !== 'conversation') return resolveSession(client, key, match, k.lookup, options, date);
  return resolveConversation(key, k.conversation!, match, options);
}

export async function resolveConversation(
  key: ConversationKey,
  v: ConversationValue,
  match: Pick<MatchSpec, 'onMultiple' | 'newestField'>,
  options: ResolveOptions,
): Promise<Resolution & { delta?: number }> {
  if (!options.conversations) throw new Error("a conversation key needs the run's ConversationFinder");
  const { found, seen } = await options.conversations.finder.candidates(key, v);
  const r = decideConversation(key, found, match);
  return r.kind === 'unmatched' ? { ...r, searched: seen } : r;
}

export { decide, pickNewest, type Resolution, type Session } from './decide.js';
export type { MatchKey };
