import type { RowError, Result } from '../errors.js';
import type { Duplicates } from '../mapping/types.js';
import type { RowResult } from '../row-result.js';
import type { EarlierOutcome, ResumeIndex } from '../state/journal.js';
import type { KeyTable } from './key-table.js';
import { duplicateKey, type MappedRow } from './mapper.js';
import type { DuplicateKeys, RowAt } from './row.js';
import { shardOf } from './shard.js';

export type Classified =
  /** Ends here, without the API: invalid, superseded, or valid (validate). */
  | { kind: 'record'; result: RowResult }
  /** Ended well in the run being resumed: skipped, unless an earlier row redone now wrote its session. */
  | { kind: 'resumed'; mapped: MappedRow; earlier: EarlierOutcome & { sessionId: string } }
  /** Needs the API. */
  | { kind: 'work'; mapped: MappedRow }
  /** Another shard's row: counted, not reported. */
  | { kind: 'outside' };

export interface FileKeys {
  /** Keys seen so far in this file, with their last row. */
  seen: KeyTable;
  /** `match.duplicates: last`: each key's last row in the file. */
  lastRows: KeyTable | undefined;
  duplicates: DuplicateKeys;
  policy: Duplicates;
}

/**
 * Decides what happens to one read row, before any request: pure but for the key tables it
 * updates. Invalid rows are never skipped on resume: they are checked again.
 */
export function classifyRow(
  mapped: Result<MappedRow, RowError>,
  at: RowAt,
  keys: FileKeys,
  resume: ResumeIndex | undefined,
  validate: boolean,
  keyText: string,
  shard?: { index: number; count: number },
): Classified {
  if (shard && shardOf(mapped.ok ? mapped.value.lookup : keyText, shard.count) !== shard.index) return { kind: 'outside' };
  // (object literals, not spreads: this runs for every row)
  const file = at.file;
  const row = at.row.row;
  if (!mapped.ok)
    return {
      kind: 'record',
      result: { file, row, key: keyText, status: 'invalid', errorCode: mapped.error.code, errorMessage: mapped.error.message, problems: mapped.error.problems },
    };
  const m = mapped.value;
  const dup = duplicateKey(m.keys[0]!);
  const before = keys.seen.set(dup, at.row.row);
  if (before > 0) {
    keys.duplicates.rows++;
    if (keys.duplicates.examples.length < 20) keys.duplicates.examples.push({ file: at.file, key: m.key, rows: [before, at.row.row] });
  }
  const last = keys.lastRows?.get(dup);
  if (last !== undefined && last !== 0 && last !== at.row.row) {
    return {
      kind: 'record',
      result: {
        file,
        row,
        key: m.key,
        status: 'skipped',
        errorMessage: `${at.file} row ${at.row.row}: superseded by row ${last} with the same key (match.duplicates: last)`,
      },
    };
  }
  if (validate) return { kind: 'record', result: { file, row, key: m.key, status: 'valid' } };
  const earlier = resume?.finished(at.absFile, at.row.row, at.hash);
  if (earlier?.sessionId !== undefined) return { kind: 'resumed', mapped: m, earlier: { ...earlier, sessionId: earlier.sessionId } };
  return { kind: 'work', mapped: m };
}
