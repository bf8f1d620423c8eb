/**
 * Runs tasks for one session one after the other, in the order they were queued; tasks for
 * other sessions run freely. Holds only the sessions with queued work.
 */
export class SessionQueue {
  private tails = new Map<string, Promise<unknown>>();

  run<T>(id: string, task: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(id);
    const result = prev ? prev.then(task, task) : task();
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(id, tail);
    void tail.then(() => {
      if (this.tails.get(id) === tail) this.tails.delete(id);
    });
    return result;
  }

  get size(): number {
    return this.tails.size;
  }
}
