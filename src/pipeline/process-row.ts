import type { LimitFunction } from 'p-limit';
import type { ApiClient } from '../api/client.js';
import { hasDroppedKeys } from '../api/json.js';
import { ApiError, EtError, errorMessage, type ErrorCode } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Mapping } from '../mapping/types.js';
import type { RowResult } from '../report/writer.js';
import type { MappedRow } from './mapper.js';
import { mergeMetadata } from './merger.js';
import { resolveSession, type ResolveOptions, type Session } from './resolver.js';
import type { RowAt, RowSink, StopState } from './row.js';
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
}

/** Failures of the API itself (unreachable, timed out, 429, 5xx), not of the row: the circuit counts them. */
export function isTransportFailure(e: unknown): boolean {
  return e instanceof ApiError && (e.code === 'E_API_UNREACHABLE' || e.code === 'E_TIMEOUT' || e.status === 429 || (e.status !== undefined && e.status >= 500));
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
  const mark = ctx.written.begin();
  try {
    const found = await ctx.limit(() => (ctx.stop.stopping ? null : resolveSession(ctx.client, ctx.mapping.match, mapped.lookup, ctx.resolve))).catch((e: unknown) => failure(e, base, where));
    if (found === null || 'status' in found) return await record(found);
    if (found.kind !== 'matched') return await record(unresolved(ctx, found, base, where, mapped.lookup));
    const session = found.session;
    await ctx.gate.turn(ticket);
    ctx.dirty?.add(session.id);
    const write = ctx.queue.run(session.id, async () => record(await ctx.limit(() => writeRow(ctx, session, mapped, base, where))));
    pass();
    await write;
  } catch (e) {
    await internalError(ctx, e, at, base, where, record);
  } finally {
    pass();
    ctx.written.done(mark);
  }
}

/**
 * A row the journal of the resumed run has as done: skipped, unless an earlier row redone in
 * this run wrote its session, in which case it is redone after it (file order per session).
 */
export async function processResumed(ctx: RowContext, at: RowAt, mapped: MappedRow, ticket: number, earlier: { status: string; sessionId: string }): Promise<void> {
  try {
    await ctx.gate.turn(ticket);
    if (ctx.dirty?.has(earlier.sessionId)) {
      ctx.logger.debug({ file: at.file, row: at.row.row }, 'redoing a finished row: an earlier row of its session was redone');
      return await processRow(ctx, at, mapped, ticket);
    }
    ctx.gate.pass(ticket);
    await ctx.sink.record({ file: at.file, row: at.row.row, key: mapped.key, status: 'skipped', sessionId: earlier.sessionId, errorMessage: `finished earlier as ${earlier.status}` }, at);
  } catch (e) {
    ctx.gate.pass(ticket);
    await internalError(ctx, e, at, { file: at.file, row: at.row.row, key: mapped.key }, `${at.file} row ${at.row.row}`, (r) => ctx.sink.record(r, at));
  }
}

type Base = Pick<RowResult, 'file' | 'row' | 'key'>;

async function writeRow(ctx: RowContext, session: Session, mapped: MappedRow, base: Base, where: string): Promise<RowResult | null> {
  if (ctx.stop.stopping) return null;
  const current = ctx.written.get(session.id) ?? session;
  const unsafe = ctx.mapping.fields.filter((f) => Object.hasOwn(mapped.values, f.name) && hasDroppedKeys(current[f.name]));
  if (unsafe.length > 0) {
    return { ...base, sessionId: session.id, status: 'failed', errorCode: 'E_UNSAFE_EXISTING', errorMessage: `${where}: the session's ${unsafe.map((f) => f.name).join(', ')} holds keys (__proto__, constructor, prototype) that cannot be kept safely; not written, so the stored value is not changed` };
  }
  const { body, changed } = mergeMetadata(current, mapped.values, ctx.mapping.fields);
  const ok = { ...base, sessionId: session.id, changed };
  if (changed.length === 0) return { ...ok, status: 'unchanged' };
  const size = Buffer.byteLength(JSON.stringify(body));
  if (size > ctx.maxBodyBytes) {
    return { ...ok, status: 'invalid', errorCode: 'E_TOO_LARGE', errorMessage: `${where}: the metadata to write is ${Math.ceil(size / 1024)} KB, more than --max-body-kb ${Math.floor(ctx.maxBodyBytes / 1024)}; not sent` };
  }
  if (!ctx.dryRun) {
    try {
      await ctx.client.putMetadata(session.id, body);
    } catch (e) {
      return { ...failure(e, base, where), sessionId: session.id, changed };
    }
  }
  const after: Record<string, unknown> = {};
  for (const f of ctx.mapping.fields) if (Object.hasOwn(current, f.name)) after[f.name] = current[f.name];
  ctx.written.set(session.id, Object.assign(after, body));
  const changes = changed.map((field) => ({ field, before: Object.hasOwn(current, field) ? current[field] : undefined, after: body[field] }));
  return { ...ok, changes, status: ctx.dryRun ? 'would_update' : 'updated' };
}

function unresolved(ctx: RowContext, r: { kind: 'unmatched'; searched: number } | { kind: 'ambiguous'; ids: string[] }, base: Base, where: string, lookup: string): RowResult {
  const fields = ctx.mapping.match.sessionFields.join(' or ');
  if (r.kind === 'unmatched') {
    return { ...base, status: 'unmatched', errorCode: 'E_UNMATCHED', errorMessage: `${where}: no session has ${fields} equal to ${JSON.stringify(lookup)} (the search returned ${r.searched} session${r.searched === 1 ? '' : 's'}, none exact)` };
  }
  return { ...base, status: 'ambiguous', errorCode: 'E_AMBIGUOUS', errorMessage: `${where}: ${r.ids.length} sessions have ${fields} equal to ${JSON.stringify(lookup)}: ${r.ids.slice(0, 5).join(', ')}${r.ids.length > 5 ? ', ...' : ''}` };
}

/** An expected failure as the row's result; anything else is a bug and goes on up. */
function failure(e: unknown, base: Base, where: string): RowResult {
  if (!(e instanceof EtError)) throw e;
  return { ...base, status: 'failed', errorCode: e.code, errorMessage: `${where}: ${e.message}`, transport: isTransportFailure(e), fatal: e.code === 'E_LOGIN' };
}

async function internalError(ctx: RowContext, e: unknown, at: RowAt, base: Base, where: string, record: (r: RowResult) => Promise<void>): Promise<void> {
  const code: ErrorCode = 'E_INTERNAL';
  ctx.logger.debug({ file: at.file, row: at.row.row, stack: e instanceof Error ? e.stack : String(e) }, 'internal error');
  ctx.logger.error({ file: at.file, row: at.row.row, err: errorMessage(e) }, 'internal error: stopping the run');
  ctx.stop.fatal(`internal error at ${where}: ${errorMessage(e)} (a bug in et-import; the run can be resumed)`);
  try {
    await record({ ...base, status: 'failed', errorCode: code, errorMessage: `${where}: internal error: ${errorMessage(e)}` });
  } catch {
    // the sink never rejects; nothing more can be done for this row
  }
}
