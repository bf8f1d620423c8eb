import { statSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { WriteError } from '../errors.js';
import type { Cell } from '../input/types.js';
import { cellText } from '../input/cell.js';
import { scrub, scrubValue } from '../redact.js';
import { csvLine } from './csv-line.js';
import { LineFile } from './line-file.js';
import { ReportDigest } from './digest.js';
import { renderReport, type ReportPage } from './html.js';
import { CHANGE_COLUMNS, OK_STATUSES, RESULT_COLUMNS, emptyCounts, type Counts, type FieldChange, type RowResult, type Status } from '../row-result.js';

/** Added to each row of failed.csv; ignored by the mapping when the file is fed back in. */
export const ERROR_COLUMN = 'et_import_error';

interface FailedFile {
  name: string;
  header: string[];
  errorIndex: number;
  file: LineFile;
  inputs: string[];
}

/**
 * The run's report: results.csv (every row, in the order rows finish), changes.csv (each field
 * written, before and after), failed.csv (the rows that did not end well, in the input's own
 * columns plus the error), summary.json. `close()` always flushes, also when the run throws or
 * is interrupted.
 */
export class ReportWriter {
  readonly dir: string;
  readonly counts: Counts = emptyCounts();
  private results!: LineFile;
  private changes!: LineFile;
  private failed = new Map<string, FailedFile>();
  /** What report.html shows. */
  readonly digest = new ReportDigest();
  /** Hands the lines over at least once a second, so that the files follow the run. */
  private readonly ticker = setInterval(() => this.flush(), 1000).unref();
  private closed = false;
  /** The first write that failed; after it, nothing more is written. */
  failure: WriteError | undefined;

  private constructor(
    dir: string,
    private readonly onError: (e: WriteError) => void,
  ) {
    this.dir = dir;
  }

  /**
   * Creates the report directory and results.csv. A write that fails later (full disk, a
   * directory in the way) is reported once through `onError`, never as an unhandled error.
   */
  static async create(dir: string, onError: (e: WriteError) => void = () => {}, continued = false): Promise<ReportWriter> {
    try {
      await mkdir(dir, { recursive: true });
    } catch (e) {
      throw new WriteError(dir, e);
    }
    const w = new ReportWriter(dir, onError);
    w.continued = continued;
    // a continued report's results.csv is new: the earlier part's is in part-N/ (report-dir.ts)
    w.results = w.open('results.csv');
    w.results.add(csvLine(RESULT_COLUMNS.map((c) => c.name)));
    w.changes = w.open('changes.csv', continued);
    if (!continued || !hasLines(w.changes.path)) w.changes.add(csvLine([...CHANGE_COLUMNS]));
    return w;
  }

  /**
   * A resume into its own report directory: changes.csv is appended to; results.csv holds every
   * row once, and a row an earlier part finished (skipped now) is shown and counted under the
   * status it ended with, so that the file and the counts are those of the whole run.
   */
  private continued = false;

  private open(name: string, append = false): LineFile {
    const path = join(this.dir, name);
    return new LineFile(path, (e) => this.fail(new WriteError(path, e)), append);
  }

  private fail(e: WriteError): void {
    if (this.failure) return;
    this.failure = e;
    this.onError(e);
  }

  /**
   * Records a row's final status; `header` and `cells` are the input row, kept for failed.csv.
   * Returns a promise only when the caller should wait (a file's buffer is full).
   */
  record(row: RowResult, header?: string[], cells?: Cell[]): Promise<void> | undefined {
    const result = this.continued && row.earlier ? byEarlierPart(row, row.earlier) : row;
    this.counts[result.status]++;
    this.counts.total++;
    const ok = OK_STATUSES.has(result.status);
    if (!ok) this.digest.addProblem(result);
    let wait = result.changes?.length ? this.writeChanges(result, result.changes) : undefined;
    if (this.failure) return undefined;
    const line = csvLine(RESULT_COLUMNS.map((c) => c.value(result)));
    wait = this.results.add(line) ?? wait;
    if (!ok && header && header.length > 0 && cells) wait = this.writeFailed(result, header, cells) ?? wait;
    return wait;
  }

  /** changes.csv lines: before and after as JSON text (before empty when absent); the first few kept for report.html. */
  private writeChanges(r: RowResult, changes: FieldChange[]): Promise<void> | undefined {
    this.digest.countChanges(changes.length);
    let wait: Promise<void> | undefined;
    const sessionId = r.sessionId ?? '';
    for (const c of changes) {
      const before = c.before === undefined ? '' : JSON.stringify(c.before);
      const after = JSON.stringify(c.after);
      this.digest.noteChange(c.field, before, after);
      if (this.digest.wantsChanges()) this.digest.keepChange({ file: r.file, row: r.row, key: r.key, sessionId, field: c.field, before, after });
      if (!this.failure) wait = this.changes.add(csvLine([r.file, r.row, r.key, sessionId, c.field, before, after])) ?? wait;
    }
    return wait;
  }

  private writeFailed(result: RowResult, header: string[], cells: Cell[]): Promise<void> | undefined {
    const signature = header.join('\u0000');
    let f = this.failed.get(signature);
    if (!f) {
      const name = this.failed.size === 0 ? 'failed.csv' : `failed-${this.failed.size + 1}.csv`;
      const existing = header.indexOf(ERROR_COLUMN);
      const fullHeader = existing >= 0 ? header : [...header, ERROR_COLUMN];
      f = { name, header: fullHeader, errorIndex: existing >= 0 ? existing : header.length, file: this.open(name), inputs: [] };
      f.file.add(csvLine(fullHeader));
      this.failed.set(signature, f);
    }
    if (!f.inputs.includes(result.file)) f.inputs.push(result.file);
    const line = f.header.map((_, i) => (i === f.errorIndex ? `${result.status}: ${scrub(result.errorMessage ?? '')}` : cellText(cells[i] ?? null)));
    return f.file.add(csvLine(line));
  }

  /** Which failed-rows file holds which input files, for summary.json. */
  failedFiles(): { file: string; inputs: string[] }[] {
    return [...this.failed.values()].map((f) => ({ file: f.name, inputs: f.inputs }));
  }

  /** Writes summary.json; throws a WriteError naming it when it cannot. */
  async writeSummary(summary: object): Promise<string> {
    const path = join(this.dir, 'summary.json');
    try {
      await writeFile(path, `${JSON.stringify(scrubValue(summary), null, 2)}\n`);
    } catch (e) {
      throw new WriteError(path, e);
    }
    return path;
  }

  /** Writes report.html; throws a WriteError naming it when it cannot. */
  async writeHtml(page: Omit<ReportPage, 'errors' | 'changes' | 'changeCount' | 'files' | 'values' | 'fields'>): Promise<string> {
    const path = join(this.dir, 'report.html');
    const files = ['results.csv', 'changes.csv', ...[...this.failed.values()].map((f) => f.name), 'summary.json'];
    try {
      await writeFile(
        path,
        renderReport({
          ...page,
          errors: this.digest.errors,
          values: this.digest.values,
          fields: this.digest.fields,
          changes: this.digest.changes,
          changeCount: this.digest.changeCount,
          files,
        }),
      );
    } catch (e) {
      throw new WriteError(path, e);
    }
    return path;
  }

  private flush(): void {
    if (this.failure) return;
    this.results.flush();
    this.changes.flush();
    for (const f of this.failed.values()) f.file.flush();
  }

  /** Flushes and closes every file; never throws (a failure is reported through `onError`). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.ticker);
    await Promise.all([this.results, this.changes, ...[...this.failed.values()].map((f) => f.file)].map((f) => f.close()));
  }
}

/** The per-status table printed on stderr at the end of a run. */
export function formatSummaryTable(counts: Counts, extra: { durationMs: number; reportDir: string }): string {
  const rows: [string, string][] = [];
  for (const [k, v] of Object.entries(counts)) if (k !== 'total' && v > 0) rows.push([k, String(v)]);
  rows.push(['total', String(counts.total)]);
  const w = Math.max(...rows.map(([k]) => k.length), 6);
  const n = Math.max(...rows.map(([, v]) => v.length), 4);
  const line = (a: string, b: string) => `  ${a.padEnd(w)}  ${b.padStart(n)}`;
  const out = [line('status', 'rows'), line('-'.repeat(w), '-'.repeat(n)), ...rows.map(([a, b]) => line(a, b))];
  const secs = extra.durationMs / 1000;
  const rate = secs > 0 ? Math.round(counts.total / secs) : counts.total;
  out.push('', `  ${counts.total} rows in ${secs.toFixed(1)} s (${rate} rows/s); report: ${extra.reportDir}`);
  return `${out.join('\n')}\n`;
}

function hasLines(path: string): boolean {
  try {
    return statSync(path).size > 0;
  } catch {
    return false;
  }
}

/** A row an earlier part of a continued run finished: its status then, and where its line is. */
function byEarlierPart(row: RowResult, earlier: Status): RowResult {
  return { ...row, status: earlier, errorMessage: `${earlier} by an earlier part of this run (its line is in a part-N/results.csv)` };
}
