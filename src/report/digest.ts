import type { CellProblem, ErrorCode } from '../errors.js';
import type { RowResult } from '../row-result.js';

export interface ErrorGroup {
  code: ErrorCode | 'none';
  status: string;
  count: number;
  /** The first few rows of the group. */
  rows: { file: string; row: number; key: string; message: string }[];
}

export interface ChangeLine {
  file: string;
  row: number;
  key: string;
  sessionId: string;
  field: string;
  before: string;
  after: string;
}

/** A problem's column and value, counted: `CSAT: "N/A" × 46 (expected a whole number from 1 to 5)`. */
export interface ValueProblem {
  code: string;
  column: string;
  /** The cell's text as the message quotes it (empty: an empty cell). */
  value: string;
  expected: string;
  count: number;
}

/** A field's changes: rows changed, and the most frequent before → after. */
export interface FieldSummary {
  field: string;
  rows: number;
  top: { before: string; after: string; count: number }[];
}

const EXAMPLES_PER_CODE = 5;
const CHANGES_KEPT = 100;
/** Distinct column/value problems and before → after pairs kept (memory stays bounded on any file). */
const DISTINCT_KEPT = 2000;

/**
 * What report.html shows, gathered as rows finish, in bounded memory: rows that did not end well
 * grouped by error code with their first few rows, and the first changes.
 */
export class ReportDigest {
  private readonly groups = new Map<string, ErrorGroup>();
  private readonly byValue = new Map<string, ValueProblem>();
  private readonly byField = new Map<string, { rows: number; pairs: Map<string, number> }>();
  readonly changes: ChangeLine[] = [];
  changeCount = 0;

  /** A changed field of a row: counted by field, and by before → after. */
  noteChange(field: string, before: string, after: string): void {
    let f = this.byField.get(field);
    if (!f) {
      if (this.byField.size >= DISTINCT_KEPT) return;
      f = { rows: 0, pairs: new Map() };
      this.byField.set(field, f);
    }
    f.rows++;
    const pair = `${before}\u0000${after}`;
    const n = f.pairs.get(pair);
    if (n !== undefined || f.pairs.size < DISTINCT_KEPT) f.pairs.set(pair, (n ?? 0) + 1);
  }

  /** Problems by code, column and value, most frequent first. */
  get values(): ValueProblem[] {
    return [...this.byValue.values()].sort((a, b) => b.count - a.count);
  }

  get fields(): FieldSummary[] {
    return [...this.byField]
      .map(([field, f]) => ({
        field,
        rows: f.rows,
        top: [...f.pairs]
          .sort((a, b) => b[1] - a[1])
          .slice(0, 3)
          .map(([pair, count]) => {
            const [before, after] = pair.split('\u0000');
            return { before: before!, after: after!, count };
          }),
      }))
      .sort((a, b) => b.rows - a.rows);
  }

  private noteValues(code: string, problems: readonly CellProblem[]): void {
    for (const p of problems) {
      const id = `${code}\u0000${p.column}\u0000${p.value}\u0000${p.expected}`;
      const v = this.byValue.get(id);
      if (v) v.count++;
      else if (this.byValue.size < DISTINCT_KEPT) this.byValue.set(id, { code, ...p, count: 1 });
    }
  }

  addProblem(r: RowResult): void {
    const code = r.errorCode ?? 'none';
    const id = `${r.status} ${code}`;
    let g = this.groups.get(id);
    if (!g) {
      g = { code, status: r.status, count: 0, rows: [] };
      this.groups.set(id, g);
    }
    g.count++;
    if (r.problems) this.noteValues(code, r.problems);
    if (g.rows.length < EXAMPLES_PER_CODE) g.rows.push({ file: r.file, row: r.row, key: r.key, message: r.errorMessage ?? '' });
  }

  /** Counts a row's changes; `keepChange` keeps the first few, while `wantsChanges`. */
  countChanges(n: number): void {
    this.changeCount += n;
  }

  wantsChanges(): boolean {
    return this.changes.length < CHANGES_KEPT;
  }

  keepChange(line: ChangeLine): void {
    if (this.changes.length < CHANGES_KEPT) this.changes.push(line);
  }

  get errors(): ErrorGroup[] {
    return [...this.groups.values()].sort((a, b) => b.count - a.count);
  }
}
