import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { EtError, WriteError } from '../errors.js';
import type { Status } from '../row-result.js';

export const JOURNAL_FILE = 'journal.jsonl';

/** One finished row, as written to the journal. */
export interface JournalEntry {
  /** Input file identity: its absolute path. */
  f: string;
  /** Row number in that file. */
  r: number;
  /** Hash of the row's mapped values (of its cells, for an invalid row). */
  h: string;
  /** The row's status; `archived` marks the file moved to the archive (its earlier rows are forgotten). */
  s: Status | 'archived';
  id?: string;
  /** Written by a dry run: its `unchanged` was judged against writes that never happened. */
  d?: 1;
}

/**
 * The append-only record of finished rows. Lines are appended in the order rows finish, which for
 * one session is file order, and written out in that order (at the latest every 200 ms, or when
 * 64 KiB are waiting): after a crash, the journal holds a prefix of the finished rows, each of
 * them done on the server, and every row not in it can safely be done again (it comes back
 * unchanged). Writing a line a row was a system call a row.
 */
export class Journal {
  private fd: number;
  readonly path: string;
  private pending = '';
  private timer: NodeJS.Timeout | undefined;
  /** Told of a write that failed on the timer (an append or close throws it instead). */
  onError: (e: WriteError) => void = () => {};

  private constructor(path: string, fd: number) {
    this.path = path;
    this.fd = fd;
  }

  /** Opens (or creates) the journal in `dir`; a directory that cannot take it is a WriteError. */
  static open(dir: string): Journal {
    const path = join(dir, JOURNAL_FILE);
    try {
      mkdirSync(dir, { recursive: true });
      return new Journal(path, openSync(path, 'a'));
    } catch (e) {
      throw new WriteError(path, e);
    }
  }

  /** Appends a line; a failed write (full disk) throws a WriteError naming the journal. */
  append(entry: JournalEntry): void {
    this.pending += `${JSON.stringify(entry)}\n`;
    if (this.pending.length >= 64 * 1024) this.flush();
    else if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        try {
          this.flush();
        } catch (e) {
          this.onError(e as WriteError);
        }
      }, 200);
      this.timer.unref();
    }
  }

  /** Writes what is waiting, synchronously. */
  flush(): void {
    if (this.pending === '' || this.fd < 0) return;
    const text = this.pending;
    this.pending = '';
    try {
      writeSync(this.fd, text);
    } catch (e) {
      throw new WriteError(this.path, e);
    }
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    try {
      this.flush();
    } catch (e) {
      this.onError(e as WriteError);
    }
    if (this.fd >= 0) {
      try {
        closeSync(this.fd);
      } catch {
        // the journal's own write errors were reported when they happened
      }
    }
    this.fd = -1;
  }
}

/** A journal's entries in the order written; a line that does not parse or lacks a field (a torn last line) is counted, not used. */
export function readJournal(path: string): { entries: JournalEntry[]; torn: number } {
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
  return { entries, torn };
}

/**
 * Statuses that end a row for good: only these are skipped on resume. Rows that ended
 * unmatched, ambiguous, invalid or failed are tried again (their session may exist by now).
 */
const DONE: ReadonlySet<Status> = new Set(['updated', 'unchanged']);

export interface EarlierOutcome {
  status: Status;
  sessionId: string | undefined;
}

/**
 * What a previous run finished, for `--resume`: per input file, the rows and their hashes in
 * sorted typed arrays (a 1M-row journal stays small).
 */
export class ResumeIndex {
  private files = new Map<string, { rows: Int32Array; hashes: string[]; statuses: Status[]; ids: (string | undefined)[] }>();
  readonly entries: number;
  readonly tornLines: number;

  private constructor(entries: JournalEntry[], torn: number, dryRun: boolean) {
    const byFile = new Map<string, Map<number, JournalEntry>>();
    for (const e of entries) {
      // a dry run's rows were never written: a real run does not count them
      if (e.d === 1 && !dryRun) continue;
      // a file archived and delivered again under the same name is a new file
      if (e.s === 'archived') {
        byFile.delete(e.f);
        continue;
      }
      // the last word on a row wins (a row failed, then updated on a later resume)
      let m = byFile.get(e.f);
      if (!m) {
        m = new Map();
        byFile.set(e.f, m);
      }
      m.set(e.r, e);
    }
    let kept = 0;
    for (const [file, m] of byFile) {
      const done = [...m.values()].filter((e) => DONE.has(e.s as Status) || (dryRun && e.s === 'would_update')).sort((a, b) => a.r - b.r);
      kept += done.length;
      this.files.set(file, {
        rows: Int32Array.from(done.map((e) => e.r)),
        hashes: done.map((e) => e.h),
        statuses: done.map((e) => e.s as Status),
        ids: done.map((e) => e.id),
      });
    }
    this.entries = kept;
    this.tornLines = torn;
  }

  /**
   * Reads the journal in `dir`; a torn last line (a crash mid-write) is ignored. A real run
   * refuses a dry run's journal: its `unchanged` rows were compared with simulated writes.
   */
  static load(dir: string, dryRun: boolean): ResumeIndex {
    const path = join(dir, JOURNAL_FILE);
    if (!existsSync(path)) throw new EtError('E_USAGE', `no journal at ${path} (give the report or state directory of the run to resume)`);
    const { entries, torn } = readJournal(path);
    if (!dryRun && entries.length > 0 && entries.every((e) => e.d === 1)) {
      throw new EtError(
        'E_USAGE',
        `${path} is a dry run's journal: nothing it lists was written, and its "unchanged" rows were judged against writes that never happened; run without --resume (rows already right come back unchanged, with no write)`,
      );
    }
    return new ResumeIndex(entries, torn, dryRun);
  }

  /** The earlier outcome of this row, if it ended well with the same hash. */
  finished(file: string, row: number, hash: string): EarlierOutcome | undefined {
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
