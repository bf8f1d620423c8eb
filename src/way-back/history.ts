import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { readRunRecord, RUN_FILE, type RunRecord } from '../report/report-dir.js';

export interface HistoryEntry {
  runId: string;
  kind: string;
  dryRun: boolean;
  startedAt: string;
  reportDir: string;
  inputs: string[];
  /** Counts by status (only those above 0), or null while no summary was written (running, or killed). */
  counts: Record<string, number> | null;
  exitCode: number | null;
  parts: number;
  /** undo and apply: the report directories they worked on. */
  of: string[];
  /** The undo runs (real ones) that undid this run, and the apply runs that applied this dry run. */
  undoneBy: string[];
  appliedBy: string[];
}

/** Report directories under `root` (the root itself, and folders up to three levels down) that hold a run.json. */
export function findReportDirs(root: string, depth = 3): string[] {
  const dir = resolve(root);
  if (existsSync(join(dir, RUN_FILE))) return [dir];
  if (depth === 0) return [];
  let names: string[];
  try {
    names = readdirSync(dir, { withFileTypes: true })
      .filter((d) => d.isDirectory() && !d.name.startsWith('.'))
      .map((d) => d.name);
  } catch {
    return [];
  }
  return names.sort().flatMap((n) => findReportDirs(join(dir, n), depth - 1));
}

/** The report directories a state directory's runs.jsonl names. */
export function reportDirsOfState(stateDir: string): string[] {
  const path = join(resolve(stateDir), 'runs.jsonl');
  if (!existsSync(path)) return [];
  const dirs: string[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    try {
      const d = (JSON.parse(line) as { reportDir?: unknown }).reportDir;
      if (typeof d === 'string' && !dirs.includes(d)) dirs.push(d);
    } catch {
      // a torn line
    }
  }
  return dirs;
}

/** Every run of these report directories, oldest first, each with what undid or applied it. */
export function history(dirs: string[]): HistoryEntry[] {
  const runs = dirs.map((d) => ({ dir: d, record: readRunRecord(d) })).filter((r): r is { dir: string; record: RunRecord } => r.record !== undefined);
  const entries = runs.map(({ dir, record }) => entry(dir, record));
  for (const e of entries) {
    for (const other of entries) {
      if (!other.of.includes(e.reportDir)) continue;
      if (other.kind === 'undo' && !other.dryRun) e.undoneBy.push(other.runId);
      if (other.kind === 'apply' && !other.dryRun) e.appliedBy.push(other.runId);
    }
  }
  return entries.sort((a, b) => a.startedAt.localeCompare(b.startedAt));
}

function entry(dir: string, record: RunRecord): HistoryEntry {
  let summary: { counts?: Record<string, number>; exitCode?: number; inputs?: { file: string }[] } | undefined;
  try {
    summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));
  } catch {
    summary = undefined;
  }
  const counts = summary?.counts ? Object.fromEntries(Object.entries(summary.counts).filter(([, n]) => n > 0)) : null;
  return {
    runId: record.runId,
    kind: record.kind,
    dryRun: record.dryRun,
    startedAt: record.startedAt,
    reportDir: dir,
    inputs: (summary?.inputs ?? []).map((i) => i.file),
    counts,
    exitCode: typeof summary?.exitCode === 'number' ? summary.exitCode : null,
    parts: record.parts.length,
    of: record.of ?? [],
    undoneBy: [],
    appliedBy: [],
  };
}

/** The history as a text table, one run a line. */
export function formatHistory(entries: HistoryEntry[]): string {
  if (entries.length === 0) return 'no runs found\n';
  const rows = entries.map((e) => [
    e.runId,
    `${e.kind}${e.dryRun ? ' (dry)' : ''}`,
    e.startedAt.slice(0, 19).replace('T', ' '),
    e.exitCode === null ? '-' : String(e.exitCode),
    e.counts
      ? Object.entries(e.counts)
          .map(([k, n]) => `${k}=${n}`)
          .join(' ')
      : 'no summary (running or stopped)',
    [
      e.of.length > 0 ? `of ${e.of.join(', ')}` : e.inputs.join(', '),
      e.undoneBy.length > 0 ? `undone by ${e.undoneBy.join(', ')}` : '',
      e.appliedBy.length > 0 ? `applied by ${e.appliedBy.join(', ')}` : '',
      e.reportDir,
    ]
      .filter(Boolean)
      .join('; '),
  ]);
  const head = ['run', 'kind', 'started (UTC)', 'exit', 'counts', 'inputs; report'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  return `${[line(head), ...rows.map(line)].join('\n')}\n`;
}
