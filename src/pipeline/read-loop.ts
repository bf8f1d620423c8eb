import { resolve } from 'node:path';
import { EtError, errorMessage } from '../errors.js';
import { cellText } from '../input/cell.js';
import { openRows } from '../input/open-rows.js';
import type { RowSource, SourceRow } from '../input/types.js';
import type { Logger } from '../logger.js';
import type { Mapping } from '../mapping/types.js';
import type { ResumeIndex } from '../state/journal.js';
import { rowHash } from './hash.js';
import { classifyRow, type Classified, type FileKeys } from './classify.js';
import { KeyTable } from './key-table.js';
import { duplicateKey, keyCellText, mapRow, rowKeys } from './mapper.js';
import { processResumed, processRow, type RowContext } from './process-row.js';
import type { DuplicateKeys, RowAt, RowSink, StopState } from './row.js';
import type { PlannedSource } from './sources.js';

export interface ReadContext {
  sources: PlannedSource[];
  mapping: Mapping;
  /** Absent when validating: rows end at `valid`. */
  rows: RowContext | undefined;
  sink: RowSink;
  stop: StopState;
  resume: ResumeIndex | undefined;
  logger: Logger;
  concurrency: number;
  /** Rows in flight the reader allows (default 2 x concurrency): more in index mode, where rows wait for their page. */
  lookAhead?: number;
  /** Called with the rows in flight, to wait for them at the end (bounded by the caller). */
  settle: (inflight: Set<Promise<void>>) => Promise<void>;
  shard: { index: number; count: number } | undefined;
}

export interface ReadOutcome {
  rowsPerFile: Map<string, number>;
  duplicates: DuplicateKeys;
  /** Rows of other shards, read and left alone. */
  notInShard: number;
  /** Inputs replaced since the header check: not read, left for a later run. */
  leftUnread: { file: string; reason: string }[];
}

/**
 * Reads every input row by row and hands each row on: recorded at once, or processed with at
 * most `concurrency` rows in flight while the reader waits, so memory stays flat on any file.
 * Only the reading itself can blame the input.
 */
export function emptyOutcome(): ReadOutcome {
  return { rowsPerFile: new Map(), duplicates: { rows: 0, examples: [] }, notInShard: 0, leftUnread: [] };
}

/** `out` fills as rows are read, so that progress can follow it. */
export async function readAll(ctx: ReadContext, out: ReadOutcome = emptyOutcome()): Promise<ReadOutcome> {
  const inflight = new InFlight();
  let rowsBefore = 0;
  for (const ps of ctx.sources) {
    if (ctx.stop.stopping) break;
    const n = await readFile(ctx, ps, out, inflight, rowsBefore === 0);
    out.rowsPerFile.set(ps.source.file, n);
    rowsBefore += n;
  }
  // rows waiting for their listing page go now: nothing more will join them
  ctx.rows?.fresh?.inputDone();
  await ctx.settle(inflight.tasks);
  return out;
}

async function readFile(ctx: ReadContext, ps: PlannedSource, out: ReadOutcome, inflight: InFlight, firstRows: boolean): Promise<number> {
  let source: RowSource;
  try {
    source = await ps.open();
  } catch (e) {
    // replaced or cut since the header check: nothing of it is read, a later run takes it
    if (e instanceof EtError && e.code === 'E_INPUT_CHANGED') {
      ctx.logger.warn({ file: ps.source.file, err: e.message }, 'the input changed after the run first read it: left for a later run');
      out.leftUnread.push({ file: ps.source.file, reason: e.message });
      return 0;
    }
    inputBroke(ctx, ps.source.file, e, 0, firstRows);
    return 0;
  }
  try {
    return await readRows(ctx, ps, source, out, inflight, firstRows);
  } finally {
    await source.close();
  }
}

async function readRows(ctx: ReadContext, ps: PlannedSource, source: RowSource, out: ReadOutcome, inflight: InFlight, firstRows: boolean): Promise<number> {
  const absFile = resolve(source.file);
  const sheet = source.format === 'xlsx' ? String(source.details.sheet) : undefined;
  const keys: FileKeys = { seen: new KeyTable(), lastRows: undefined, duplicates: out.duplicates, policy: ctx.mapping.match.duplicates };
  // match.duplicates: last needs to know each key's last row before the first write
  if (keys.policy === 'last') {
    try {
      keys.lastRows = await lastRowPerKey(source, ctx.mapping, ps);
    } catch (e) {
      inputBroke(ctx, source.file, e, 0, firstRows);
      return 0;
    }
  }
  const batches = source.batches[Symbol.asyncIterator]();
  let n = 0;
  for (;;) {
    if (ctx.stop.stopping) break;
    let next: IteratorResult<Iterable<SourceRow>>;
    try {
      next = await batches.next();
    } catch (e) {
      inputBroke(ctx, source.file, e, n, firstRows);
      break;
    }
    if (next.done) break;
    for (const row of next.value) {
      // stopping: the rows not dispatched are left to --resume, and not counted as read
      if (ctx.stop.stopping) break;
      n++;
      // most rows are handed on without a promise: only a wait (queue full, report draining) makes one
      let handed = dispatch(ctx, ps, row, absFile, sheet, keys, inflight);
      if (typeof handed !== 'boolean') handed = await handed;
      if (!handed) out.notInShard++;
    }
  }
  return n;
}

/** The file broke off: what was read is reported. Nothing read yet is a file refused (exit 3). */
function inputBroke(ctx: ReadContext, file: string, e: unknown, n: number, firstRows: boolean): void {
  const message = errorMessage(e);
  ctx.logger.error({ file, rowsRead: n, err: message }, 'the input could not be read to the end');
  if (n === 0 && firstRows) ctx.stop.fatal(`${message} (no row of it could be read)`);
  else ctx.stop.abort(`${message} (after ${n} row${n === 1 ? '' : 's'} of it)`);
  if (!(e instanceof EtError)) ctx.logger.debug({ stack: e instanceof Error ? e.stack : String(e) }, 'input error');
}

/** Hands one row on; false for a row of another shard. A promise only when the reader must wait. */
function dispatch(
  ctx: ReadContext,
  ps: PlannedSource,
  row: SourceRow,
  absFile: string,
  sheet: string | undefined,
  keys: FileKeys,
  inflight: InFlight,
): boolean | Promise<boolean> {
  const mapped = mapRow(ctx.mapping, ps.plan, row, ps.source.file, sheet);
  // one key: the same hash as before match.keys existed, so older journals still resume
  // the journal's hash: validate keeps no journal
  const hash = !ctx.rows
    ? ''
    : mapped.ok
      ? rowHash([mapped.value.keys.length === 1 ? mapped.value.key : mapped.value.keys.map((k) => k.key), mapped.value.values])
      : rowHash(row.cells.map(cellText));
  const at: RowAt = { file: ps.source.file, absFile, header: ps.source.header, row, hash };
  const c = classifyRow(mapped, at, keys, ctx.resume, ctx.rows === undefined, mapped.ok ? mapped.value.key : keyCellText(row, ps.plan), ctx.shard);
  if (c.kind === 'outside') return false;
  if (c.kind === 'record' || !ctx.rows) {
    const wait = c.kind === 'record' ? ctx.sink.record(c.result, at) : undefined;
    return wait ? wait.then(() => true) : true;
  }
  const rc = ctx.rows;
  // the reader waits while enough work is queued: memory stays flat on any file size
  const ahead = ctx.lookAhead ?? ctx.concurrency * 2;
  if (inflight.tasks.size < ahead) return start(rc, inflight, c, at);
  return (async () => {
    while (inflight.tasks.size >= ahead) await inflight.oneDone();
    return ctx.stop.stopping ? true : start(rc, inflight, c, at);
  })();
}

/** Puts a row that needs the API in flight, in its turn. */
function start(rc: RowContext, inflight: InFlight, c: Extract<Classified, { kind: 'work' | 'resumed' }>, at: RowAt): true {
  const ticket = rc.ticket();
  inflight.add(c.kind === 'resumed' ? processResumed(rc, at, c.mapped, ticket, c.earlier) : processRow(rc, at, c.mapped, ticket));
  return true;
}

/** The rows in flight, and the reader's wake-up when one ends. */
class InFlight {
  readonly tasks = new Set<Promise<void>>();
  private wake: (() => void) | undefined;

  add(task: Promise<void>): void {
    this.tasks.add(task);
    const done = () => {
      this.tasks.delete(task);
      const wake = this.wake;
      this.wake = undefined;
      wake?.();
    };
    void task.then(done, done);
  }

  /** Resolves when a row in flight ends (a race over the tasks would add a reaction to each of them, a row each). */
  oneDone(): Promise<void> {
    return new Promise((resolve) => (this.wake = resolve));
  }
}

/** A first pass over a file: the last row of each key (rows with an unusable key are left out). */
async function lastRowPerKey(source: RowSource, mapping: Mapping, ps: PlannedSource): Promise<KeyTable> {
  const table = new KeyTable();
  // the same bytes as the rows: a row appended meanwhile is neither read nor a reason to skip one
  const again = await openRows(source.file, mapping.input, source.snapshot);
  try {
    for await (const row of again.rows) {
      const keys = rowKeys(mapping, ps.plan, row);
      if (keys.ok) table.set(duplicateKey(keys.value[0]!), row.row);
    }
  } finally {
    await again.close();
  }
  return table;
}
