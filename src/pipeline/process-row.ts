import type { LimitFunction } from 'p-limit';
import type { ApiClient } from '../api/client.js';
import { hasDroppedKeys } from '../api/json.js';
import type { Logger } from '../logger.js';
import type { Mapping } from '../mapping/types.js';
import type { FieldChange, RowResult } from '../row-result.js';
import type { MappedRow } from './mapper.js';
import { mergeMetadata } from './merger.js';
import type { FreshCopies } from './fresh-copies.js';
import { resolveFromIndex, resolveRow, resolveSession, type ResolveOptions, type RowResolution, type Session } from './resolver.js';
import type { SessionIndex } from './session-index.js';
import type { RowAt, RowSink, StopState } from './row.js';
import { type Base, failure, internalError, unresolved, written } from './row-results.js';
import type { SessionQueue } from './session-queue.js';
import type { TurnGate } from './turn-gate.js';
import type { WrittenState } from './written-state.js';

export interface RowContext {
  mapping: Mapping;
  client: ApiClient;
  /** The one bound on requests in flight. */
  limit: LimitFunction;
  gate: TurnGate;
  queue: SessionQueue;
  written: WrittenState;
  stop: StopState;
  sink: RowSink;
  logger: Logger;
  dryRun: boolean;
  resolve: ResolveOptions;
  maxBodyBytes: number;
  /** Resumed runs: sessions written by a row redone in this run; later rows of theirs are redone too. */
  dirty: Set<string> | undefined;
  /** Index mode: the listed sessions. */
  index?: SessionIndex | undefined;
  /** Index mode: copies of the listed sessions read again when older than --index-fresh. */
  fresh?: FreshCopies | undefined;
  /** Index mode resuming a run: lists the window when the first row needs the API (then gone). */
  indexReady?: (() => Promise<void>) | undefined;
  /** Resolutions of keys with rows in flight: a key repeated meanwhile is not searched again. */
  shared?: Map<string, SharedResolution>;
}

export interface SharedResolution {
  promise: Promise<RowResolution | null>;
  users: number;
  /** The written-state mark of its search: every row using it saw the server as of then. */
  mark: number;
}

/**
 * Resolves a row, waits for its turn, then merges and writes on its session's queue, and records
 * the result. Never rejects: an expected failure is the row's status; an unexpected one (a bug)
 * records the row as `failed` with E_INTERNAL and stops the run as fatal. A row that finds the
 * run stopping before its first request is left unrecorded (`--resume` does it).
 */
export async function processRow(ctx: RowContext, at: RowAt, mapped: MappedRow, ticket: number): Promise<void> {
  const where = `${at.file} row ${at.row.row}`;
  const base = { file: at.file, row: at.row.row, key: mapped.key };
  let recorded = false;
  const record = async (r: RowResult | null) => {
    if (r && !recorded) {
      recorded = true;
      await ctx.sink.record(r, at);
    }
  };
  let passed = false;
  const pass = () => {
    if (!passed) ctx.gate.pass(ticket);
    passed = true;
  };
  if (ctx.indexReady) await ctx.indexReady();
  const { resolution, mark, release } = shareResolution(ctx, mapped);
  try {
    const found = await resolution.catch((e: unknown) => failure(e, base, where));
    if (found === null || 'status' in found) return await record(found);
    if (found.kind !== 'matched') return await record(unresolved(ctx.mapping.match.keys, ctx.index !== undefined, found, base, where));
    const session = found.session;
    await ctx.gate.turn(ticket);
    ctx.dirty?.add(session.id);
    const matched: Base = { file: base.file, row: base.row, key: base.key, matchedBy: found.matchedBy, matchNote: found.note };
    const write = ctx.queue.run(session.id, async () => {
      // index mode: a stale copy waits, with its page's other rows, for the page to be read again
      const ready = ctx.fresh ? await ctx.fresh.ready(session) : undefined;
      try {
        await record(
          await ctx.limit(() => {
            ready?.sent();
            return writeRow(ctx, session, mapped, matched, where, ready?.readSince);
          }),
        );
      } finally {
        ready?.sent();
      }
    });
    pass();
    await write;
  } catch (e) {
    await internalError(ctx, e, at, base, where, record);
  } finally {
    pass();
    release();
    ctx.written.done(mark);
  }
}

/**
 * The row's resolution: a search of its own, or the one a row with the same keys still in flight
 * made (a key repeated in the file is searched once while its session is being written).
 */
function shareResolution(ctx: RowContext, mapped: MappedRow): { resolution: Promise<RowResolution | null>; mark: number; release: () => void } {
  // the row's date is part of the question: the same key on another day may be another session
  const sig = `${mapped.keys.map((k) => `${k.index}\u0000${k.lookup}`).join('\u0001')}\u0002${mapped.date ?? ''}`;
  let shared = ctx.shared?.get(sig);
  let mark: number;
  if (shared) {
    shared.users++;
    mark = ctx.written.join(shared.mark);
  } else {
    mark = ctx.written.begin();
    // a key the index knows needs no request, so no turn among the requests in flight
    const known = ctx.index && !ctx.stop.stopping ? resolveFromIndex(mapped.keys, ctx.index, mapped.date) : undefined;
    const promise = known
      ? Promise.resolve(known)
      : ctx.limit(() => (ctx.stop.stopping ? null : resolveRow(ctx.client, ctx.mapping.match, mapped.keys, ctx.resolve, ctx.index, mapped.date)));
    // every row using it handles a failure; this keeps an unwatched rejection from surfacing
    promise.catch(() => undefined);
    shared = { promise, users: 1, mark };
    ctx.shared?.set(sig, shared);
  }
  const mine = shared;
  return {
    resolution: mine.promise,
    mark,
    release: () => {
      if (--mine.users === 0 && ctx.shared?.get(sig) === mine) ctx.shared.delete(sig);
    },
  };
}

/**
 * A row the journal of the resumed run has as done: skipped, unless an earlier row redone in
 * this run wrote its session, in which case it is redone after it (file order per session).
 */
export async function processResumed(
  ctx: RowContext,
  at: RowAt,
  mapped: MappedRow,
  ticket: number,
  earlier: { status: string; sessionId: string },
): Promise<void> {
  try {
    await ctx.gate.turn(ticket);
    if (ctx.dirty?.has(earlier.sessionId)) {
      ctx.logger.debug({ file: at.file, row: at.row.row }, 'redoing a finished row: an earlier row of its session was redone');
      return await processRow(ctx, at, mapped, ticket);
    }
    ctx.gate.pass(ticket);
    await ctx.sink.record(
      {
        file: at.file,
        row: at.row.row,
        key: mapped.key,
        status: 'skipped',
        sessionId: earlier.sessionId,
        errorMessage: `finished earlier as ${earlier.status}`,
      },
      at,
    );
  } catch (e) {
    ctx.gate.pass(ticket);
    await internalError(ctx, e, at, { file: at.file, row: at.row.row, key: mapped.key }, `${at.file} row ${at.row.row}`, (r) => ctx.sink.record(r, at));
  }
}

async function writeRow(ctx: RowContext, session: Session, mapped: MappedRow, base: Base, where: string, readSince?: number): Promise<RowResult | null> {
  if (ctx.stop.stopping) return null;
  // (search mode needs no wait: the search's answer with this run's writes since)
  const held = ctx.fresh ? await heldNow(ctx, session, mapped, base, where, readSince) : { copy: ctx.written.get(session.id) ?? session };
  if ('result' in held) return held.result;
  const current = held.copy;
  const unsafe = ctx.mapping.fields.filter((f) => Object.hasOwn(mapped.values, f.name) && hasDroppedKeys(current[f.name]));
  if (unsafe.length > 0) {
    return {
      ...base,
      sessionId: session.id,
      status: 'failed',
      errorCode: 'E_UNSAFE_EXISTING',
      errorMessage: `${where}: the session's ${unsafe.map((f) => f.name).join(', ')} holds keys (__proto__, constructor, prototype) that cannot be kept safely; not written, so the stored value is not changed`,
    };
  }
  const { body, changed } = mergeMetadata(current, mapped.values, ctx.mapping.fields);
  if (changed.length === 0) return written(base, session.id, changed, 'unchanged', undefined);
  const json = JSON.stringify(body);
  const size = Buffer.byteLength(json);
  if (size > ctx.maxBodyBytes) {
    return {
      ...written(base, session.id, changed, 'invalid', undefined),
      errorCode: 'E_TOO_LARGE',
      errorMessage: `${where}: the metadata to write is ${Math.ceil(size / 1024)} KB, more than --max-body-kb ${Math.floor(ctx.maxBodyBytes / 1024)}; not sent`,
    };
  }
  // what the session holds after the PUT is known as of when it was sent: another writer may
  // change it while it is on the wire, so a later row's merge never counts it fresher than that
  const sentAt = Date.now();
  if (!ctx.dryRun) {
    try {
      await ctx.client.putMetadata(session.id, body, json);
    } catch (e) {
      return { ...failure(e, base, where), sessionId: session.id, changed };
    }
  }
  const after: Record<string, unknown> = {};
  for (const f of ctx.mapping.fields) if (Object.hasOwn(current, f.name)) after[f.name] = current[f.name];
  ctx.written.set(session.id, Object.assign(after, body));
  ctx.index?.noteWrite(session, body, sentAt);
  if (ctx.dryRun) ctx.client.stats.dryRunPuts++;
  const changes: FieldChange[] = [];
  for (const field of changed) changes.push({ field, before: Object.hasOwn(current, field) ? current[field] : undefined, after: body[field] });
  return written(base, session.id, changed, ctx.dryRun ? 'would_update' : 'updated', changes);
}

/**
 * What the session holds, as the merge must see it: in index mode a copy read at most
 * --index-fresh ago (its listing page read again, or the session searched for); otherwise the
 * search's answer with this run's own writes since. A row result when the session cannot be
 * found again by the row's key.
 */
async function heldNow(
  ctx: RowContext,
  session: Session,
  mapped: MappedRow,
  base: Base,
  where: string,
  readSince?: number,
): Promise<{ copy: Record<string, unknown> } | { result: RowResult }> {
  let fresh: Awaited<ReturnType<FreshCopies['current']>>;
  try {
    fresh = ctx.fresh ? await ctx.fresh.current(session, readSince) : undefined;
  } catch (e) {
    return { result: { ...failure(e, base, where), sessionId: session.id } };
  }
  if (fresh === undefined) return { copy: ctx.written.get(session.id) ?? session };
  if (fresh !== 'search') return { copy: fresh.session };
  const k = mapped.keys.find((key) => key.column === base.matchedBy) ?? mapped.keys[0]!;
  if (ctx.index) ctx.index.fallbackSearches++;
  let r: Awaited<ReturnType<typeof resolveSession>>;
  try {
    r = await resolveSession(ctx.client, ctx.mapping.match.keys[k.index]!, ctx.mapping.match, k.lookup, ctx.resolve, mapped.date);
  } catch (e) {
    return { result: { ...failure(e, base, where), sessionId: session.id } };
  }
  if (r.kind === 'matched' && r.session.id === session.id) {
    ctx.index?.noteRead([r.session], Date.now());
    return { copy: r.session };
  }
  if (r.kind === 'unmatched')
    return {
      result: unresolved(
        ctx.mapping.match.keys,
        ctx.index !== undefined,
        { kind: 'unmatched', tried: [{ column: k.column, lookup: k.lookup, searched: r.searched, note: r.note }] },
        base,
        where,
      ),
    };
  if (r.kind === 'ambiguous')
    return {
      result: unresolved(
        ctx.mapping.match.keys,
        ctx.index !== undefined,
        { kind: 'ambiguous', ids: r.ids, matchedBy: k.column, lookup: k.lookup, note: r.note },
        base,
        where,
      ),
    };
  return {
    result: {
      ...base,
      sessionId: session.id,
      status: 'failed',
      errorCode: 'E_API',
      errorMessage: `${where}: the listing gave session ${session.id} for ${JSON.stringify(k.lookup)}, but a search for it now finds session ${r.session.id}; not written`,
    },
  };
}
