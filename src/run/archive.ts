import { copyFileSync, existsSync, mkdirSync, renameSync, unlinkSync } from 'node:fs';
import { basename, extname, join, resolve } from 'node:path';
import { WriteError, errorMessage } from '../errors.js';
import { changedSince } from '../input/snapshot.js';
import type { Logger } from '../logger.js';
import type { ReadOutcome } from '../pipeline/read-loop.js';
import type { PlannedSource } from '../pipeline/sources.js';
import type { ResolvedOptions } from './options.js';
import type { Recorder } from './recorder.js';
import type { StopControl } from './stop-control.js';

/** What the end of a run looks at: the inputs, what was read of them, and how the rows ended. */
export interface RunState {
  sources: PlannedSource[];
  recorder: Recorder;
  stop: StopControl;
  logger: Logger;
  read: ReadOutcome;
}

/**
 * Moves a finished input to `<dir>/<YYYY-MM-DD>/`, adding `-2`, `-3`... before the extension
 * rather than overwriting an earlier delivery of the same name. Returns where it went, or
 * undefined when the file itself is gone (someone else moved it).
 */
export function archiveFile(file: string, dir: string, day: Date): string | undefined {
  const target = join(dir, day.toISOString().slice(0, 10));
  try {
    mkdirSync(target, { recursive: true });
  } catch (e) {
    throw new WriteError(target, e);
  }
  const ext = extname(file);
  const stem = basename(file, ext);
  let to = join(target, `${stem}${ext}`);
  for (let i = 2; existsSync(to); i++) to = join(target, `${stem}-${i}${ext}`);
  try {
    renameSync(file, to);
  } catch (e) {
    // the source vanished, not the target's folder
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' && !existsSync(file)) return undefined;
    if ((e as NodeJS.ErrnoException).code !== 'EXDEV') throw new WriteError(to, e);
    // another file system: copy, then remove
    try {
      copyFileSync(file, to);
      unlinkSync(file);
    } catch (e2) {
      throw new WriteError(to, e2);
    }
  }
  return to;
}

/**
 * `--archive`: moves each input whose rows all ended well to `<archive>/<YYYY-MM-DD>/`, and marks
 * it in the journal, so that a file delivered again under the same name is imported again. Only
 * after a run that read everything and wrote for real: never for a dry run, validate, or a stop;
 * and only a file that is still the one the run read, of the size it read (see snapshot.ts): one
 * appended, replaced or touched meanwhile stays for the next run, which imports what was added.
 */
export function archiveDone(o: Pick<ResolvedOptions, 'archive' | 'dryRun' | 'mode'>, r: RunState, day: Date, changedFiles: Changed[]): Archived {
  const { sources, recorder, stop, logger, read } = r;
  const archive = o.archive;
  const done: Archived = { moved: [], kept: [] };
  if (!archive || o.dryRun || o.mode !== 'run') return done;
  const s = stop.outcome;
  if (s.fatal !== undefined || s.aborted !== undefined || s.interrupted) return done;
  for (const { source } of sources) {
    if ((recorder.notWell.get(source.file) ?? 0) > 0) continue;
    const unread = read.leftUnread.find((l) => l.file === source.file);
    const changed = unread?.reason ?? changedFiles.find((c) => c.file === source.file)?.reason;
    if (changed) {
      logger.warn({ file: source.file, reason: changed }, 'not archived: the file is not what the run read; the next run takes it');
      done.kept.push({ file: source.file, reason: changed });
      continue;
    }
    try {
      const to = archiveFile(source.file, archive, day);
      if (to === undefined) {
        const reason = 'the file is gone (moved or deleted by someone else)';
        logger.warn({ file: source.file, reason }, 'not archived');
        done.kept.push({ file: source.file, reason });
        continue;
      }
      recorder.archived(resolve(source.file));
      done.moved.push({ file: source.file, to });
      logger.info({ file: source.file, to }, 'archived');
    } catch (e) {
      logger.error({ file: source.file, err: errorMessage(e) }, 'cannot archive the file: it stays where it is');
      stop.fatal(errorMessage(e));
    }
  }
  return done;
}

export type Changed = { file: string; reason: string };

/**
 * Inputs read to their end that are no longer what the run read (appended, replaced, cut, touched):
 * rows the run did not do may stand in them now, so the run does not exit 0 (the next run does
 * them). One moved or deleted after its rows were read is not among them.
 */
export function changedDuringRun(sources: PlannedSource[], read: ReadOutcome, logger: Logger): Changed[] {
  const out: Changed[] = [];
  for (const { source } of sources) {
    if (!read.rowsPerFile.has(source.file) || read.leftUnread.some((l) => l.file === source.file)) continue;
    const reason = changedSince(source.snapshot);
    if (!reason || /is gone/.test(reason)) continue;
    logger.warn({ file: source.file, reason }, 'the input changed while the run read it: what it holds beyond what was read is for the next run');
    out.push({ file: source.file, reason });
  }
  return out;
}

/** Inputs moved to the archive, and those left where they are with why. */
export interface Archived {
  moved: { file: string; to: string }[];
  kept: { file: string; reason: string }[];
}
