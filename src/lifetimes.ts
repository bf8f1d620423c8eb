/**
 * What a run holds open (sources, the lock, the report, the journal, the client), closed in the
 * reverse order it was taken, every one even when another fails, once: `await using` on Node 20,
 * whose runtime has Symbol.asyncDispose but not AsyncDisposableStack (Node 24 has it; this is the
 * part of it the run uses). A close that fails is rethrown once all have run.
 */
export class Lifetimes implements AsyncDisposable {
  private readonly stack: (() => unknown)[] = [];

  /** Runs `close` when the scope ends, before everything deferred earlier. */
  defer(close: () => unknown): void {
    this.stack.push(close);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    let first: { error: unknown } | undefined;
    while (this.stack.length > 0) {
      try {
        await this.stack.pop()!();
      } catch (e) {
        first ??= { error: e };
      }
    }
    if (first) throw first.error;
  }
}
