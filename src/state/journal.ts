import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { Status } from '../report/statuses.js';

export const JOURNAL_FILE = 'journal.jsonl';

/** One finished row, as written to the journal. */
export interface JournalEntry {
  /** Input file identity: its absolute path. */
  f: string;
  /** Row number in that file. */
  r: number;
  /** Hash of the row's mapped values (of its cells, for an invalid row). */
  h: string;
  s: Status;
  id?: string;
}

/**
 * The append-only record of finished rows. Each line is written with a synchronous write as
 * the row finishes, before any later row for the same session starts: after a crash, every row
 * in the journal is done on the server, and every row not in it can safely be done again.
 */
export class Journal {
  private fd: number;
  readonly path: string;

  constructor(dir: string) {
    mkdirSync(dir, { recursive: true });
    this.path = join(dir, JOURNAL_FILE);
    this.fd = openSync(this.path, 'a');
  }

  append(entry: JournalEntry): void {
    writeSync(this.fd, `${JSON.stringify(entry)}\n`);
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}

export function rowHash(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 16);
}

/** Statuses that finish a row for good; `failed` rows are tried again on resume. */
const FINAL: ReadonlySet<Status> = new Set(['updated', 'unchanged', 'unmatched', 'ambiguous', 'invalid']);

/**
 * What a previous run finished, for `--resume`: per input file, the rows and their hashes in
 * sorted typed arrays (12 bytes a row, so a 1M-row journal stays small).
 */
export class ResumeIndex {
  private files = new Map<string, { rows: Int32Array; hashes: string[]; statuses: Status[]; ids: (string | undefined)[] }>();
  readonly entries: number;
  readonly tornLines: number;

  private constructor(entries: JournalEntry[], torn: number, dryRun: boolean) {
    const byFile = new Map<string, Map<number, JournalEntry>>();
    for (const e of entries) {
      // the last word on a row wins (a row failed, then updated on a later resume)
      let m = byFile.get(e.f);
      if (!m) byFile.set(e.f, (m = new Map()));
      m.set(e.r, e);
    }
    let kept = 0;
    for (const [file, m] of byFile) {
      const done = [...m.values()].filter((e) => FINAL.has(e.s) || (dryRun && e.s === 'would_update')).sort((a, b) => a.r - b.r);
      kept += done.length;
      this.files.set(file, { rows: Int32Array.from(done.map((e) => e.r)), hashes: done.map((e) => e.h), statuses: done.map((e) => e.s), ids: done.map((e) => e.id) });
    }
    this.entries = kept;
    this.tornLines = torn;
  }

  /** Reads the journal in `dir`; a torn last line (a crash mid-write) is ignored. */
  static load(dir: string, dryRun: boolean): ResumeIndex {
    const path = join(dir, JOURNAL_FILE);
    if (!existsSync(path)) throw new Error(`no journal at ${path}`);
    const entries: JournalEntry[] = [];
    let torn = 0;
    for (const line of readFileSync(path, 'utf8').split('\n')) {
      if (line === '') continue;
      try {
        const e = JSON.parse(line) as JournalEntry;
        if (typeof e.f === 'string' && typeof e.r === 'number' && typeof e.h === 'string' && typeof e.s === 'string') entries.push(e);
        else torn++;
      } catch {
        torn++;
      }
    }
    return new ResumeIndex(entries, torn, dryRun);
  }

  /** The earlier outcome of this row, if it finished with the same hash. */
  finished(file: string, row: number, hash: string): { status: Status; sessionId: string | undefined } | undefined {
    const f = this.files.get(file);
    if (!f) return undefined;
    let lo = 0;
    let hi = f.rows.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const r = f.rows[mid]!;
      if (r === row) return f.hashes[mid] === hash ? { status: f.statuses[mid]!, sessionId: f.ids[mid] } : undefined;
      if (r < row) lo = mid + 1;
      else hi = mid - 1;
    }
    return undefined;
  }
}
