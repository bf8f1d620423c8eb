import { createHash, randomUUID } from 'node:crypto';
import { linkSync, mkdirSync, openSync, closeSync, readFileSync, renameSync, statSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { EtError, WriteError } from '../errors.js';

export const LOCK_FILE = 'lock.json';

export interface LockHolder {
  pid: number;
  host: string;
  startedAt: string;
  /** Unique to one run: tells this run's lock from an earlier run's with the same pid (pid 1 in a container). */
  runId?: string;
}

export interface LockOptions {
  /** A lock not refreshed for this long is stale (ms); the holder refreshes it every quarter of it. */
  staleMs: number;
  /** Told when a stale lock is taken over. */
  warn: (message: string, holder: LockHolder) => void;
  /** Told when this run's lock was taken over by another run (it was judged stale while this run lived). */
  onLost?: (message: string) => void;
  now?: () => number;
}

/** Runs of this process holding a lock: a lock with this pid but another run id is an earlier process's. */
const held = new Set<string>();

/** A claim older than this whose lock is unchanged was left by a run that died taking over. */
const CLAIM_STUCK_MS = 30_000;

/**
 * One run per state directory. The lock is `lock.json`, holding the holder's pid, host, start
 * time and run id; it is put in place whole (written aside, then linked: it exists complete or not
 * at all) and refreshed by its holder (its modification time, every quarter of `staleMs`).
 *
 * A lock is stale when its holder is gone: on this host, its pid is not running, or it is this
 * process's pid but not one of its runs (a container's pid 1 after a restart); on any host, when
 * it has not been refreshed for `staleMs`. Any other lock is refused (exit 3), naming its holder.
 *
 * Taking over a stale lock never removes a lock it did not judge stale: the taker first claims
 * that very lock (a claim file named after its content, created exclusively: one taker wins), reads
 * it again, and puts its own in place with one rename only while the content is still the stale
 * one. Every other taker loses the claim and finds the winner's live lock. So of runs started
 * together, stale lock or not, exactly one runs.
 */
export class StateLock {
  private timer: NodeJS.Timeout | undefined;
  private released = false;

  private constructor(
    readonly path: string,
    private readonly me: LockHolder & { runId: string },
    private readonly options: LockOptions,
  ) {
    held.add(me.runId);
    const every = Math.max(250, Math.min(options.staleMs / 4, 30_000));
    this.timer = setInterval(() => this.refresh(), every);
    this.timer.unref();
  }

  static acquire(dir: string, options: LockOptions): StateLock {
    const path = join(dir, LOCK_FILE);
    const now = options.now ?? Date.now;
    try {
      mkdirSync(dir, { recursive: true });
    } catch (e) {
      throw new WriteError(dir, e);
    }
    const me = { pid: process.pid, host: hostname(), startedAt: new Date(now()).toISOString(), runId: randomUUID() };
    const aside = join(dir, `lock.${me.runId}.tmp`);
    try {
      writeFileSync(aside, `${JSON.stringify(me)}\n`);
    } catch (e) {
      throw new WriteError(aside, e);
    }
    try {
      for (let attempt = 0; attempt < 200; attempt++) {
        try {
          linkSync(aside, path);
          return new StateLock(path, me, options);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new WriteError(path, e);
        }
        const seen = readLock(path);
        if (!seen) continue; // released meanwhile: try again
        const stale = staleness(seen.holder, seen.mtimeMs, options.staleMs, now());
        if (!stale) {
          const h = seen.holder;
          throw new EtError(
            'E_LOCKED',
            h
              ? `the state directory ${dir} is in use by another run: pid ${h.pid} on host ${h.host}, started ${h.startedAt} (lock file ${path}); wait for it, or remove the lock file if that run is gone`
              : `the state directory ${dir} is in use by another run (lock file ${path})`,
          );
        }
        const claim = claimLock(dir, seen, now());
        if (!claim) {
          // another run is taking it over right now: its lock will be there in a moment
          sleep(20);
          continue;
        }
        try {
          // only while it is still the very lock judged stale
          const again = readLock(path);
          if (!again || again.raw !== seen.raw || again.mtimeMs !== seen.mtimeMs) continue;
          if (seen.holder) options.warn(`taking over a stale lock (${stale}): ${path}`, seen.holder);
          const mine = join(dir, `lock.${me.runId}.new`);
          writeFileSync(mine, `${JSON.stringify(me)}\n`);
          renameSync(mine, path);
          return new StateLock(path, me, options);
        } finally {
          tryUnlink(claim);
        }
      }
      throw new EtError('E_LOCKED', `could not take the lock ${path}: other runs keep taking it`);
    } finally {
      tryUnlink(aside);
    }
  }

  /** Refreshes the lock's time; notices a lock taken over by another run. */
  private refresh(): void {
    if (this.released) return;
    const seen = readLock(this.path);
    if (seen?.holder?.runId !== this.me.runId) {
      this.stopRefreshing();
      this.options.onLost?.(`the lock ${this.path} was taken over by another run (this run had not refreshed it for --lock-stale): stopping`);
      return;
    }
    try {
      const t = new Date();
      utimesSync(this.path, t, t);
    } catch {
      // the next refresh tries again; a lock left unrefreshed goes stale, as it should for a run that cannot write
    }
  }

  private stopRefreshing(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    held.delete(this.me.runId);
  }

  /** Removes the lock file, if it is still this run's. */
  release(): void {
    if (this.released) return;
    this.released = true;
    this.stopRefreshing();
    const seen = readLock(this.path);
    if (seen?.holder?.runId === this.me.runId) tryUnlink(this.path);
  }
}

interface SeenLock {
  raw: string;
  holder: LockHolder | undefined;
  mtimeMs: number;
}

function readLock(path: string): SeenLock | undefined {
  let raw: string;
  let mtimeMs: number;
  try {
    mtimeMs = statSync(path).mtimeMs;
    raw = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  let holder: LockHolder | undefined;
  try {
    const h = JSON.parse(raw) as Partial<LockHolder>;
    if (typeof h.pid === 'number' && typeof h.host === 'string' && typeof h.startedAt === 'string') holder = h as LockHolder;
  } catch {
    // not a lock this tool wrote whole: judged by its age alone
  }
  return { raw, holder, mtimeMs };
}

/**
 * Claims the right to replace this very lock: a file named after its content, created exclusively.
 * A claim left by a run that died in the middle (old, its lock unchanged) is passed over by a
 * claim of the next rank, never removed, so no two takers hold a claim of the same rank.
 */
function claimLock(dir: string, seen: SeenLock, now: number): string | undefined {
  const tag = createHash('sha256').update(seen.raw).update(String(seen.mtimeMs)).digest('hex').slice(0, 32);
  for (let rank = 1; rank <= 5; rank++) {
    const claim = join(dir, `lock.claim-${tag}-${rank}`);
    try {
      closeSync(openSync(claim, 'wx'));
      return claim;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new WriteError(claim, e);
      let age: number;
      try {
        age = now - statSync(claim).mtimeMs;
      } catch {
        return undefined; // its taker just finished: look again
      }
      if (age < CLAIM_STUCK_MS) return undefined;
    }
  }
  return undefined;
}

/** Why a lock may be taken over, or undefined when its holder may still be running. */
function staleness(holder: LockHolder | undefined, mtimeMs: number, staleMs: number, now: number): string | undefined {
  const quietMs = now - mtimeMs;
  const quiet = quietMs > staleMs ? `not refreshed for ${minutes(quietMs)}, more than --lock-stale` : undefined;
  if (!holder) return quiet && `the lock file is not one et-import wrote, and ${quiet}`;
  if (holder.host === hostname()) {
    if (holder.pid === process.pid)
      return holder.runId !== undefined && held.has(holder.runId)
        ? undefined
        : `pid ${holder.pid} is this process, and not one of its runs: a run before a restart`;
    if (!isAlive(holder.pid)) return `pid ${holder.pid} is no longer running on this host`;
    // a live pid that no longer refreshes the lock is another process that reuses the number
    return quiet && `pid ${holder.pid} has ${quiet}`;
  }
  return quiet && `host ${holder.host} has ${quiet}`;
}

function minutes(ms: number): string {
  return ms >= 120_000 ? `${Math.round(ms / 60_000)} min` : `${Math.round(ms / 1000)} s`;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function tryUnlink(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // gone already
  }
}

/** A short synchronous wait (acquire is synchronous: it runs before anything else of the run). */
function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
