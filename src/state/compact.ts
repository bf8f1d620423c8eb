import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { writeAtomically } from '../atomic-file.js';
import { JOURNAL_FILE, type JournalEntry, readJournal } from './journal.js';

/** Below this size a journal is left as it is: compacting it would save nothing worth a rewrite. */
const MIN_BYTES = 64 * 1024;

/**
 * Compacts a state directory's journal so that its size follows the rows still needed, not the
 * nights lived: the rows of a file archived since are dropped (with the mark), and of each row
 * only its last word is kept — the last real one, and a dry run's after it (a real resume ignores
 * dry lines, a dry resume takes them), so that `ResumeIndex` reads the same from the compacted
 * journal as from the whole one. Called under the state directory's lock, before the journal is
 * opened for appending; the new journal replaces the old by one rename, after an fsync (a crash
 * leaves the old or the new one). A torn line is dropped. Undefined when nothing was done.
 */
export function compactJournal(dir: string): { linesBefore: number; linesAfter: number } | undefined {
  const path = join(dir, JOURNAL_FILE);
  if (!existsSync(path) || statSync(path).size < MIN_BYTES) return undefined;
  const { entries, torn } = readJournal(path);
  // per file, per row: the last real entry and a dry entry that came after it
  const files = new Map<string, Map<number, { real?: JournalEntry; dry?: JournalEntry }>>();
  for (const e of entries) {
    if (e.s === 'archived') {
      files.delete(e.f);
      continue;
    }
    let rows = files.get(e.f);
    if (!rows) {
      rows = new Map();
      files.set(e.f, rows);
    }
    if (e.d === 1) rows.set(e.r, { ...rows.get(e.r), dry: e });
    else rows.set(e.r, { real: e });
  }
  const out: string[] = [];
  for (const rows of files.values())
    for (const { real, dry } of rows.values()) {
      if (real) out.push(JSON.stringify(real));
      if (dry) out.push(JSON.stringify(dry));
    }
  const linesBefore = entries.length + torn;
  if (out.length * 2 > linesBefore) return undefined;
  writeAtomically(path, out.length > 0 ? `${out.join('\n')}\n` : '');
  return { linesBefore, linesAfter: out.length };
}
