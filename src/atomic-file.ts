import { closeSync, fsyncSync, openSync, renameSync, writeSync } from 'node:fs';
import { WriteError } from './errors.js';

/**
 * Replaces a file whole: the text goes to a file beside it, is fsynced, and is renamed into place,
 * so a crash leaves the old text or the new one, never half of one. A failure is a WriteError naming the file.
 */
export function writeAtomically(path: string, text: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    const fd = openSync(tmp, 'w');
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    throw new WriteError(path, e);
  }
}
