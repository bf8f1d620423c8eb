import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import pLimit from 'p-limit';
import { createClient, type ApiClient } from './api/client.js';
import type { Connection } from './api/connection.js';
import { ApiError, EtError, RowError, errorMessage } from './errors.js';
import { cellText } from './input/cell.js';
import type { SourceRow } from './input/types.js';
import { openSources, type PlannedSource } from './input/sources.js';
import { createLogger, type Logger } from './logger.js';
import { loadMapping } from './mapping/load.js';
import type { Mapping } from './mapping/types.js';
import { checkKey, lookupValue, mapRow, type MappedRow } from './pipeline/mapper.js';
import { KeyTable } from './pipeline/key-table.js';
import { openRows } from './input/open-rows.js';
import { mergeMetadata } from './pipeline/merger.js';
import { TurnGate, WrittenState } from './pipeline/ordering.js';
import { resolveSession } from './pipeline/resolver.js';
import { displayUrl } from './redact.js';
import { OK_STATUSES, type Counts } from './report/statuses.js';
import { ReportWriter, formatSummaryTable, type RowResult } from './report/writer.js';
import { Journal, ResumeIndex, rowHash } from './state/journal.js';

export interface RunOptions {
  /** `validate`: everything before the network, over every row; statuses valid/invalid. */
  mode?: 'run' | 'validate';
  inputs: string[];
  mapping: string;
  /** Not needed to validate. */
  connection?: Connection;
  /** Rows in flight at once (default 8). */
  concurrency?: number;
  dryRun?: boolean;
  /** Default: reports/<UTC timestamp>/ under the working directory. */
  reportDir?: string;
  /** Where the journal goes (default: <reportDir>/state). */
  stateDir?: string;
  /** A previous run's state dir (or report dir): rows it finished with the same values are skipped. */
  resume?: string;
  /** Page size for the session search (default 100). */
  pageSize?: number;
  /** Most search hits examined for one key before the row fails (default 1000). */
  maxCandidates?: number;
  timeoutMs?: number;
  retries?: number;
  retryBaseMs?: number;
  /** Requests per second across the run (default: none until a 429). */
  rate?: number;
  /** Abort (exit 2) once this many rows failed: a count, or a percentage such as "5%". */
  maxErrors?: string | number;
  /** Abort (exit 2) after this many rows in a row failed to reach the API (default 10). */
  circuitBreaker?: number;
  /** After a stop signal, how long rows in flight may take to finish (default 30 s). */
  stopTimeoutMs?: number;
  maxResponseBytes?: number;
  logger?: Logger;
  /** Aborting stops reading; rows in flight finish, the report is written, exit code 4. */
  signal?: AbortSignal;
  /** Where the end-of-run table goes (default: process.stderr). */
  out?: { write(s: string): unknown };
  /** How often progress is logged, ms (default 10 s). */
  progressEveryMs?: number;
}

export interface RunResult {
  exitCode: 0 | 1 | 2 | 3 | 4;
  counts: Counts;
  reportDir: string;
  stateDir: string;
  summary: Record<string, unknown>;
}

export const EXIT = { OK: 0, ROWS_FAILED: 1, ABORTED: 2, FATAL: 3, INTERRUPTED: 4 } as const;

/** Transport failures: the API is down, unreachable or overloaded, not a problem with one row. */
const isTransportFailure = (err: unknown) => err instanceof ApiError && (err.code === 'E_API_UNREACHABLE' || err.status === 429 || (err.status !== undefined && err.status >= 500));

/**
 * Runs an import: mapping and inputs are checked before the first request, then each row is
 * mapped, resolved to one session, merged and uploaded, at most `concurrency` rows at a time,
 * while the reader waits. Throws EtError (exit 3) only when nothing could be done.
 */
export async function runImport(options: RunOptions): Promise<RunResult> {
  const started = new Date();
  const logger = options.logger ?? createLogger('info');
  const concurrency = options.concurrency ?? 8;
  const dryRun = options.dryRun ?? false;
  const pageSize = options.pageSize ?? 100;
  const maxCandidates = options.maxCandidates ?? 1000;
  const maxErrors = parseMaxErrors(options.maxErrors);
  const circuitBreaker = options.circuitBreaker ?? 10;
  const validate = options.mode === 'validate';
  if (!validate && !options.connection) throw new EtError('E_USAGE', 'no API connection given');

  const mapping = await loadMapping(options.mapping);
  let resume: ResumeIndex | undefined;
  let resumeDir: string | undefined;
  if (options.resume) {
    resumeDir = existsSync(join(options.resume, 'state')) ? join(options.resume, 'state') : options.resume;
    try {
      resume = ResumeIndex.load(resumeDir, dryRun);
    } catch (err) {
      throw new EtError('E_USAGE', `--resume ${options.resume}: ${errorMessage(err)} (give the report or state directory of the run to resume)`);
    }
  }
  const sources = await openSources(options.inputs, mapping);
  const client = validate || !options.connection ? undefined : createClient(options.connection, {
    maxSockets: concurrency,
    logger,
    ...(options.timeoutMs !== undefined && { timeoutMs: options.timeoutMs }),
    ...(options.retries !== undefined && { retries: options.retries }),
    ...(options.retryBaseMs !== undefined && { retryBaseMs: options.retryBaseMs }),
    ...(options.rate !== undefined && { rate: options.rate }),
    ...(options.maxResponseBytes !== undefined && { maxResponseBytes: options.maxResponseBytes }),
  });
  let report: ReportWriter | undefined;
  let journal: Journal | undefined;
  try {
    // A refused login or an unreachable API stops the run here, before any row is touched.
    // A resumed run logs in only when a row needs the API, so resuming a finished run sends nothing.
    if (!resume) await client?.login();
    const reportDir = resolve(options.reportDir ?? defaultReportDir(started));
    const stateDir = resolve(resumeDir ?? options.stateDir ?? join(reportDir, 'state'));
    report = await ReportWriter.create(reportDir);
    journal = validate ? undefined : new Journal(stateDir);
    logger.info({ mode: validate ? 'validate' : 'run', inputs: options.inputs, reportDir, stateDir: journal ? stateDir : undefined, dryRun, concurrency, resume: resume ? { finishedRows: resume.entries, tornLines: resume.tornLines } : undefined, url: options.connection && displayUrl(options.connection.baseUrl) }, validate ? 'validation started' : 'import started');

    const outcome = await processAll({
      sources,
      mapping,
      client,
      validate,
      report,
      journal,
      resume,
      logger,
      concurrency,
      dryRun,
      pageSize,
      maxCandidates,
      maxErrors,
      circuitBreaker,
      stopTimeoutMs: options.stopTimeoutMs ?? 30_000,
      signal: options.signal,
      progressEveryMs: options.progressEveryMs ?? 10_000,
    });
    const finished = new Date();
    const counts = report.counts;
    const exitCode = outcome.fatal
      ? EXIT.FATAL
      : outcome.interrupted
        ? EXIT.INTERRUPTED
        : outcome.aborted
          ? EXIT.ABORTED
          : Object.entries(counts).every(([s, n]) => s === 'total' || n === 0 || OK_STATUSES.has(s as never))
            ? EXIT.OK
            : EXIT.ROWS_FAILED;
    const summary: Record<string, unknown> = {
      counts,
      startedAt: started.toISOString(),
      finishedAt: finished.toISOString(),
      durationMs: finished.getTime() - started.getTime(),
      exitCode,
      interrupted: outcome.interrupted,
      aborted: outcome.fatal ?? outcome.aborted ?? null,
      resumable: exitCode === EXIT.ABORTED || exitCode === EXIT.INTERRUPTED || exitCode === EXIT.FATAL ? `et-import run ... --resume ${stateDir}` : null,
      mode: validate ? 'validate' : 'run',
      inputs: sources.map((s) => ({ file: s.source.file, rowsRead: outcome.rowsPerFile.get(s.source.file) ?? 0, ...s.source.details })),
      duplicateKeys: outcome.duplicates,
      failedRows: report.failedFiles(),
      stateDir: journal ? stateDir : null,
      resumedFrom: resumeDir ?? null,
      requests: client ? { ...client.stats } : null,
      options: {
        mapping: options.mapping,
        url: options.connection ? displayUrl(options.connection.baseUrl) : null,
        apiVersion: options.connection?.apiVersion ?? null,
        sslVerify: options.connection?.sslVerify ?? null,
        concurrency,
        dryRun,
        pageSize,
        maxCandidates,
        timeoutMs: options.timeoutMs ?? 30_000,
        retries: options.retries ?? 3,
        rate: options.rate ?? null,
        maxErrors: options.maxErrors ?? null,
        circuitBreaker,
      },
    };
    await report.close();
    await report.writeSummary(summary);
    const why = outcome.fatal ?? outcome.aborted;
    (options.out ?? process.stderr).write(
      `\n${dryRun ? 'dry run: nothing was written\n' : ''}${why ? `run stopped: ${why}\n` : ''}${outcome.interrupted ? 'run interrupted\n' : ''}${formatSummaryTable(counts, { durationMs: finished.getTime() - started.getTime(), reportDir })}${summary.resumable ? `  to finish it: --resume ${stateDir}\n` : ''}`,
    );
    if (counts.total === 0) logger.warn({ inputs: options.inputs }, 'the input has a header but no data rows: nothing to do');
    if (outcome.duplicates.rows > 0) logger.warn({ duplicates: outcome.duplicates }, `${outcome.duplicates.rows} rows repeat a key seen earlier in the same file (match.duplicates: ${mapping.match.duplicates})`);
    logger.info({ counts, exitCode }, validate ? 'validation finished' : 'import finished');
    return { exitCode, counts, reportDir, stateDir, summary };
  } finally {
    journal?.close();
    await report?.close();
    await Promise.all(sources.map((s) => s.source.close()));
    client?.close();
  }
}

interface ProcessContext {
  sources: PlannedSource[];
  mapping: Mapping;
  client: ApiClient | undefined;
  validate: boolean;
  report: ReportWriter;
  journal: Journal | undefined;
  resume: ResumeIndex | undefined;
  logger: Logger;
  concurrency: number;
  dryRun: boolean;
  pageSize: number;
  maxCandidates: number;
  maxErrors: { count?: number; percent?: number } | undefined;
  circuitBreaker: number;
  stopTimeoutMs: number;
  signal: AbortSignal | undefined;
  progressEveryMs: number;
}

/** A row and what recording it needs: its file, the header (for failed.csv), its hash (for the journal). */
interface RowAt {
  file: string;
  /** The file's identity in the journal. */
  absFile: string;
  header: string[];
  row: SourceRow;
  hash: string;
}

export interface DuplicateKeys {
  /** Rows whose key was already on an earlier row of the same file. */
  rows: number;
  examples: { file: string; key: string; rows: [number, number] }[];
}

interface Outcome {
  duplicates: DuplicateKeys;
  interrupted: boolean;
  aborted?: string;
  fatal?: string;
  rowsPerFile: Map<string, number>;
}

async function processAll(ctx: ProcessContext): Promise<Outcome> {
  const { mapping, client, report, journal, logger, concurrency, dryRun } = ctx;
  const limit = pLimit(concurrency);
  const inflight = new Set<Promise<void>>();
  // Rows that reach the same session write it one after the other, in file order: each row
  // waits for its turn (every earlier row has queued its write) before queueing its own.
  const gate = new TurnGate();
  const sessionQueues = new Map<string, Promise<unknown>>();
  const written = new WrittenState();
  const rowsPerFile = new Map<string, number>();
  const outcome: Outcome = { interrupted: false, rowsPerFile, duplicates: { rows: 0, examples: [] } };
  let consecutiveTransport = 0;
  let closed = false;
  // set when no new request may start: a stop signal, an error threshold, the circuit, a refused login
  let halted = false;
  const halt = (why: 'aborted' | 'fatal' | 'interrupted', message?: string) => {
    if (why === 'interrupted') outcome.interrupted = true;
    else if (why === 'fatal') outcome.fatal ??= message;
    else outcome.aborted ??= message;
    halted = true;
  };
  const onAbort = () => {
    logger.warn('stop requested: finishing rows in flight, then writing the report');
    halt('interrupted');
  };
  ctx.signal?.addEventListener('abort', onAbort);
  if (ctx.signal?.aborted) halt('interrupted');

  const progress = setInterval(() => logger.info({ rows: report.counts.total, inFlight: inflight.size, counts: report.counts }, 'progress'), ctx.progressEveryMs);
  progress.unref();

  /** Runs `task` after every queued task for `id`; tasks for other sessions run freely. */
  function onSession<T>(id: string, task: () => Promise<T>): Promise<T> {
    const prev = sessionQueues.get(id);
    const result = prev ? prev.then(task, task) : task();
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    sessionQueues.set(id, tail);
    void tail.then(() => {
      if (sessionQueues.get(id) === tail) sessionQueues.delete(id);
    });
    return result;
  }

  /**
   * Resolves the row, waits for its turn, then merges and writes on the session's queue, and
   * records the result. A row that finds the run halted before its first request is left
   * unrecorded (a resumed run will do it).
   */
  async function processRow(at: RowAt, mapped: MappedRow, ticket: number): Promise<void> {
    const base = { file: at.file, row: at.row.row, key: mapped.key };
    const where = `${at.file} row ${at.row.row}`;
    const fail = (err: unknown, sessionId?: string): RowResult => {
      const code = err instanceof EtError ? err.code : 'E_API';
      if (code === 'E_LOGIN') halt('fatal', errorMessage(err));
      return { ...base, sessionId, status: 'failed', errorCode: code, errorMessage: `${where}: ${errorMessage(err)}`, transport: isTransportFailure(err) };
    };
    let passed = false;
    const pass = () => {
      if (!passed) gate.pass(ticket);
      passed = true;
    };
    const mark = written.begin();
    try {
      let r;
      try {
        r = await limit(() => (halted || !client ? null : resolveSession(client, mapping.match, mapped.lookup, { pageSize: ctx.pageSize, maxCandidates: ctx.maxCandidates })));
      } catch (err) {
        return await finish(fail(err), at);
      }
      if (r === null) return;
      if (r.kind === 'unmatched') {
        return await finish({ ...base, status: 'unmatched', errorCode: 'E_UNMATCHED', errorMessage: `${where}: no session has ${mapping.match.sessionFields.join(' or ')} equal to ${JSON.stringify(mapped.lookup)} (the search returned ${r.searched} session${r.searched === 1 ? '' : 's'}, none exact)` }, at);
      }
      if (r.kind === 'ambiguous') {
        return await finish({ ...base, status: 'ambiguous', errorCode: 'E_AMBIGUOUS', errorMessage: `${where}: ${r.ids.length} sessions have ${mapping.match.sessionFields.join(' or ')} equal to ${JSON.stringify(mapped.lookup)}: ${r.ids.slice(0, 5).join(', ')}${r.ids.length > 5 ? ', ...' : ''}` }, at);
      }
      const session = r.session;
      await gate.turn(ticket);
      const write = onSession(session.id, async () => {
        const result = await limit(async (): Promise<RowResult | null> => {
          if (halted) return null;
          const current = written.get(session.id) ?? session;
          const { body, changed } = mergeMetadata(current, mapped.values, mapping.fields);
          const ok = { ...base, sessionId: session.id, changed };
          if (changed.length === 0) return { ...ok, status: 'unchanged' };
          if (!dryRun) {
            try {
              await client!.putMetadata(session.id, body);
            } catch (err) {
              return { ...fail(err, session.id), changed };
            }
          }
          const after: Record<string, unknown> = {};
          for (const f of mapping.fields) if (Object.hasOwn(current, f.name)) after[f.name] = current[f.name];
          written.set(session.id, Object.assign(after, body));
          return { ...ok, status: dryRun ? 'would_update' : 'updated' };
        });
        // recorded (and journaled) before the next row for this session starts
        if (result) await finish(result, at);
      });
      pass();
      await write;
    } finally {
      pass();
      written.done(mark);
    }
  }

  /** Records a row's final status: journal (synchronously), report, thresholds. */
  async function finish(result: RowResult, at: RowAt): Promise<void> {
    // after a stop timeout the report is closed: rows still finishing are left to --resume
    if (closed) return;
    if (result.status !== 'skipped') journal?.append({ f: at.absFile, r: result.row, h: at.hash, s: result.status, ...(result.sessionId && { id: result.sessionId }) });
    logger.debug({ file: result.file, row: result.row, key: result.key, status: result.status, sessionId: result.sessionId, changed: result.changed, error: result.errorMessage }, 'row done');
    await report.record(result, at.header, at.row.cells);
    if (result.status === 'failed') {
      if (result.transport) consecutiveTransport++;
      const failed = report.counts.failed;
      const done = report.counts.total;
      const m = ctx.maxErrors;
      if (m && !halted && ((m.count !== undefined && failed >= m.count) || (m.percent !== undefined && done >= 100 && (failed / done) * 100 >= m.percent))) {
        logger.error({ failed, rows: done }, 'error threshold reached: stopping');
        halt('aborted', `--max-errors reached: ${failed} of ${done} rows failed`);
      }
      if (consecutiveTransport >= ctx.circuitBreaker && !halted) {
        logger.error({ consecutive: consecutiveTransport }, 'the API looks down: stopping');
        halt('aborted', `${consecutiveTransport} rows in a row could not reach the API (last: ${result.errorMessage ?? ''})`);
      }
    } else if (result.status !== 'invalid' && result.status !== 'skipped') {
      consecutiveTransport = 0;
    }
  }

  try {
    outer: for (const ps of ctx.sources) {
      const { source } = ps;
      const absFile = resolve(source.file);
      const seen = new KeyTable();
      // match.duplicates: last needs to know each key's last row before the first write
      const lastRows = mapping.match.duplicates === 'last' ? await lastRowPerKey(source.file, mapping, ps) : undefined;
      let n = 0;
      try {
        for await (const row of source.rows) {
          if (halted) break outer;
          n++;
          const mapped = mapRow(mapping, ps.plan, row, source.file, source.format === 'xlsx' ? String(source.details.sheet) : undefined);
          const isInvalid = mapped instanceof RowError;
          const at: RowAt = { file: source.file, absFile, header: source.header, row, hash: isInvalid ? rowHash(row.cells.map(cellText)) : rowHash([mapped.key, mapped.values]) };
          if (!isInvalid) {
            const before = seen.set(mapped.lookup, row.row);
            if (before > 0) {
              outcome.duplicates.rows++;
              if (outcome.duplicates.examples.length < 20) outcome.duplicates.examples.push({ file: source.file, key: mapped.key, rows: [before, row.row] });
            }
            const last = lastRows?.get(mapped.lookup);
            if (last !== undefined && last !== row.row) {
              await finish({ file: source.file, row: row.row, key: mapped.key, status: 'skipped', errorMessage: `${source.file} row ${row.row}: superseded by row ${last} with the same key (match.duplicates: last)` }, at);
              continue;
            }
          }
          const earlier = ctx.resume?.finished(absFile, row.row, at.hash);
          if (earlier) {
            await finish({ file: source.file, row: row.row, key: isInvalid ? keyText(row, ps) : mapped.key, status: 'skipped', sessionId: earlier.sessionId, errorMessage: `finished earlier as ${earlier.status}` }, at);
            continue;
          }
          if (isInvalid) {
            await finish({ file: source.file, row: row.row, key: keyText(row, ps), status: 'invalid', errorCode: mapped.code, errorMessage: mapped.message }, at);
            continue;
          }
          if (ctx.validate) {
            await finish({ file: source.file, row: row.row, key: mapped.key, status: 'valid' }, at);
            continue;
          }
          // the reader waits while enough work is queued: memory stays flat on any file size
          while (inflight.size >= concurrency * 2) await Promise.race(inflight);
          if (halted) break outer;
          const task = processRow(at, mapped, gate.ticket());
          inflight.add(task);
          void task.finally(() => inflight.delete(task));
        }
      } catch (err) {
        // the file broke off midway (e.g. a parse error): what was read is reported, the run is aborted
        halt('aborted', errorMessage(err));
        logger.error({ file: source.file, err: errorMessage(err) }, 'input could not be read to the end; run aborted');
        break;
      } finally {
        rowsPerFile.set(source.file, n);
      }
    }
    if (outcome.interrupted && inflight.size > 0) {
      const timedOut = await Promise.race([Promise.all(inflight).then(() => false), new Promise<boolean>((r) => setTimeout(() => r(true), ctx.stopTimeoutMs).unref())]);
      if (timedOut) logger.warn({ inFlight: inflight.size }, 'rows still in flight after the stop timeout: leaving them to --resume');
    } else {
      await Promise.all(inflight);
    }
  } finally {
    closed = true;
    clearInterval(progress);
    ctx.signal?.removeEventListener('abort', onAbort);
  }
  return outcome;
}

/** A first pass over a file: the last row of each key (rows with an unusable key are left out). */
async function lastRowPerKey(file: string, mapping: Mapping, ps: PlannedSource): Promise<KeyTable> {
  const table = new KeyTable();
  const again = await openRows(file, mapping.input);
  try {
    for await (const row of again.rows) {
      const key = cellText(row.cells[ps.plan.keyIndex] ?? null).trim();
      if (checkKey(key) === undefined) table.set(lookupValue(key, mapping.match.by), row.row);
    }
  } finally {
    await again.close();
  }
  return table;
}

function keyText(row: SourceRow, ps: PlannedSource): string {
  return cellText(row.cells[ps.plan.keyIndex] ?? null).trim();
}

export function parseMaxErrors(v: string | number | undefined): { count?: number; percent?: number } | undefined {
  if (v === undefined || v === '') return undefined;
  const s = String(v).trim();
  const m = /^(\d+(?:\.\d+)?)%$/.exec(s);
  if (m) {
    const percent = Number(m[1]);
    if (percent > 0 && percent <= 100) return { percent };
  } else if (/^\d+$/.test(s) && Number(s) >= 1) {
    return { count: Number(s) };
  }
  throw new EtError('E_USAGE', `--max-errors must be a number of rows (e.g. 100) or a percentage (e.g. 5%), got ${JSON.stringify(s)}`);
}

function defaultReportDir(started: Date): string {
  const stamp = started.toISOString().replace(/[:]/g, '-').replace(/\.\d+Z$/, 'Z');
  let dir = join('reports', stamp);
  for (let i = 2; existsSync(dir); i++) dir = join('reports', `${stamp}-${i}`);
  return dir;
}
