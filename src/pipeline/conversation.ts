/**
 * A key made of what the conversation is (`by: conversation`): the row's time near the session's
 * start, and columns equal to session fields after normalisation. Pure: the values a row gives,
 * the values a session offers, and the one session among the candidates.
 */
import type { CountryCode } from 'libphonenumber-js';
import type { Result } from '../errors.js';
import type { Cell } from '../input/types.js';
import { cellText } from '../input/cell.js';
import type { ConversationKey, EqualSpec, FieldSpec, MatchSpec } from '../mapping/types.js';
import { convertCell } from './convert.js';
import { phoneLib } from '../phone.js';
import { pickNewest, type Resolution, type Session } from './decide.js';

/** What a row gives a conversation key: its time (ms, UTC) and, per `equal`, the normalised values it may be. */
export interface ConversationValue {
  at: number;
  equal: string[][];
}

/** A candidate that satisfies the key, and how far its start is from the row's time (ms, signed: session − row). */
export interface Candidate {
  session: Session;
  delta: number;
}

/**
 * The values a text may stand for. text: trimmed, inner spaces collapsed, lower case. phone:
 * E.164 through libphonenumber-js with the region for national numbers; digits alone (as many
 * telephony systems store `37250987916`) may also be an international number without its `+`.
 */
export function normalised(e: Pick<EqualSpec, 'as' | 'region'>, text: string): string[] {
  const t = text.trim();
  if (t === '') return [];
  if (e.as === 'text') return [t.replace(/\s+/g, ' ').toLowerCase()];
  const out = new Set<string>();
  const { parsePhoneNumberFromString } = phoneLib();
  const add = (s: string, region?: string) => {
    const p = parsePhoneNumberFromString(s, region as CountryCode | undefined);
    if (p?.isPossible()) out.add(p.number);
  };
  add(t, e.region);
  if (/^\d{8,15}$/.test(t) && !t.startsWith('0')) add(`+${t}`);
  return [...out];
}

const timeFields = new WeakMap<ConversationKey, FieldSpec>();

/** The key's time column read as a datetime field: its zone and formats, Excel datetimes too. */
function timeField(key: ConversationKey): FieldSpec {
  let f = timeFields.get(key);
  if (!f) {
    f = {
      name: key.time.column,
      column: key.time.column,
      type: 'datetime',
      merge: 'replace',
      required: false,
      allowShapeChange: false,
      separator: ';',
      decimal: '.',
      thousands: [],
      truthy: [],
      falsy: [],
      formats: key.time.formats,
      timezone: key.time.timezone,
    };
    timeFields.set(key, f);
  }
  return f;
}

/** The row's time (ms), or undefined for an empty cell, or what was expected. */
export function rowTime(key: ConversationKey, cell: Cell | undefined): Result<number | undefined, string> {
  const r = convertCell(cell, timeField(key));
  if (!r.ok) return { ok: false, error: `${r.error} (the conversation's time, zone ${key.time.timezone})` };
  return { ok: true, value: r.value === undefined ? undefined : Date.parse(String(r.value)) };
}

/**
 * A row's conversation value from its time cell and equality cells; `problem` names the column
 * at fault (an empty cell, or a phone number that is none).
 */
export function rowConversation(
  key: ConversationKey,
  timeCell: Cell | undefined,
  equalCells: (Cell | undefined)[],
): Result<ConversationValue, { column: string; problem: string; value: string }> {
  const t = rowTime(key, timeCell);
  const timeText = cellText(timeCell ?? null).trim();
  if (!t.ok) return { ok: false, error: { column: key.time.column, problem: `expected ${t.error}`, value: timeText } };
  if (t.value === undefined) return { ok: false, error: { column: key.time.column, problem: 'the key is empty', value: '' } };
  const equal: string[][] = [];
  for (let i = 0; i < key.equal.length; i++) {
    const e = key.equal[i]!;
    const text = cellText(equalCells[i] ?? null).trim();
    if (text === '') return { ok: false, error: { column: e.column, problem: 'the key is empty', value: '' } };
    const values = normalised(e, text);
    if (values.length === 0)
      return {
        ok: false,
        error: {
          column: e.column,
          problem: `expected a phone number${e.region ? ` (numbers without +country read as ${e.region})` : ''}, got ${JSON.stringify(text)}`,
          value: text,
        },
      };
    equal.push(values);
  }
  return { ok: true, value: { at: t.value, equal } };
}

/** What the row's conversation value stands for in duplicates, shards and the journal: time and values, one text. */
export function conversationLookup(v: ConversationValue): string {
  return [new Date(v.at).toISOString().replace('.000Z', 'Z'), ...v.equal.map((e) => e[0]!)].join(' | ');
}

/** The session's start (ms), or NaN. */
export function sessionTime(key: ConversationKey, session: Record<string, unknown>): number {
  const v = session[key.time.sessionField];
  return typeof v === 'string' || typeof v === 'number' ? new Date(v).getTime() : Number.NaN;
}

/** The normalised values one equality's session fields offer. */
export function sessionValues(e: EqualSpec, session: Record<string, unknown>): string[] {
  const out: string[] = [];
  for (const f of e.sessionFields) {
    const v = session[f];
    if (typeof v === 'string' || typeof v === 'number') out.push(...normalised(e, String(v)));
  }
  return out;
}

/** Whether the session is the row's conversation: its start within the tolerance, every equality met. The time difference, or undefined. */
export function candidateDelta(key: ConversationKey, v: ConversationValue, session: Record<string, unknown>): number | undefined {
  const delta = sessionTime(key, session) - v.at;
  if (!(Math.abs(delta) <= key.time.tolerance * 1000)) return undefined;
  for (let i = 0; i < key.equal.length; i++) {
    const offered = sessionValues(key.equal[i]!, session);
    if (!v.equal[i]!.some((x) => offered.includes(x))) return undefined;
  }
  return delta;
}

export function candidatesAmong(key: ConversationKey, v: ConversationValue, sessions: Iterable<Session>): Candidate[] {
  const out: Candidate[] = [];
  const seen = new Set<string>();
  for (const session of sessions) {
    if (seen.has(session.id)) continue;
    const delta = candidateDelta(key, v, session);
    if (delta === undefined) continue;
    seen.add(session.id);
    out.push({ session, delta });
  }
  return out;
}

/** `Δ 14 s`, rounded to the second; `signed`: `Δ +14 s` when the session started after the row's time. */
export function deltaText(ms: number, signed = false): string {
  const s = Math.round(ms / 1000);
  return signed ? `Δ ${s > 0 ? '+' : ''}${s} s` : `Δ ${Math.abs(s)} s`;
}

/**
 * The one session among a conversation key's candidates: one; under `nearest`, the one nearest in
 * time when it is nearer than the next by more than the key's margin; under `newest`, the latest;
 * else ambiguous. A match carries its time difference.
 */
export function decideConversation(
  key: ConversationKey,
  found: Candidate[],
  match: Pick<MatchSpec, 'onMultiple' | 'newestField'>,
): Resolution & { delta?: number } {
  if (found.length === 0) return { kind: 'unmatched', searched: 0 };
  if (found.length === 1) return { kind: 'matched', session: found[0]!.session, delta: found[0]!.delta };
  const within = `${found.length} sessions within ${key.time.tolerance} s of the row's time meet every equality`;
  if (match.onMultiple === 'nearest') {
    const sorted = [...found].sort((a, b) => Math.abs(a.delta) - Math.abs(b.delta));
    const [first, second] = [sorted[0]!, sorted[1]!];
    if (Math.abs(second.delta) - Math.abs(first.delta) > key.time.margin * 1000)
      return {
        kind: 'matched',
        session: first.session,
        delta: first.delta,
        note: `${within}; the nearest taken (${deltaText(first.delta, true)}; next ${deltaText(second.delta, true)})`,
      };
    return {
      kind: 'ambiguous',
      ids: sorted.map((c) => c.session.id),
      note: `${within}; the nearest (${deltaText(first.delta, true)}) is not nearer than the next (${deltaText(second.delta, true)}) by more than ${key.time.margin} s`,
    };
  }
  if (match.onMultiple === 'newest') {
    const newest = pickNewest(
      found.map((c) => c.session),
      key.time.sessionField,
    );
    const c = found.find((x) => x.session === newest);
    if (c) return { kind: 'matched', session: c.session, delta: c.delta, note: `${within}; the newest taken` };
  }
  return { kind: 'ambiguous', ids: found.map((c) => c.session.id), note: within };
}

/**
 * Index buckets: a session is filed under its start's time bucket (the tolerance wide) and its
 * first equality's values; a row looks in its bucket and the two beside it.
 */
export function bucketOf(key: ConversationKey, at: number): number {
  return Math.floor(at / Math.max(1000, key.time.tolerance * 1000));
}

export function sessionBuckets(key: ConversationKey, session: Record<string, unknown>): string[] {
  const t = sessionTime(key, session);
  if (Number.isNaN(t)) return [];
  const b = bucketOf(key, t);
  return sessionValues(key.equal[0]!, session).map((v) => `${b}\u0000${v}`);
}

export function rowBuckets(key: ConversationKey, v: ConversationValue): string[] {
  const b = bucketOf(key, v.at);
  const out: string[] = [];
  for (const x of [b - 1, b, b + 1]) for (const e of v.equal[0]!) out.push(`${x}\u0000${e}`);
  return out;
}
