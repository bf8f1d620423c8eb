import { classifyFailure } from '../api/failures.js';
import { EtError, errorMessage, type ErrorCode } from '../errors.js';
import type { Logger } from '../logger.js';
import type { ConversationKey, MatchKey } from '../mapping/types.js';
import type { FieldChange, RowResult, Status } from '../row-result.js';
import type { KeyTry, RowResolution } from './resolver.js';
import type { RowAt, StopState } from './row.js';

/** What a row's result starts from: where it is, and (once matched) how it was matched. */
export type Base = Pick<RowResult, 'file' | 'row' | 'key'> & { matchedBy?: string; matchNote?: string | undefined; keyIndex?: number };

/** The results a row can end with, and their messages: written, unresolved, failed, a bug. */

/** A written (or unchanged) row's result, always of one shape: a spread a row cost more than the write's bookkeeping. */
export function written(base: Base, sessionId: string, changed: string[], status: Status, changes: FieldChange[] | undefined): RowResult {
  return { file: base.file, row: base.row, key: base.key, matchedBy: base.matchedBy, matchNote: base.matchNote, sessionId, changed, status, changes };
}

export function unresolved(keys: MatchKey[], indexed: boolean, r: Exclude<RowResolution, { kind: 'matched' }>, base: Base, where: string): RowResult {
  if (r.kind === 'unmatched') {
    const one = (t: KeyTry) => {
      const key = keys[t.index]!;
      if (key.by === 'conversation')
        return `no session ${conversationText(key, t.lookup)} (${t.note ?? `the listings of its time returned ${t.searched} session${t.searched === 1 ? '' : 's'}, none within the tolerance with every equality`})`;
      return `no session has ${key.sessionFields.join(' or ')} equal to ${JSON.stringify(t.lookup)} (${t.note ?? (t.searched > 0 || !indexed ? `the search returned ${t.searched} session${t.searched === 1 ? '' : 's'}, none exact` : 'not listed, and not found by the search')})`;
    };
    const message =
      r.tried.length === 1 && keys.length === 1
        ? one(r.tried[0]!)
        : `no key matched: ${r.tried.map((t) => `${t.column}: ${one(t)}`).join('; ')}${r.tried.length < keys.length ? ` (${keys.length - r.tried.length} key${keys.length - r.tried.length === 1 ? ' was' : 's were'} empty)` : ''}`;
    return { ...base, status: 'unmatched', errorCode: 'E_UNMATCHED', errorMessage: `${where}: ${message}` };
  }
  const key = keys[r.keyIndex]!;
  const what =
    key.by === 'conversation'
      ? `${r.ids.length} sessions are ${conversationText(key, r.lookup)}${r.note ? ` (${r.note})` : ''}`
      : `${r.ids.length} sessions have ${key.sessionFields.join(' or ')} equal to ${JSON.stringify(r.lookup)}${keys.length > 1 ? ` (column ${JSON.stringify(r.matchedBy)})` : ''}`;
  return {
    ...base,
    matchedBy: r.matchedBy,
    matchNote: r.note,
    status: 'ambiguous',
    errorCode: 'E_AMBIGUOUS',
    errorMessage: `${where}: ${what}: ${r.ids.slice(0, 5).join(', ')}${r.ids.length > 5 ? ', ...' : ''}; nothing written`,
  };
}

/** `within 120 s of 2025-06-03T10:15:00Z (start_time) with agent, caller or destination equal to jdoe, +491712345678`. */
function conversationText(key: ConversationKey, lookup: string): string {
  const [time, ...values] = lookup.split(' | ');
  const equal = key.equal.map((e, i) => `${e.sessionFields.join(' or ')} = ${JSON.stringify(values[i] ?? '')}`).join(', ');
  return `within ${key.time.tolerance} s of ${time} (${key.time.sessionField}) with ${equal}`;
}

/** An expected failure as the row's result; anything else is a bug and goes on up. */
export function failure(e: unknown, base: Base, where: string): RowResult {
  if (!(e instanceof EtError)) throw e;
  return {
    ...base,
    status: 'failed',
    errorCode: e.code,
    errorMessage: `${where}: ${e.message}`,
    transport: classifyFailure(e).transport,
    fatal: e.code === 'E_LOGIN',
  };
}

export async function internalError(
  ctx: { logger: Logger; stop: StopState },
  e: unknown,
  at: RowAt,
  base: Base,
  where: string,
  record: (r: RowResult) => Promise<void> | undefined | void,
): Promise<void> {
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
