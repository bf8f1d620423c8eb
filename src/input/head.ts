import { open } from 'node:fs/promises';
import { InputError } from '../errors.js';

/** The first `bytes` bytes of a file (fewer if it is shorter), with a clear error when it cannot be opened. */
export async function readHead(file: string, bytes: number): Promise<Buffer> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(file, code === 'ENOENT' ? 'file not found' : code === 'EISDIR' ? 'is a directory, not a file' : `cannot open the file (${code ?? 'error'})`, { cause: err });
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
