import type { ChangeLine, FieldWrite } from '../change-line.js';
import type { MatchSpec } from '../mapping/types.js';
import type { MappedRow } from './mapper.js';

/**
 * The way-back line of a row's write: the session, how it was found (the key that matched, with
 * what its check compares), and, for each field the write changes, before (absent when the
 * session did not hold it) and after.
 */
export function changeEntry(
  run: string,
  match: MatchSpec,
  at: { file: string; row: number; keyIndex?: number | undefined },
  sessionId: string,
  mapped: MappedRow,
  current: Record<string, unknown>,
  body: Record<string, unknown>,
  changed: string[],
): ChangeLine {
  const k = mapped.keys.find((key) => key.index === at.keyIndex) ?? mapped.keys[0]!;
  const key = match.keys[k.index]!;
  const fields: Record<string, FieldWrite> = {};
  for (const f of changed) fields[f] = Object.hasOwn(current, f) ? { before: current[f], after: body[f] } : { after: body[f] };
  return {
    run,
    at: new Date().toISOString(),
    session: sessionId,
    file: at.file,
    row: at.row,
    find: {
      column: k.column,
      lookup: k.lookup,
      by: key.by,
      sessionFields: [...key.sessionFields],
      ...(mapped.date !== undefined && { date: mapped.date }),
      onMultiple: match.onMultiple,
      newestField: match.newestField,
      datePad: match.datePad,
      ...(key.by === 'conversation' && k.conversation && { conversation: { key, at: k.conversation.at, equal: k.conversation.equal } }),
    },
    fields,
  };
}
