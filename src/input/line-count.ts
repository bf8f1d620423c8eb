import { readSnapshot, type Snapshot } from './snapshot.js';

/** Line breaks (outside quotes, with `quotes`: `"` toggles), LF counted (CR for old Mac files without LF). */
export async function countLines(snap: Snapshot, quotes: boolean): Promise<number> {
  let lf = 0;
  let cr = 0;
  let quoted = false;
  let last = 0;
  // 1 MiB reads, but no larger than the file: a folder of small exports does not allocate a MiB each
  const highWaterMark = Math.min(1 << 20, Math.max(1 << 16, snap.size));
  for await (const chunk of (await readSnapshot(snap, { highWaterMark })) as AsyncIterable<Buffer>) {
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i]!;
      if (b === 0x22 && quotes) quoted = !quoted;
      else if (!quoted) {
        if (b === 0x0a) lf++;
        else if (b === 0x0d) cr++;
      }
    }
    if (chunk.length > 0) last = chunk[chunk.length - 1]!;
  }
  const lines = lf > 0 ? lf : cr;
  // a last line without its line break still counts
  return last === 0x0a || last === 0x0d ? lines : lines + 1;
}
