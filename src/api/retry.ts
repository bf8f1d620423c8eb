import { setTimeout as delay } from 'node:timers/promises';
import { ApiError } from '../errors.js';

/** A 429 gets this many tries beyond --retries: it says "slow down", not "broken". */
export const EXTRA_429_TRIES = 10;

/** Exponential backoff with jitter: base, 2×base, 4×base... up to 10 s, each between 50 % and 100 %. */
export function backoff(attempt: number, baseMs: number): number {
  const full = Math.min(10_000, baseMs * 2 ** (attempt - 1));
  return Math.round(full / 2 + Math.random() * (full / 2));
}

/** Waits `ms`, or rejects with E_INTERRUPTED as soon as `signal` aborts. */
export async function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0 && !signal?.aborted) return;
  try {
    await delay(ms, undefined, signal ? { signal } : undefined);
  } catch (e) {
    throw interrupted(e);
  }
}

export function interrupted(cause?: unknown): ApiError {
  return new ApiError('E_INTERRUPTED', 'stopped before it finished (the run is stopping); --resume does it again', { cause });
}

/** Retry-After in ms: seconds or an HTTP date. */
export function parseRetryAfter(v: string | string[] | undefined): number | undefined {
  const s = Array.isArray(v) ? v[0] : v;
  if (s === undefined || s === '') return undefined;
  const n = Number(s);
  if (!Number.isNaN(n)) return Math.max(0, n * 1000);
  const t = Date.parse(s);
  return Number.isNaN(t) ? undefined : Math.max(1, t - Date.now());
}
