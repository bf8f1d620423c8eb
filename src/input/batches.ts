import type { Readable } from 'node:stream';
import type { SourceRow } from './types.js';

/**
 * What an object-mode stream holds, taken a batch at a time: the records already parsed are read
 * without a promise and a tick each (a stream's async iterator costs both a record), and the
 * generator waits only when the stream is empty. Ends when the stream ends or is destroyed;
 * throws the stream's error.
 */
export async function* readBatches<T>(stream: Readable, max = 1024): AsyncGenerator<T[]> {
  // listeners for the whole read: an error between two pulls (the stream keeps it in `errored`)
  // is thrown by the next pull, never as an unhandled 'error' event
  let wake: (() => void) | undefined;
  const onEvent = () => wake?.();
  stream.on('error', onEvent);
  stream.on('readable', onEvent);
  stream.on('end', onEvent);
  stream.on('close', onEvent);
  try {
    for (;;) {
      const batch: T[] = [];
      while (batch.length < max) {
        const r = stream.read() as T | null;
        if (r === null) break;
        batch.push(r);
      }
      if (batch.length > 0) {
        yield batch;
        continue;
      }
      if (stream.errored) throw stream.errored;
      if (stream.readableEnded || stream.destroyed) return;
      await new Promise<void>((resolve) => (wake = resolve));
      wake = undefined;
    }
  } finally {
    stream.off('readable', onEvent);
    stream.off('end', onEvent);
    stream.off('close', onEvent);
    // an error after the last pull (a destroy racing the end) has nowhere to go: keep it quiet
    stream.off('error', onEvent);
    stream.on('error', () => {});
  }
}

/** The rows of a source's batches one by one, for readers that are not on the hot path. */
export async function* eachRow(batches: AsyncIterable<Iterable<SourceRow>>): AsyncGenerator<SourceRow> {
  for await (const batch of batches) yield* batch;
}
