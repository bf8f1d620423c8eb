import { closeSync, mkdirSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { EtError, WriteError } from '../errors.js';

export const LOCK_FILE = 'lock.json';

export interface LockHolder {
  pid: number;
  host: string;
  startedAt: string;
}

export interface LockOptions {
  /** A lock of another host older than this is taken over (ms). */
  staleMs: number;
  /** Told when a stale lock is taken over. */
  warn: (message: string, holder: LockHolder) => void;
  now?: () => number;
}

/**
 * One run per state directory: an exclusive lock file (O_EXCL) holding the holder's pid, host
 * and start time. A lock whose pid is dead on this host, or another host's lock older than
 * `staleMs`, is taken over with a warning; any other is refused (exit 3), naming its holder.
 */
export class StateLock {
  private constructor(readonly path: string) {}

  static acquire(dir: string, options: LockOptions): StateLock {
    const path = join(dir, LOCK_FILE);
    const now = options.now ?? Date.now;
    try {
      mkdirSync(dir, { recursive: true });
    } catch (e) {
      throw new WriteError(dir, e);
    }
    for (let attempt = 0; attempt < 3; attempt++) {
      const me: LockHolder = { pid: process.pid, host: hostname(), startedAt: new Date(now()).toISOString() };
      let fd: number;
      try {
        fd = openSync(path, 'wx');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new WriteError(path, e);
        const holder = readHolder(path);
        const stale = staleness(holder, options.staleMs, now(), path);
        if (!stale) {
          throw new EtError('E_LOCKED', `the state directory ${dir} is in use by another run: pid ${holder!.pid} on host ${holder!.host}, started ${holder!.startedAt} (lock file ${path}); wait for it, or remove the lock file if that run is gone`);
        }
        if (holder) options.warn(`taking over a stale lock (${stale}): ${path}`, holder);
        try {
          unlinkSync(path);
        } catch {
          // another run took it over first: try again
        }
        continue;
      }
      try {
        writeSync(fd, `${JSON.stringify(me)}\n`);
      } catch (e) {
        throw new WriteError(path, e);
      } finally {
        closeSync(fd);
      }
      return new StateLock(path);
    }
    throw new EtError('E_LOCKED', `could not take the lock ${path}: other runs keep taking it`);
  }

  /** Removes the lock file, if it is still this process's. */
  release(): void {
    try {
      const holder = readHolder(this.path);
      if (holder?.pid === process.pid && holder.host === hostname()) unlinkSync(this.path);
    } catch {
      // a lock that cannot be removed is taken over as stale by the next run
    }
  }
}

function readHolder(path: string): LockHolder | undefined {
  try {
    const h = JSON.parse(readFileSync(path, 'utf8')) as Partial<LockHolder>;
    if (typeof h.pid === 'number' && typeof h.host === 'string' && typeof h.startedAt === 'string') return h as LockHolder;
  } catch {
    // torn or empty: a run died while writing it
  }
  return undefined;
}

/** Why a lock may be taken over, or undefined when its holder may still be running. */
function staleness(holder: LockHolder | undefined, staleMs: number, now: number, path: string): string | undefined {
  if (!holder) {
    // a run that has just created the file may not have written it yet
    const age = ageMs(path, now);
    if (age !== undefined && age < 10_000) throw new EtError('E_LOCKED', `the state directory is being locked by another run right now (lock file ${path})`);
    return 'the lock file is unreadable';
  }
  if (holder.host === hostname()) return isAlive(holder.pid) ? undefined : `pid ${holder.pid} is no longer running on this host`;
  const age = now - Date.parse(holder.startedAt);
  return age > staleMs ? `host ${holder.host} took it ${Math.round(age / 60_000)} min ago, more than --lock-stale` : undefined;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function ageMs(path: string, now: number): number | undefined {
  try {
    return now - statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
}
