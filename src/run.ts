import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import pLimit from 'p-limit';
import { createClient, type ApiClient } from './api/client.js';
import type { Connection } from './api/connection.js';
import { EtError, RowError, errorMessage } from './errors.js';
import type { SourceRow } from './input/types.js';
import { openSources, type PlannedSource } from './input/sources.js';
import { createLogger, type Logger } from './logger.js';
import { loadMapping } from './mapping/load.js';
import type { Mapping } from './mapping/types.js';
import { KeyedQueue, RecentMap } from './pipeline/keyed-lock.js';
import { mapRow, type MappedRow } from './pipeline/mapper.js';
import { mergeMetadata } from './pipeline/merger.js';
import { resolveSession } from './pipeline/resolver.js';
import { displayUrl } from './redact.js';
import { OK_STATUSES, type Counts } from './report/statuses.js';
import { ReportWriter, formatSummaryTable, type RowResult } from './report/writer.js';

export interface RunOptions {
  inputs: string[];
  mapping: string;
  connection: Connection;
  /** Rows in flight at once (default 8). */
  concurrency?: number;
  dryRun?: boolean;
  /** Default: reports/<UTC timestamp>/ under the working directory. */
  reportDir?: string;
  /** Page size for the session search (default 100). */
  pageSize?: number;
  /** Most search hits examined for one key before the row fails (default 1000). */
  maxCandidates?: number;
  timeoutMs?: number;
  retries?: number;
  logger?: Logger;
  /** Aborting stops reading; rows in flight finish, the report is written, exit code 4. */
  signal?: AbortSignal;
  /** Where the end-of-run table goes (default: process.stderr). */
  out?: { write(s: string): unknown };
  /** How often progress is logged, ms (default 10 s). */
  progressEveryMs?: number;
}

export interface RunResult {
  exitCode: 0 | 1 | 2 | 4;
  counts: Counts;
  reportDir: string;
  summary: Record<string, unknown>;
}

export const EXIT = { OK: 0, ROWS_FAILED: 1, ABORTED: 2, FATAL: 3, INTERRUPTED: 4 } as const;

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

  const mapping = await loadMapping(options.mapping);
  const sources = await openSources(options.inputs, mapping);
  const client = createClient(options.connection, {
    maxSockets: concurrency,
    logger,
    ...(options.timeoutMs !== undefined && { timeoutMs: options.timeoutMs }),
    ...(options.retries !== undefined && { retries: options.retries }),
  });
  let report: ReportWriter | undefined;
  try {
    // A refused login or an unreachable API stops the run here, before any row is touched.
    await client.login();
    const reportDir = resolve(options.reportDir ?? defaultReportDir(started));
    report = await ReportWriter.create(reportDir);
    logger.info({ inputs: options.inputs, reportDir, dryRun, concurrency, url: displayUrl(options.connection.baseUrl) }, 'import started');

    const outcome = await processAll({ sources, mapping, client, report, logger, concurrency, dryRun, pageSize, maxCandidates, signal: options.signal, progressEveryMs: options.progressEveryMs ?? 10_000 });
    const finished = new Date();
    const counts = report.counts;
    const exitCode = outcome.interrupted ? EXIT.INTERRUPTED : outcome.aborted ? EXIT.ABORTED : Object.entries(counts).every(([s, n]) => s === 'total' || n === 0 || OK_STATUSES.has(s as never)) ? EXIT.OK : EXIT.ROWS_FAILED;
    const summary: Record<string, unknown> = {
      counts,
      startedAt: started.toISOString(),
      finishedAt: finished.toISOString(),
      durationMs: finished.getTime() - started.getTime(),
      exitCode,
      interrupted: outcome.interrupted,
      aborted: outcome.aborted ?? null,
      inputs: sources.map((s) => ({ file: s.source.file, rows: outcome.rowsPerFile.get(s.source.file) ?? 0, ...s.source.details })),
      failedRows: report.failedFiles(),
      requests: { ...client.stats },
      options: {
        mapping: options.mapping,
        url: displayUrl(options.connection.baseUrl),
        apiVersion: options.connection.apiVersion,
        sslVerify: options.connection.sslVerify,
        concurrency,
        dryRun,
        pageSize,
        maxCandidates,
        timeoutMs: options.timeoutMs ?? 30_000,
        retries: options.retries ?? 3,
      },
    };
    await report.close();
    await report.writeSummary(summary);
    (options.out ?? process.stderr).write(`\n${dryRun ? 'dry run: nothing was written\n' : ''}${formatSummaryTable(counts, { durationMs: finished.getTime() - started.getTime(), reportDir })}`);
    logger.info({ counts, exitCode }, 'import finished');
    return { exitCode, counts, reportDir, summary };
  } finally {
    await report?.close();
    await Promise.all(sources.map((s) => s.source.close()));
    client.close();
  }
}

interface ProcessContext {
  sources: PlannedSource[];
  mapping: Mapping;
  client: ApiClient;
  report: ReportWriter;
  logger: Logger;
  concurrency: number;
  dryRun: boolean;
  pageSize: number;
  maxCandidates: number;
  signal: AbortSignal | undefined;
  progressEveryMs: number;
}

async function processAll(ctx: ProcessContext): Promise<{ interrupted: boolean; aborted?: string; rowsPerFile: Map<string, number> }> {
  const { mapping, client, report, logger, concurrency, dryRun } = ctx;
  const limit = pLimit(concurrency);
  const inflight = new Set<Promise<void>>();
  // Rows with the same key run one after the other in file order; rows that reach the same
  // session through different keys never write it at the same time.
  const byKey = new KeyedQueue();
  const bySession = new KeyedQueue();
  // What this run last wrote (or would write) to a session, so a later row for the same
  // session merges with it even if its search answer predates that write.
  const written = new RecentMap<string, Record<string, unknown>>(10_000);
  const rowsPerFile = new Map<string, number>();
  let interrupted = false;
  let aborted: string | undefined;

  const progress = setInterval(() => logger.info({ rows: report.counts.total, inFlight: inflight.size, counts: report.counts }, 'progress'), ctx.progressEveryMs);
  progress.unref();

  async function processRow(ps: PlannedSource, row: SourceRow, mapped: MappedRow): Promise<RowResult> {
    const file = ps.source.file;
    const base = { file, row: row.row, key: mapped.key };
    const where = `${file} row ${row.row}`;
    try {
      const r = await resolveSession(client, mapping.match, mapped.lookup, { pageSize: ctx.pageSize, maxCandidates: ctx.maxCandidates });
      if (r.kind === 'unmatched') {
        return { ...base, status: 'unmatched', errorCode: 'E_UNMATCHED', errorMessage: `${where}: no session has ${mapping.match.sessionFields.join(' or ')} equal to ${JSON.stringify(mapped.lookup)} (the search returned ${r.searched} session${r.searched === 1 ? '' : 's'}, none exact)` };
      }
      if (r.kind === 'ambiguous') {
        return { ...base, status: 'ambiguous', errorCode: 'E_AMBIGUOUS', errorMessage: `${where}: ${r.ids.length} sessions have ${mapping.match.sessionFields.join(' or ')} equal to ${JSON.stringify(mapped.lookup)}: ${r.ids.slice(0, 5).join(', ')}${r.ids.length > 5 ? ', ...' : ''}` };
      }
      const session = r.session;
      return await bySession.run(session.id, async () => {
        const current = written.get(session.id) ?? session;
        const { body, changed } = mergeMetadata(current, mapped.values, mapping.fields);
        const ok = { ...base, sessionId: session.id, changed };
        if (changed.length === 0) return { ...ok, status: 'unchanged' as const };
        const after: Record<string, unknown> = {};
        for (const f of mapping.fields) if (Object.hasOwn(current, f.name)) after[f.name] = current[f.name];
        Object.assign(after, body);
        if (!dryRun) {
          try {
            await client.putMetadata(session.id, body);
          } catch (err) {
            return { ...ok, status: 'failed' as const, errorCode: err instanceof EtError ? err.code : 'E_API', errorMessage: `${where}: ${errorMessage(err)}` };
          }
        }
        written.set(session.id, after);
        return { ...ok, status: dryRun ? ('would_update' as const) : ('updated' as const) };
      });
    } catch (err) {
      const code = err instanceof EtError ? err.code : 'E_API';
      return { ...base, status: 'failed', errorCode: code, errorMessage: `${where}: ${errorMessage(err)}` };
    }
  }

  try {
    outer: for (const ps of ctx.sources) {
      const { source } = ps;
      let n = 0;
      try {
        for await (const row of source.rows) {
          if (ctx.signal?.aborted) {
            interrupted = true;
            break outer;
          }
          n++;
          const mapped = mapRow(mapping, ps.plan, row, source.file);
          if (mapped instanceof RowError) {
            await report.record({ file: source.file, row: row.row, key: keyText(row, ps), status: 'invalid', errorCode: mapped.code, errorMessage: mapped.message }, source.header, row.cells);
            continue;
          }
          // the reader waits while enough work is queued: memory stays flat on any file size
          while (inflight.size >= concurrency * 2) await Promise.race(inflight);
          const task = byKey
            .run(mapped.lookup, () => limit(() => processRow(ps, row, mapped)))
            .then((result) => {
              logger.debug({ file: result.file, row: result.row, key: result.key, status: result.status, sessionId: result.sessionId, changed: result.changed, error: result.errorMessage }, 'row done');
              return report.record(result, source.header, row.cells);
            });
          inflight.add(task);
          void task.finally(() => inflight.delete(task));
        }
      } catch (err) {
        // the file broke off midway (e.g. a parse error): what was read is reported, the run is aborted
        aborted = errorMessage(err);
        logger.error({ file: source.file, err: aborted }, 'input could not be read to the end; run aborted');
        break;
      } finally {
        rowsPerFile.set(source.file, n);
      }
    }
    if (ctx.signal?.aborted) interrupted = true;
    await Promise.all(inflight);
  } finally {
    clearInterval(progress);
  }
  return aborted === undefined ? { interrupted, rowsPerFile } : { interrupted, aborted, rowsPerFile };
}

function keyText(row: SourceRow, ps: PlannedSource): string {
  const c = row.cells[ps.plan.keyIndex];
  return c === null || c === undefined ? '' : c instanceof Date ? c.toISOString() : String(c).trim();
}

function defaultReportDir(started: Date): string {
  const stamp = started.toISOString().replace(/[:]/g, '-').replace(/\.\d+Z$/, 'Z');
  let dir = join('reports', stamp);
  for (let i = 2; existsSync(dir); i++) dir = join('reports', `${stamp}-${i}`);
  return dir;
}
