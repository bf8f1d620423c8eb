import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { finished } from 'node:stream/promises';

/** Lines are handed to the stream in chunks of about this many characters. */
const FLUSH_AT = 64 * 1024;

/**
 * A report file written a line at a time but handed to its stream in 64 KiB chunks: a stream
 * write a line (each one a Buffer, each batch a writev) cost more than the row's own work.
 * `flush()` hands over what waits; the writer calls it at least once a second, so a file follows
 * the run.
 */
export class LineFile {
  private readonly stream: WriteStream;
  private pending = '';
  private broken = false;

  constructor(
    readonly path: string,
    onError: (e: Error) => void,
    append = false,
  ) {
    // a large buffer: the reader waits on a full one
    this.stream = createWriteStream(path, { highWaterMark: 1 << 20, flags: append ? 'a' : 'w' });
    this.stream.on('error', (e) => {
      this.broken = true;
      onError(e);
    });
  }

  /** Adds a line; returns a promise only when the caller should wait for the stream to drain. */
  add(line: string): Promise<void> | undefined {
    if (this.broken) return undefined;
    this.pending += line;
    if (this.pending.length < FLUSH_AT || this.flush()) return undefined;
    return once(this.stream, 'drain').then(
      () => undefined,
      // the error listener has recorded it
      () => undefined,
    );
  }

  /** Hands the waiting lines to the stream; false when its buffer is full. */
  flush(): boolean {
    if (this.pending === '' || this.broken) return true;
    const ok = this.stream.write(this.pending);
    this.pending = '';
    return ok;
  }

  /** Flushes and closes; never throws (a failure went to `onError`). */
  async close(): Promise<void> {
    this.flush();
    this.stream.end();
    try {
      await finished(this.stream);
    } catch {
      // the error listener has recorded it
    }
  }
}
