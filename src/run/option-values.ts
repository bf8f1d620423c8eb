import { EtError } from '../errors.js';
import type { Window } from '../pipeline/index-build.js';
import { isDay } from '../pipeline/row-date.js';
import { ERROR_STATUSES, type MaxErrors } from './stop-control.js';

// The options whose values are text with a shape of their own (a window, a shard, a limit or a
// list), parsed and checked here; numbers are checked by the option table's rules (options.ts).

/** `--window 2025-06-01..2025-06-30`. */
export function parseWindow(text: string): Window {
  const m = /^\s*(\d{4}-\d{2}-\d{2})\s*\.\.\s*(\d{4}-\d{2}-\d{2})\s*$/.exec(text);
  if (!m || !isDay(m[1]!) || !isDay(m[2]!) || m[1]! > m[2]!) {
    throw new EtError('E_USAGE', `--window must be FROM..TO as dates, FROM not after TO, e.g. 2025-06-01..2025-06-30; got ${JSON.stringify(text)}`);
  }
  return { from: m[1]!, to: m[2]! };
}

export function checkLookup(v: string): 'search' | 'index' {
  if (v === 'search' || v === 'index') return v;
  throw new EtError('E_USAGE', `--lookup must be search or index, got ${JSON.stringify(v)}`);
}

export function checkShard(s: { index: number; count: number }): { index: number; count: number } {
  if (!Number.isInteger(s.index) || !Number.isInteger(s.count) || s.count < 1 || s.index < 1 || s.index > s.count)
    throw new EtError('E_USAGE', `--shard must be i/n with 1 <= i <= n, got ${s.index}/${s.count}`);
  return s;
}

/** `--shard 2/3` as numbers. */
export function parseShard(text: string): { index: number; count: number } {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  if (!m) throw new EtError('E_USAGE', `--shard must be i/n, e.g. 2/3, got ${JSON.stringify(text)}`);
  return checkShard({ index: Number(m[1]), count: Number(m[2]) });
}

/** `--max-errors-statuses failed,invalid`: which of the statuses that do not end well --max-errors counts. */
export function parseErrorStatuses(v: string[] | string | undefined): ReadonlySet<string> {
  if (v === undefined) return ERROR_STATUSES;
  const list = (Array.isArray(v) ? v : [v])
    .flatMap((s) => s.split(','))
    .map((s) => s.trim())
    .filter(Boolean);
  const wrong = list.filter((s) => !ERROR_STATUSES.has(s));
  if (list.length === 0 || wrong.length > 0)
    throw new EtError(
      'E_USAGE',
      `--max-errors-statuses takes statuses from ${[...ERROR_STATUSES].join(', ')}, got ${JSON.stringify(Array.isArray(v) ? v.join(',') : v)}`,
    );
  return new Set(list);
}

/** `--max-errors 100` or `--max-errors 5%`. */
export function parseMaxErrors(v: string | number | undefined): MaxErrors | undefined {
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
