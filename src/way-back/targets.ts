import type { ChangeLine, FieldWrite, FindBy } from '../change-line.js';
import { sameValue } from '../pipeline/merger.js';

/** A field's value on a session, or that the session does not hold the key. */
export type Held = { absent: true } | { value: unknown };

export interface FieldTarget {
  /**
   * What the session may hold for the write to go ahead. undo: any value the runs wrote, last
   * first: after a crash, the last writes may never have reached the server. apply: the plan's before.
   */
  expect: Held[];
  /** What to write (undo: the value before the runs; apply: the plan's after). */
  to: Held;
}

/** One session's way back (or plan): every field to set, and what it must hold first. */
export interface Target {
  session: string;
  find: FindBy;
  /** The row that wrote it (undo: the latest; apply: the first), for the report. */
  file: string;
  row: number;
  runs: string[];
  fields: Record<string, FieldTarget>;
  /** Changes that cannot be undone because another value came between two runs' writes. */
  notes: string[];
}

const held = (w: FieldWrite, side: 'before' | 'after'): Held => (side === 'before' && !Object.hasOwn(w, 'before') ? { absent: true } : { value: w[side] });

export function sameHeld(a: Held, b: Held): boolean {
  if ('absent' in a || 'absent' in b) return 'absent' in a && 'absent' in b;
  return sameValue(a.value, b.value);
}

function bySession(lines: ChangeLine[]): Map<string, ChangeLine[]> {
  const out = new Map<string, ChangeLine[]>();
  for (const l of lines) {
    const list = out.get(l.session);
    if (list) list.push(l);
    else out.set(l.session, [l]);
  }
  return out;
}

/**
 * What undoing these writes sets, per session: the writes in the order they were made (by their
 * time, then their place in the log); for each field, what the last one wrote is what the session
 * must still hold, and the value before the first is what comes back, as long as each write
 * started from what the one before it wrote. Where another value came between two runs, only the
 * later runs' changes are undone, and a note says so.
 */
export function undoTargets(lines: ChangeLine[]): Target[] {
  const ordered = lines.map((l, i) => ({ l, i })).sort((a, b) => a.l.at.localeCompare(b.l.at) || a.i - b.i);
  const targets: Target[] = [];
  for (const [session, list] of bySession(ordered.map((x) => x.l))) {
    const last = list[list.length - 1]!;
    const t: Target = { session, find: last.find, file: last.file, row: last.row, runs: [...new Set(list.map((l) => l.run))], fields: {}, notes: [] };
    const names = [...new Set(list.flatMap((l) => Object.keys(l.fields)))];
    for (const name of names) {
      const writes = list.filter((l) => Object.hasOwn(l.fields, name));
      const newest = writes[writes.length - 1]!;
      let to = held(newest.fields[name]!, 'before');
      const expect: Held[] = [held(newest.fields[name]!, 'after')];
      for (let i = writes.length - 2; i >= 0; i--) {
        const w = writes[i]!.fields[name]!;
        if (!sameHeld(held(w, 'after'), to)) {
          t.notes.push(
            `${name}: run ${writes[i]!.run} wrote ${JSON.stringify(w.after)}, but ${describe(to)} was there when run ${writes[i + 1]!.run} wrote; that earlier change is not undone`,
          );
          break;
        }
        expect.push(to);
        to = held(w, 'before');
      }
      t.fields[name] = { expect, to };
    }
    targets.push(t);
  }
  return targets;
}

/** What applying a plan sets, per session: each field's before as the plan read it, and its last after. */
export function applyTargets(lines: ChangeLine[]): Target[] {
  const targets: Target[] = [];
  for (const [session, list] of bySession(lines)) {
    const first = list[0]!;
    const t: Target = { session, find: first.find, file: first.file, row: first.row, runs: [first.run], fields: {}, notes: [] };
    for (const l of list) {
      for (const [name, w] of Object.entries(l.fields)) {
        const earlier = t.fields[name];
        t.fields[name] = { expect: earlier ? earlier.expect : [held(w, 'before')], to: held(w, 'after') };
      }
    }
    targets.push(t);
  }
  return targets;
}

export function describe(h: Held): string {
  return 'absent' in h ? 'no value' : JSON.stringify(h.value);
}
