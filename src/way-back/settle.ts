import type { ApiClient } from '../api/client.js';
import type { ChangeLine, ChangeSink, FieldWrite } from '../change-line.js';
import type { IdBy } from '../mapping/types.js';
import { type Candidate, decideConversation } from '../pipeline/conversation.js';
import { decide, type Session } from '../pipeline/decide.js';
import { exactHits, type ResolveOptions } from '../pipeline/resolver.js';
import { failure, type Base } from '../pipeline/row-results.js';
import type { FieldChange, RowResult } from '../row-result.js';
import { describe, type Held, sameHeld, type Target } from './targets.js';

export interface WayBackContext {
  kind: 'undo' | 'apply';
  client: ApiClient;
  resolve: ResolveOptions;
  dryRun: boolean;
  /** undo: restore a field changed since the run too. */
  force: boolean;
  /** What clears a key that did not exist before: null, or the empty string. */
  absentAs: null | '';
  /** This run's own way back: each write's line, durable before its PUT. */
  changes: { runId: string; sink: ChangeSink } | undefined;
  stopping: () => boolean;
}

type Verdict = { write: Record<string, unknown>; before: Record<string, FieldWrite>; kept: string[]; conflicts: string[] };

/**
 * Settles one session: finds it again by the key that found it (the very session id, never
 * another), compares what it holds with what the target expects, and writes what comes back.
 * undo: a field changed since the run is `kept` (restored with `force`), the others restored.
 * apply: a session whose key now finds another, or that no longer holds the plan's before, is
 * a `conflict` and not written. Null when the run is stopping before the first request.
 */
export async function settleTarget(ctx: WayBackContext, t: Target, where: string): Promise<RowResult | null> {
  if (ctx.stopping()) return null;
  const base: Base = { file: t.file, row: t.row, key: t.find.lookup, matchedBy: t.find.column };
  let session: Session | undefined;
  try {
    const found = findAgain(ctx, t, await hitsOf(ctx, t));
    if ('status' in found) return { ...base, ...found, sessionId: t.session };
    session = found.session;
  } catch (e) {
    return { ...failure(e, base, where), sessionId: t.session };
  }
  const v = verdict(ctx, t, session);
  if (v.conflicts.length > 0)
    return {
      ...base,
      sessionId: t.session,
      status: 'conflict',
      errorCode: 'E_CONFLICT',
      errorMessage: `${where}: changed since the plan: ${v.conflicts.join('; ')}; not written`,
    };
  const names = Object.keys(v.write);
  const keptNote = v.kept.length > 0 ? `changed since the run, kept (--force restores): ${v.kept.join('; ')}` : undefined;
  const notes = [keptNote, ...t.notes].filter(Boolean).join('; ') || undefined;
  if (names.length === 0)
    return { ...base, sessionId: t.session, status: v.kept.length > 0 ? 'kept' : 'unchanged', changed: [], errorMessage: notes && `${where}: ${notes}` };
  if (ctx.changes) {
    try {
      await ctx.changes.sink.write(ownLine(ctx.changes.runId, t, v));
    } catch (e) {
      return { ...failure(e, base, where), sessionId: t.session, fatal: true };
    }
    // a stop that came while the line was written: the PUT is not sent
    if (ctx.stopping()) return null;
  }
  if (!ctx.dryRun) {
    try {
      await ctx.client.putMetadata(t.session, v.write);
    } catch (e) {
      return { ...failure(e, base, where), sessionId: t.session, changed: names };
    }
  } else ctx.client.stats.dryRunPuts++;
  const changes: FieldChange[] = names.map((f) => ({ field: f, before: v.before[f]!.before, after: v.write[f] }));
  const status = v.kept.length > 0 ? 'kept' : ctx.dryRun ? 'would_update' : 'updated';
  return { ...base, sessionId: t.session, status, changed: names, changes, errorMessage: notes && `${where}: ${notes}` };
}

/** The sessions the target's key finds now: an ID key's exact hits, or a conversation key's candidates (with their time differences). */
async function hitsOf(ctx: WayBackContext, t: Target): Promise<{ sessions: Session[]; candidates?: Candidate[] }> {
  const c = t.find.conversation;
  if (!c) return { sessions: (await exactHits(ctx.client, { by: t.find.by as IdBy, sessionFields: t.find.sessionFields }, t.find.lookup, ctx.resolve)).hits };
  if (!ctx.resolve.conversations) throw new Error("a conversation key needs the run's ConversationFinder");
  const { found } = await ctx.resolve.conversations.finder.candidates(c.key, { at: c.at, equal: c.equal });
  return { sessions: found.map((x) => x.session), candidates: found };
}

/** The target's session among the key's exact hits; apply also needs the key to decide for it, as the plan's run did. */
function findAgain(
  ctx: WayBackContext,
  t: Target,
  now: { sessions: Session[]; candidates?: Candidate[] },
): { session: Session } | Pick<RowResult, 'status' | 'errorCode' | 'errorMessage'> {
  const hits = now.sessions;
  const lookup = JSON.stringify(t.find.lookup);
  const session = hits.find((h) => h.id === t.session);
  if (ctx.kind === 'undo') {
    if (session) return { session };
    return {
      status: 'unmatched',
      errorCode: 'E_UNMATCHED',
      errorMessage: `session ${t.session} is no longer found by ${t.find.column} ${lookup}; not restored`,
    };
  }
  const c = t.find.conversation;
  const r = c && now.candidates ? decideConversation(c.key, now.candidates, t.find) : decide(hits, t.find, t.find.date);
  if (r.kind === 'matched' && r.session.id === t.session) return { session: r.session };
  const then = r.kind === 'matched' ? `session ${r.session.id}` : r.kind === 'ambiguous' ? `${r.ids.length} sessions` : 'no session';
  return {
    status: 'conflict',
    errorCode: 'E_CONFLICT',
    errorMessage: `${t.find.column} ${lookup} found session ${t.session} when the plan was made and now finds ${then}; not written`,
  };
}

function heldOn(session: Session, field: string): Held {
  return Object.hasOwn(session, field) ? { value: session[field] } : { absent: true };
}

function verdict(ctx: WayBackContext, t: Target, session: Session): Verdict {
  const v: Verdict = { write: {}, before: {}, kept: [], conflicts: [] };
  for (const [field, ft] of Object.entries(t.fields)) {
    const now = heldOn(session, field);
    const cleared = 'absent' in now || now.value === null || now.value === ctx.absentAs;
    if (sameHeld(now, ft.to) || ('absent' in ft.to && cleared)) continue;
    if (!ft.expect.some((e) => sameHeld(now, e)) && !(ctx.kind === 'undo' && ctx.force)) {
      const wrote = describe(ft.expect[0]!);
      const three = `${field}: ${ctx.kind === 'undo' ? `before ${describe(ft.to)}, the run wrote ${wrote}` : `the plan read ${wrote}`}, it holds ${describe(now)} now`;
      (ctx.kind === 'undo' ? v.kept : v.conflicts).push(three);
      continue;
    }
    v.write[field] = 'absent' in ft.to ? ctx.absentAs : ft.to.value;
    v.before[field] = 'absent' in now ? { after: v.write[field] } : { before: now.value, after: v.write[field] };
  }
  return v;
}

function ownLine(run: string, t: Target, v: Verdict): ChangeLine {
  return { run, at: new Date().toISOString(), session: t.session, file: t.file, row: t.row, find: t.find, fields: v.before };
}
