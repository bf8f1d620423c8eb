import type { MatchSpec } from '../mapping/types.js';
import { withinDays } from './row-date.js';

export type Session = Record<string, unknown> & { id: string };

export type Resolution =
  | { kind: 'matched'; session: Session; note?: string }
  | { kind: 'unmatched'; searched: number; note?: string }
  | { kind: 'ambiguous'; ids: string[]; note?: string };

/**
 * The one session among a key's exact candidates: with the row's date, only those within
 * `match.datePad` days of it count (a June row is not an August chat's), the same in search and
 * index mode; then one, the newest under `onMultiple: newest`, or ambiguous. `note` says when
 * the date decided.
 */
export function decide(found: Session[], match: Pick<MatchSpec, 'onMultiple' | 'newestField' | 'datePad'>, date: string | undefined): Resolution {
  let note: string | undefined;
  if (date !== undefined && found.length > 0) {
    const { kept, decided } = withinDays(found, date, match.datePad, match.newestField);
    if (decided)
      note = `the date decided: ${kept.length} of ${found.length} sessions with this key within ${match.datePad} day${match.datePad === 1 ? '' : 's'} of ${date} (${match.newestField})`;
    found = kept;
  }
  const withNote = <T extends Resolution>(r: T): T => (note === undefined ? r : { ...r, note });
  if (found.length === 0) return withNote({ kind: 'unmatched', searched: 0 });
  if (found.length === 1) return withNote({ kind: 'matched', session: found[0]! });
  if (match.onMultiple === 'newest') {
    const newest = pickNewest(found, match.newestField);
    if (newest) return withNote({ kind: 'matched', session: newest });
  }
  return withNote({ kind: 'ambiguous', ids: found.map((s) => s.id) });
}

/** The session with the latest start time, or undefined when that is not one clear session. */
export function pickNewest(sessions: Session[], field: string): Session | undefined {
  let best: Session | undefined;
  let bestT = -Infinity;
  let tie = false;
  for (const s of sessions) {
    const v = s[field];
    const t = typeof v === 'string' || typeof v === 'number' ? new Date(v).getTime() : NaN;
    if (Number.isNaN(t)) return undefined;
    if (t > bestT) {
      best = s;
      bestT = t;
      tie = false;
    } else if (t === bestT) tie = true;
  }
  return tie ? undefined : best;
}
