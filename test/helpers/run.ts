import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { createLogger } from '../../src/logger.js';
import type { ResultColumn } from '../../src/row-result.js';
import { type RunResult, runImport, type RunOptions } from '../../src/run/index.js';
import { runWayBack, type WayBackOptions } from '../../src/run/way-back-run.js';
import { connectionFor, tempDir } from './sandbox.js';
import { keepOutput } from './secrets.js';

export interface Captured {
  logs: string[];
  out: string[];
}

/** Runs an import in-process against `url`, capturing log lines and the end-of-run table. */
export function importInto(url: string, options: Partial<RunOptions> & Pick<RunOptions, 'inputs' | 'mapping'>, captured: Captured = { logs: [], out: [] }) {
  return inProcess(url, options, captured, (o) => runImport({ ...options, ...o }));
}

/** Runs `undo` or `apply` in-process against `url`, as importInto runs an import. */
export function wayBackInto(url: string, options: Partial<WayBackOptions> & Pick<WayBackOptions, 'kind' | 'dirs'>, captured: Captured = { logs: [], out: [] }) {
  return inProcess(url, options, captured, (o) => runWayBack({ ...options, ...o }));
}

type Given = Pick<RunOptions, 'connection' | 'logger' | 'out' | 'reportDir'>;

async function inProcess(url: string, options: { reportDir?: string | undefined }, captured: Captured, run: (o: Given) => Promise<RunResult>) {
  const reportDir = options.reportDir ?? tempDir('et-report-');
  try {
    const result = await run({
      connection: connectionFor(url),
      logger: createLogger('trace', { write: (s: string) => void captured.logs.push(s) }),
      out: { write: (s: string) => captured.out.push(s) },
      ...options,
      reportDir,
    });
    return { ...result, captured, results: readResults(result.reportDir) };
  } catch (err) {
    keepOutput('error', `${(err as Error).message}\n${(err as Error).stack ?? ''}`);
    throw err;
  } finally {
    keepOutput('log', captured.logs.join(''));
    keepOutput('out', captured.out.join(''));
  }
}

/** A line of results.csv: its columns are src/row-result.ts RESULT_COLUMNS. */
export type ResultRow = Record<ResultColumn, string>;

export function readResults(reportDir: string): ResultRow[] {
  return parse(readFileSync(join(reportDir, 'results.csv')), { columns: true }) as ResultRow[];
}

export function readCsv(path: string): Record<string, string>[] {
  return parse(readFileSync(path), { columns: true }) as Record<string, string>[];
}

export function byRow(results: ResultRow[]): Record<string, ResultRow> {
  return Object.fromEntries(results.map((r) => [`${r.file.split('/').pop()}:${r.row}`, r]));
}
