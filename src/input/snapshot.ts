import { createReadStream, statSync, type ReadStream } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { InputError } from '../errors.js';

/**
 * An input as the run first saw it: which file (device and inode, so a file put in its place
 * under the same name is told apart), how many bytes, last modified when. Every read of the run
 * (the header check, the duplicate scan, the dates of the window, the bar's total, the rows)
 * reads these bytes and no others: a file still being appended is read to the size it had, and
 * the archive moves a file only while it is still this one, of this size.
 */
export interface Snapshot {
  file: string;
  dev: number;
  ino: number;
  size: number;
  mtimeMs: number;
}

/** Notes a file's identity (following a symlink to its target). */
export async function takeSnapshot(file: string): Promise<Snapshot> {
  let s: Awaited<ReturnType<typeof stat>>;
  try {
    s = await stat(file);
  } catch (err) {
    throw openError(file, err);
  }
  if (s.isDirectory()) throw new InputError(file, 'is a directory, not a file');
  return { file, dev: s.dev, ino: s.ino, size: s.size, mtimeMs: s.mtimeMs };
}

/** Opens the file the snapshot names, refusing one that is no longer it (replaced, or cut shorter). */
export async function openSnapshot(snap: Snapshot): Promise<FileHandle> {
  let handle: FileHandle;
  try {
    handle = await open(snap.file, 'r');
  } catch (err) {
    throw openError(snap.file, err);
  }
  const now = await handle.stat().catch(async (err: unknown) => {
    await handle.close();
    throw openError(snap.file, err);
  });
  const why = difference(snap, now, false);
  if (why) {
    await handle.close();
    throw new InputError(snap.file, `${why} since the run first read it; it is left for a later run`, { code: 'E_INPUT_CHANGED' });
  }
  return handle;
}

/**
 * A stream of the snapshot's bytes from `start` to `end` (inclusive, clamped to the snapshot's
 * size): bytes appended since are not read. The handle is closed when the stream ends.
 */
export function snapshotStream(
  handle: FileHandle,
  snap: Snapshot,
  options: { start?: number; end?: number; highWaterMark?: number } = {},
): ReadStream | Readable {
  const start = options.start ?? 0;
  const end = Math.min(options.end ?? Infinity, snap.size - 1);
  if (end < start) {
    void handle.close();
    return Readable.from([]);
  }
  return createReadStream('', {
    fd: handle,
    start,
    end,
    autoClose: true,
    ...(options.highWaterMark !== undefined && { highWaterMark: options.highWaterMark }),
  });
}

/** Opens the snapshot's file and streams its bytes. */
export async function readSnapshot(snap: Snapshot, options: { start?: number; end?: number; highWaterMark?: number } = {}): Promise<ReadStream | Readable> {
  return snapshotStream(await openSnapshot(snap), snap, options);
}

/** The snapshot's last `n` bytes (fewer for a shorter file). */
export async function readTail(snap: Snapshot, n: number): Promise<Buffer> {
  const handle = await openSnapshot(snap);
  try {
    const len = Math.min(n, snap.size);
    const buf = Buffer.alloc(len);
    const { bytesRead } = await handle.read(buf, 0, len, snap.size - len);
    return buf.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/** Whether the same file holds more bytes now than the snapshot read. */
export function grewSince(snap: Snapshot): boolean {
  try {
    const now = statSync(snap.file);
    return now.dev === snap.dev && now.ino === snap.ino && now.size > snap.size;
  } catch {
    return false;
  }
}

/**
 * Why the file at the snapshot's path is no longer exactly what the run read (replaced, grown,
 * cut, touched, gone), or undefined when it still is.
 */
export function changedSince(snap: Snapshot): string | undefined {
  let now: ReturnType<typeof statSync>;
  try {
    now = statSync(snap.file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? 'the file is gone (moved or deleted by someone else)' : `the file cannot be looked at (${code ?? 'error'})`;
  }
  return difference(snap, now, true);
}

function difference(snap: Snapshot, now: { dev: number; ino: number; size: number; mtimeMs: number }, exact: boolean): string | undefined {
  if (now.dev !== snap.dev || now.ino !== snap.ino) return 'another file was put in its place';
  if (now.size < snap.size) return `it was cut shorter (${now.size} bytes, was ${snap.size})`;
  if (!exact) return undefined;
  if (now.size > snap.size) return `it grew while the run read it (${now.size} bytes, ${snap.size} read): the rest is imported by the next run`;
  if (now.mtimeMs !== snap.mtimeMs) return 'it was modified while the run read it';
  return undefined;
}

function openError(file: string, err: unknown): InputError {
  const code = (err as NodeJS.ErrnoException).code;
  return new InputError(
    file,
    code === 'ENOENT' ? 'file not found' : code === 'EISDIR' ? 'is a directory, not a file' : `cannot open the file (${code ?? 'error'})`,
    { cause: err },
  );
}
