import type { ApiClient } from './api/client.js';
import { EtError } from './errors.js';
import type { ConversationKey, EqualSpec, Mapping } from './mapping/types.js';
import {
  candidateDelta,
  deltaText,
  decideConversation,
  normalised,
  rowTime,
  sessionTime,
  sessionValues,
  type ConversationValue,
} from './pipeline/conversation.js';
import { ConversationFinder, type DateRange } from './pipeline/conversation-finder.js';
import type { Session } from './pipeline/decide.js';

export interface ConversationQuery {
  time: string;
  agent?: string | undefined;
  phone?: string | undefined;
  region?: string | undefined;
  timezone?: string | undefined;
  tolerance?: number | undefined;
}

/** One session near the time, in or out, with why. */
export interface NearSession {
  id: string;
  delta: number;
  in: boolean;
  why: string[];
}

/**
 * The conversation key `find --time` uses: the mapping's first conversation key (its session
 * fields, zone, tolerance, filters), with the equalities the flags give; without a mapping,
 * agent = `agent` and phone = `caller` or `destination`.
 */
export function queryKey(q: ConversationQuery, mapping: Mapping | undefined): { key: ConversationKey; values: string[] } {
  const base = mapping?.match.keys.find((k): k is ConversationKey => k.by === 'conversation');
  const equal: EqualSpec[] = [];
  const values: string[] = [];
  const text = base?.equal.find((e) => e.as === 'text');
  const phone = base?.equal.find((e) => e.as === 'phone');
  if (q.agent !== undefined) {
    equal.push(text ?? { column: '--agent', sessionFields: ['agent'], as: 'text' });
    values.push(q.agent);
  }
  if (q.phone !== undefined) {
    const region = q.region?.toUpperCase() ?? phone?.region;
    equal.push({ ...(phone ?? { column: '--phone', sessionFields: ['caller', 'destination'], as: 'phone' }), ...(region && { region }) });
    values.push(q.phone);
  }
  const time = {
    column: '--time',
    sessionField: base?.time.sessionField ?? 'start_time',
    tolerance: q.tolerance ?? base?.time.tolerance ?? 120,
    timezone: q.timezone ?? base?.time.timezone ?? 'UTC',
    formats: [...(base?.time.formats ?? []), 'YYYY-MM-DD HH:mm:ss', 'YYYY-MM-DD HH:mm'],
    margin: base?.time.margin ?? 10,
  };
  const sessionFields = [time.sessionField, ...equal.flatMap((e) => e.sessionFields)];
  return { key: { column: '--time', by: 'conversation', sessionFields, time, equal, filters: base?.filters ?? [] }, values };
}

/** Every session of the time's slices within three tolerances of it, each in or out and why, and what a run would decide. */
export async function findConversation(
  client: ApiClient,
  q: ConversationQuery,
  mapping: Mapping | undefined,
  o: { pageSize: number; maxCandidates: number; dateRange: DateRange },
): Promise<{ key: ConversationKey; value: ConversationValue; near: NearSession[]; decision: string }> {
  const { key, values } = queryKey(q, mapping);
  const t = rowTime(key, q.time);
  if (!t.ok || t.value === undefined)
    throw new EtError(
      'E_USAGE',
      `--time: expected a time such as 2025-06-03T10:15:00+02:00 or "2025-06-03 10:15:00" (zone ${key.time.timezone}), got ${JSON.stringify(q.time)}`,
    );
  const equal = key.equal.map((e, i) => normalised(e, values[i]!));
  const bad = equal.findIndex((e) => e.length === 0);
  if (bad >= 0)
    throw new EtError(
      'E_USAGE',
      `${key.equal[bad]!.as === 'phone' ? '--phone' : '--agent'}: cannot read ${JSON.stringify(values[bad])}${key.equal[bad]!.as === 'phone' ? ' as a phone number (give --region for a national number)' : ''}`,
    );
  const value = { at: t.value, equal };
  const finder = new ConversationFinder(client, {
    pageSize: o.pageSize,
    maxSessions: o.maxCandidates,
    dateRange: o.dateRange,
    datePad: mapping?.match.datePad ?? 1,
  });
  const wide: ConversationKey = { ...key, time: { ...key.time, tolerance: key.time.tolerance * 3 } };
  const sessions = await finder.sessionsNear(wide, { at: value.at });
  const near: NearSession[] = [];
  const found: { session: Session; delta: number }[] = [];
  for (const s of sessions) {
    const delta = sessionTime(key, s) - value.at;
    if (!(Math.abs(delta) <= wide.time.tolerance * 1000)) continue;
    const why = [`time ${deltaText(delta, true)} ${Math.abs(delta) <= key.time.tolerance * 1000 ? 'within' : 'outside'} ${key.time.tolerance} s`];
    key.equal.forEach((e, i) => {
      const offered = sessionValues(e, s);
      why.push(`${e.sessionFields.join('/')} ${offered.some((x) => equal[i]!.includes(x)) ? 'equal' : `differs (${offered.join(', ') || 'none'})`}`);
    });
    const isIn = candidateDelta(key, value, s) !== undefined;
    if (isIn) found.push({ session: s, delta });
    near.push({ id: s.id, delta, in: isIn, why });
  }
  near.sort((a, b) => Math.abs(a.delta) - Math.abs(b.delta));
  const r = decideConversation(key, found, { onMultiple: mapping?.match.onMultiple ?? 'fail', newestField: mapping?.match.newestField ?? 'start_time' });
  const decision =
    r.kind === 'matched'
      ? `a run would write session ${r.session.id} (conversation, ${deltaText(r.delta ?? 0)})`
      : r.kind === 'ambiguous'
        ? `a run would call the row ambiguous: ${r.note ?? `${r.ids.length} sessions fit`}`
        : 'a run would find no session: unmatched';
  return { key, value, near, decision };
}

export function formatConversation(r: Awaited<ReturnType<typeof findConversation>>): string {
  const when = new Date(r.value.at).toISOString().replace('.000Z', 'Z');
  const lines = [
    `conversation at ${when} ±${r.key.time.tolerance} s (${r.key.time.sessionField})${r.key.filters.length > 0 ? `, filters ${r.key.filters.map(([n, v]) => `${n},${v}`).join(' ')}` : ''}: ${r.near.filter((n) => n.in).length} in, ${r.near.filter((n) => !n.in).length} near but out`,
  ];
  for (const n of r.near) lines.push(`  ${n.in ? 'IN ' : 'out'} ${n.id}  ${n.why.join('; ')}`);
  lines.push(r.decision);
  return `${lines.join('\n')}\n`;
}
