import { open, type FileHandle } from 'node:fs/promises';
import { InputError } from '../errors.js';
import { openSnapshot, type Snapshot } from './snapshot.js';

/**
 * The first `bytes` bytes of a file (fewer if it is shorter), with a clear error when it cannot
 * be opened. With a snapshot, of the file the run first saw, and never past its size.
 */
export async function readHead(file: string, bytes: number, snap?: Snapshot): Promise<Buffer> {
  let handle: FileHandle;
  if (snap) {
    handle = await openSnapshot(snap);
    bytes = Math.min(bytes, snap.size);
  } else {
    try {
      handle = await open(file, 'r');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new InputError(
        file,
        code === 'ENOENT' ? 'file not found' : code === 'EISDIR' ? 'is a directory, not a file' : `cannot open the file (${code ?? 'error'})`,
        { cause: err },
      );
    }
  }
  try {
    const buf = Buffer.alloc(bytes);
    const { bytesRead } = await handle.read(buf, 0, bytes, 0);
    return buf.subarray(0, bytesRead);
  } catch (err) {
    // reading a directory fails here on some systems rather than at open
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(file, code === 'EISDIR' ? 'is a directory, not a file' : `cannot read the file (${code ?? 'error'})`, { cause: err });
  } finally {
    await handle.close();
  }
}
