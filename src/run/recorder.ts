import { errorMessage, type WriteError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { RowAt, RowSink } from '../pipeline/row.js';
import { OK_STATUSES } from '../row-result.js';
import type { ReportWriter } from '../report/writer.js';
import type { RowResult } from '../row-result.js';
import type { Journal, JournalEntry } from '../state/journal.js';
import type { StopControl } from './stop-control.js';

/**
 * What happens to one finished row: the journal line (synchronously, before the next row of
 * its session starts), the report lines, the debug log line, and the stop rules' accounting.
 * Never rejects: a journal or report write that fails stops the run as fatal, naming the file.
 */
export class Recorder implements RowSink {
  private closed = false;
  private journalBroken = false;
  private readonly debug: boolean;
  /** Rows per input file that did not end well: a file with none may be archived. */
  readonly notWell = new Map<string, number>();

  constructor(
    private readonly report: ReportWriter,
    private readonly journal: Journal | undefined,
    private readonly stop: StopControl,
    private readonly logger: Logger,
    private readonly dryRun: boolean,
  ) {
    this.debug = logger.isLevelEnabled('debug');
    if (journal) journal.onError = (e) => this.journalFailed(e);
  }

  private journalFailed(e: unknown): void {
    if (this.journalBroken) return;
    this.journalBroken = true;
    const message = errorMessage(e);
    this.logger.error({ file: this.journal?.path, err: message }, 'the journal cannot be written: stopping');
    this.stop.fatal(message);
  }

  /** A report file could not be written: the run stops (exit 3). */
  onWriteError = (e: WriteError): void => {
    this.logger.error({ file: e.file, err: e.message }, 'a report file cannot be written: stopping');
    this.stop.fatal(e.message);
  };

  /** Returns a promise only when the caller should wait for the report to drain. */
  record(result: RowResult, at: RowAt): Promise<void> | undefined {
    // after the stop timeout, rows still finishing are left to --resume
    if (this.closed) return undefined;
    if (at.row.line !== undefined) result.line = at.row.line;
    try {
      this.appendJournal(result, at);
      if (this.debug)
        this.logger.debug(
          {
            file: result.file,
            row: result.row,
            key: result.key,
            status: result.status,
            sessionId: result.sessionId,
            changed: result.changed,
            error: result.errorMessage,
          },
          'row done',
        );
      const wait = this.report.record(result, at.header, at.row.cells);
      if (!OK_STATUSES.has(result.status)) this.notWell.set(result.file, (this.notWell.get(result.file) ?? 0) + 1);
      if (result.fatal) this.stop.fatal(result.errorMessage ?? 'a fatal error');
      this.stop.onRow(result.status, result.transport ?? false, this.report.counts, result.errorMessage);
      return wait;
    } catch (e) {
      this.stop.fatal(`internal error while recording ${result.file} row ${result.row}: ${errorMessage(e)}`);
      return undefined;
    }
  }

  private appendJournal(result: RowResult, at: RowAt): void {
    if (!this.journal || this.journalBroken || result.status === 'skipped') return;
    try {
      const entry: JournalEntry = { f: at.absFile, r: at.row.row, h: at.hash, s: result.status };
      if (result.sessionId) entry.id = result.sessionId;
      if (this.dryRun) entry.d = 1;
      this.journal.append(entry);
    } catch (e) {
      this.journalFailed(e);
    }
  }

  /** Marks a file archived in the journal: a later delivery under the same name is imported anew. */
  archived(absFile: string): void {
    if (!this.journal || this.journalBroken) return;
    try {
      this.journal.append({ f: absFile, r: 0, h: '', s: 'archived' });
    } catch (e) {
      this.journalBroken = true;
      this.stop.fatal(errorMessage(e));
    }
  }

  /** No more rows: the journal's last lines are written now, before the summary tells the outcome. */
  close(): void {
    this.closed = true;
    if (!this.journal || this.journalBroken) return;
    try {
      this.journal.flush();
    } catch (e) {
      this.journalFailed(e);
    }
  }
}
