import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { parseMapping } from '../../src/mapping/load.js';
import { type ReadContext, readAll } from '../../src/pipeline/read-loop.js';
import type { RowAt } from '../../src/pipeline/row.js';
import { openSources } from '../../src/pipeline/sources.js';
import type { RowResult } from '../../src/row-result.js';
import { tempDir } from '../helpers/sandbox.js';

const mapping = parseMapping('match: { column: Call ID }\nfields: { csi: { column: CSAT, type: integer, max: 5 } }\n', 'm.yaml');

/** A stop as the pipeline sees it, recording what it was told. */
function stopState() {
  const told: string[] = [];
  return {
    told,
    stopping: false,
    fatal(reason: string) {
      told.push(`fatal: ${reason}`);
      this.stopping = true;
    },
    abort(reason: string) {
      told.push(`abort: ${reason}`);
      this.stopping = true;
    },
  };
}

/** Validates the files (no API: every row ends at the sink), with `onRow` told of each. */
async function validate(
  texts: Record<string, string>,
  o: { onRow?: (r: RowResult, n: number, stop: ReturnType<typeof stopState>) => Promise<void> | undefined; shard?: ReadContext['shard'] } = {},
) {
  const dir = tempDir();
  const files = Object.entries(texts).map(([name, text]) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  });
  const { sources } = await openSources(files, mapping);
  const stop = stopState();
  const recorded: string[] = [];
  const ctx: ReadContext = {
    sources,
    mapping,
    rows: undefined,
    sink: {
      record: (r: RowResult, at: RowAt) => {
        recorded.push(`${at.file.split('/').pop()}:${r.row} ${r.key} ${r.status}`);
        return o.onRow?.(r, recorded.length, stop);
      },
    },
    stop,
    resume: undefined,
    logger: createLogger('silent'),
    concurrency: 2,
    settle: async () => {},
    shard: o.shard,
  };
  try {
    const out = await readAll(ctx);
    return { out, recorded, stop };
  } finally {
    await Promise.all(sources.map((s) => s.close()));
  }
}

describe('readAll', () => {
  it('hands every row of every file on once, in file order, counting rows and repeated keys', async () => {
    const { out, recorded, stop } = await validate({
      'a.csv': 'Call ID,CSAT\nK1,1\nK2,9\nK1,3\n',
      'b.csv': 'Call ID,CSAT\nK3,2\n\nK4,4\n',
    });
    expect(recorded).toEqual(['a.csv:2 K1 valid', 'a.csv:3 K2 invalid', 'a.csv:4 K1 valid', 'b.csv:2 K3 valid', 'b.csv:4 K4 valid']);
    expect([...out.rowsPerFile.values()]).toEqual([3, 2]);
    expect(out.duplicates).toMatchObject({ rows: 1, examples: [{ key: 'K1', rows: [2, 4] }] });
    expect(stop.told).toEqual([]);
  });

  it('waits while the sink asks it to, and keeps the order', async () => {
    const rows = Array.from({ length: 50 }, (_, i) => `K${i},1`).join('\n');
    const { recorded } = await validate(
      { 'a.csv': `Call ID,CSAT\n${rows}\n` },
      { onRow: (_r, n) => (n % 7 === 0 ? new Promise((resolve) => setImmediate(resolve)) : undefined) },
    );
    expect(recorded.map((r) => r.split(' ')[1])).toEqual(Array.from({ length: 50 }, (_, i) => `K${i}`));
  });

  it('a stop ends the reading: the rows after it are not handed on, nor counted as read', async () => {
    const rows = Array.from({ length: 20 }, (_, i) => `K${i},1`).join('\n');
    const { recorded, out, stop } = await validate(
      { 'a.csv': `Call ID,CSAT\n${rows}\n`, 'b.csv': 'Call ID,CSAT\nK99,1\n' },
      {
        onRow: (_r, n, s) => {
          if (n === 5) s.abort('enough');
          return undefined;
        },
      },
    );
    expect(stop.told).toEqual(['abort: enough']);
    expect(recorded).toHaveLength(5);
    expect([...out.rowsPerFile.values()]).toEqual([5]);
  });

  it('a file that breaks off after rows were handed on aborts the run, saying how many; one that breaks before any is fatal', async () => {
    // more than one read's worth of rows, then a quote that never closes
    const rows = Array.from({ length: 20_000 }, (_, i) => `K${i},1`).join('\n');
    const late = await validate({ 'a.csv': `Call ID,CSAT\n${rows}\n"K-broken,3\nK-after,4\n` });
    const n = late.recorded.length;
    expect(n).toBeGreaterThan(0);
    expect(late.recorded.slice(0, 2)).toEqual(['a.csv:2 K0 valid', 'a.csv:3 K1 valid']);
    expect(late.stop.told).toEqual([expect.stringMatching(new RegExp(`^abort: .*\\(after ${n} rows of it\\)$`))]);
    expect([...late.out.rowsPerFile.values()]).toEqual([n]);
    const early = await validate({ 'a.csv': 'Call ID,CSAT\nK1,1\n"K2,2\nK3,3\n' });
    expect(early.stop.told).toEqual([expect.stringMatching(/^fatal: .* \(no row of it could be read\)$/)]);
  });

  it('a shard hands on only its own rows and counts the others', async () => {
    const rows = Array.from({ length: 40 }, (_, i) => `K${i},1`).join('\n');
    const text = `Call ID,CSAT\n${rows}\n`;
    const one = await validate({ 'a.csv': text }, { shard: { index: 1, count: 2 } });
    const two = await validate({ 'a.csv': text }, { shard: { index: 2, count: 2 } });
    expect(one.recorded.length + two.recorded.length).toBe(40);
    expect(one.out.notInShard).toBe(two.recorded.length);
    expect(one.recorded.length).toBeGreaterThan(0);
    expect(two.recorded.length).toBeGreaterThan(0);
  });
});
