import type { ErrorCode } from '../errors.js';
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

const EXAMPLES_PER_CODE = 5;
const CHANGES_KEPT = 100;

/**
 * What report.html shows, gathered as rows finish, in bounded memory: rows that did not end well
 * grouped by error code with their first few rows, and the first changes.
 */
export class ReportDigest {
  private readonly groups = new Map<string, ErrorGroup>();
  readonly changes: ChangeLine[] = [];
  changeCount = 0;

  addProblem(r: RowResult): void {
    const code = r.errorCode ?? 'none';
    const id = `${r.status} ${code}`;
    let g = this.groups.get(id);
    if (!g) {
      g = { code, status: r.status, count: 0, rows: [] };
      this.groups.set(id, g);
    }
    g.count++;
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
