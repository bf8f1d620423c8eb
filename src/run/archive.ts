import { copyFileSync, existsSync, mkdirSync, renameSync, unlinkSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { WriteError } from '../errors.js';

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
