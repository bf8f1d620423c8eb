import { hasDroppedKeys } from '../api/json.js';
import type { FieldChange, RowResult, Status } from '../row-result.js';
import { changeEntry } from './change-entry.js';
import { shapeChange } from './shape-guard.js';
import type { MappedRow } from './mapper.js';
import { mergeMetadata } from './merger.js';
import { resolveKey, type RowResolution, type Session } from './resolver.js';
import type { FreshCopies } from './fresh-copies.js';
import type { RowScheduler } from './row-scheduler.js';
import type { RowAt } from './row.js';
import { type Base, failure, internalError, unresolved, written } from './row-results.js';

/** What a row's processing uses: the run's row scheduler (row-scheduler.ts). */
export type RowContext = RowScheduler;

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
    if (!passed) ctx.pass(ticket);
    passed = true;
  };
  if (ctx.indexReady) await ctx.indexReady();
  const { resolution, mark, release } = ctx.search(mapped);
  try {
    const found = await resolution.catch((e: unknown) => failure(e, base, where));
    if (found === null || 'status' in found) return await record(found);
    if (found.kind !== 'matched') return await record(unresolved(ctx.mapping.match.keys, ctx.index !== undefined, found, base, where));
    const session = found.session;
    await ctx.turn(ticket);
    ctx.redo(session.id);
    // results.csv's key is the one that found the session, not the first non-empty one
    const key = mapped.keys.length > 1 ? (mapped.keys.find((k) => k.index === found.keyIndex)?.key ?? base.key) : base.key;
    const matched: Base = {
      file: base.file,
      row: base.row,
      key,
      matchedBy: found.matchedBy,
      matchNote: claimNote(ctx, found, where),
      keyIndex: found.keyIndex,
    };
    const write = ctx.queueWrite(session, (readSince) => writeRow(ctx, session, mapped, matched, where, readSince), record);
    pass();
    await write;
  } catch (e) {
    await internalError(ctx, e, at, base, where, record);
  } finally {
    pass();
    release();
    ctx.done(mark);
  }
}

/**
 * A conversation key's match note, with a warning when an earlier row of another conversation
 * value took the same session (two surveys for one call are one thing; two calls taken for one
 * are a mistake in the key).
 */
function claimNote(ctx: RowContext, found: Extract<RowResolution, { kind: 'matched' }>, where: string): string | undefined {
  const claims = ctx.resolve.conversations?.claims;
  if (!claims || ctx.mapping.match.keys[found.keyIndex]?.by !== 'conversation') return found.note;
  const earlier = claims.claim(found.session.id, found.lookup, where);
  if (earlier === undefined) return found.note;
  const warning = `session ${found.session.id} was also taken by ${earlier} for another conversation (${found.lookup}): check the tolerance and the equalities`;
  ctx.logger.warn({ where, session: found.session.id, earlier }, 'one session taken by two conversations');
  return found.note ? `${found.note}; ${warning}` : warning;
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
    await ctx.turn(ticket);
    if (ctx.redone(earlier.sessionId)) {
      ctx.logger.debug({ file: at.file, row: at.row.row }, 'redoing a finished row: an earlier row of its session was redone');
      return await processRow(ctx, at, mapped, ticket);
    }
    ctx.pass(ticket);
    await ctx.sink.record(
      {
        file: at.file,
        row: at.row.row,
        key: mapped.key,
        status: 'skipped',
        sessionId: earlier.sessionId,
        errorMessage: `finished earlier as ${earlier.status}`,
        earlier: earlier.status as Status,
      },
      at,
    );
  } catch (e) {
    ctx.pass(ticket);
    await internalError(ctx, e, at, { file: at.file, row: at.row.row, key: mapped.key }, `${at.file} row ${at.row.row}`, (r) => ctx.sink.record(r, at));
  }
}

async function writeRow(ctx: RowContext, session: Session, mapped: MappedRow, base: Base, where: string, readSince?: number): Promise<RowResult | null> {
  if (ctx.stop.stopping) return null;
  // (search mode needs no wait: the search's answer with this run's writes since)
  const held = ctx.fresh ? await heldNow(ctx, session, mapped, base, where, readSince) : { copy: ctx.written.get(session.id) ?? session };
  if ('result' in held) return held.result;
  // a dry run's own earlier writes never reached the server: what it read is seen through them
  const simulated = ctx.dryRun ? ctx.written.get(session.id) : undefined;
  const current = simulated ? { ...held.copy, ...simulated } : held.copy;
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
  const shape = shapeChange(ctx.mapping.fields, current, body, changed);
  if (shape) return { ...written(base, session.id, changed, 'invalid', undefined), errorCode: 'E_SHAPE_CHANGE', errorMessage: `${where}: ${shape}` };
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
  const logged = await writeAhead(ctx, session, mapped, base, where, current, body, changed);
  if (logged !== undefined) return logged;
  const sentAt = Date.now();
  if (!ctx.dryRun) {
    try {
      await ctx.client.putMetadata(session.id, body, json);
    } catch (e) {
      return { ...failure(e, base, where), sessionId: session.id, changed };
    }
  }
  // a dry run keeps what it would have written (seen through on every later read of the session); a real run what the session holds after the PUT
  const after: Record<string, unknown> = ctx.dryRun ? { ...simulated } : {};
  if (!ctx.dryRun) for (const f of ctx.mapping.fields) if (Object.hasOwn(current, f.name)) after[f.name] = current[f.name];
  ctx.written.set(session.id, Object.assign(after, body));
  ctx.index?.noteWrite(session, body, sentAt);
  if (ctx.dryRun) ctx.client.stats.dryRunPuts++;
  const changes: FieldChange[] = [];
  for (const field of changed) changes.push({ field, before: Object.hasOwn(current, field) ? current[field] : undefined, after: body[field] });
  return written(base, session.id, changed, ctx.dryRun ? 'would_update' : 'updated', changes);
}

/**
 * The write's way-back line, durable before its PUT leaves. A row result when the PUT must not be
 * sent: the line could not be written (the run stops), or a stop came while it was (a line without
 * its PUT undoes to nothing); undefined when it may.
 */
async function writeAhead(
  ctx: RowContext,
  session: Session,
  mapped: MappedRow,
  base: Base,
  where: string,
  current: Record<string, unknown>,
  body: Record<string, unknown>,
  changed: string[],
): Promise<RowResult | null | undefined> {
  if (!ctx.changes) return undefined;
  try {
    await ctx.changes.sink.write(changeEntry(ctx.changes.runId, ctx.mapping.match, base, session.id, mapped, current, body, changed));
  } catch (e) {
    return { ...failure(e, base, where), sessionId: session.id, changed, fatal: true };
  }
  return ctx.stop.stopping ? null : undefined;
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
  const k = mapped.keys.find((key) => key.index === base.keyIndex) ?? mapped.keys[0]!;
  if (ctx.index) ctx.index.fallbackSearches++;
  let r: Awaited<ReturnType<typeof resolveKey>>;
  try {
    r = await resolveKey(ctx.client, ctx.mapping.match.keys[k.index]!, ctx.mapping.match, k, ctx.resolve, mapped.date);
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
        { kind: 'unmatched', tried: [{ index: k.index, column: k.column, lookup: k.lookup, searched: r.searched, note: r.note }] },
        base,
        where,
      ),
    };
  if (r.kind === 'ambiguous')
    return {
      result: unresolved(
        ctx.mapping.match.keys,
        ctx.index !== undefined,
        { kind: 'ambiguous', ids: r.ids, matchedBy: base.matchedBy ?? k.column, keyIndex: k.index, lookup: k.lookup, note: r.note },
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
