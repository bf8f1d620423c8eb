import { type FileHandle, open } from 'node:fs/promises';
import { dirname } from 'node:path';
import { mkdirSync } from 'node:fs';
import { WriteError } from '../errors.js';

/**
 * A JSON Lines file whose every line is on disk when `write` resolves: the lines that arrive
 * while one batch is written and fsynced wait for the next, so many rows in flight share one
 * fsync (group commit) and none is told "durable" before its bytes are. A write that fails
 * (full disk) rejects with a WriteError naming the file, and so does every later one.
 */
export class WriteAheadLog {
  private pending: string[] = [];
  private waiting: { resolve: () => void; reject: (e: WriteError) => void }[] = [];
  private flushing: Promise<void> | undefined;
  private broken: WriteError | undefined;
  /** Lines made durable so far. */
  lines = 0;

  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
  ) {}

  /** Opens `path` for appending (creating it and its folder). */
  static async open(path: string): Promise<WriteAheadLog> {
    try {
      mkdirSync(dirname(path), { recursive: true });
      return new WriteAheadLog(path, await open(path, 'a'));
    } catch (e) {
      throw new WriteError(path, e);
    }
  }

  /** Resolves once the line is written and fsynced. */
  write(entry: object): Promise<void> {
    if (this.broken) return Promise.reject(this.broken);
    this.pending.push(`${JSON.stringify(entry)}\n`);
    const durable = new Promise<void>((resolve, reject) => this.waiting.push({ resolve, reject }));
    this.kick();
    return durable;
  }

  private kick(): void {
    if (this.flushing || this.pending.length === 0) return;
    this.flushing = this.drain().finally(() => {
      this.flushing = undefined;
      this.kick();
    });
  }

  private async drain(): Promise<void> {
    const text = this.pending.join('');
    const waiting = this.waiting;
    this.pending = [];
    this.waiting = [];
    try {
      if (this.broken) throw this.broken;
      await this.handle.write(text);
      await this.handle.datasync();
      this.lines += waiting.length;
      for (const w of waiting) w.resolve();
    } catch (e) {
      this.broken ??= e instanceof WriteError ? e : new WriteError(this.path, e);
      for (const w of waiting) w.reject(this.broken);
    }
  }

  /** Waits for the lines in hand, then closes; never throws (a failed line was rejected to its writer). */
  async close(): Promise<void> {
    while (this.flushing) await this.flushing;
    await this.handle.close().catch(() => undefined);
  }
}
