/**
 * Lets rows take their turn in file order: a row may go on only once every earlier row has
 * passed. Rows pass as soon as they have queued their write (or learnt they have none), so
 * the wait is short; memory holds only the rows in flight.
 */
export class TurnGate {
  private next = 0;
  private passed = new Set<number>();
  private waiting = new Map<number, () => void>();
  private issued = 0;

  /** A ticket for the next row, in the order rows are read. */
  ticket(): number {
    return this.issued++;
  }

  /** Resolves when every earlier ticket has passed. */
  turn(ticket: number): Promise<void> {
    if (ticket <= this.next) return Promise.resolve();
    return new Promise((resolve) => this.waiting.set(ticket, resolve));
  }

  pass(ticket: number): void {
    if (ticket < this.next || this.passed.has(ticket)) return;
    this.passed.add(ticket);
    while (this.passed.has(this.next)) {
      this.passed.delete(this.next);
      this.next++;
    }
    const wake = this.waiting.get(this.next);
    if (wake) {
      this.waiting.delete(this.next);
      wake();
    }
  }
}

/**
 * What this run last wrote to each session, kept only while some row in flight may have
 * searched before that write finished (its search answer could predate the write).
 */
export class WrittenState {
  private clock = 0;
  private written = new Map<string, { at: number; meta: Record<string, unknown> }>();
  private log: { at: number; id: string }[] = [];
  private active = new Map<number, number>();

  /** Call before a row's search; returns the mark to hand back to `done`. */
  begin(): number {
    const mark = this.clock;
    this.active.set(mark, (this.active.get(mark) ?? 0) + 1);
    return mark;
  }

  get(id: string): Record<string, unknown> | undefined {
    return this.written.get(id)?.meta;
  }

  set(id: string, meta: Record<string, unknown>): void {
    const at = ++this.clock;
    this.written.set(id, { at, meta });
    this.log.push({ at, id });
  }

  done(mark: number): void {
    const n = (this.active.get(mark) ?? 1) - 1;
    if (n === 0) this.active.delete(mark);
    else this.active.set(mark, n);
    // a write no row in flight searched before is visible to every later search: forget it
    let oldest = this.clock;
    for (const m of this.active.keys()) if (m < oldest) oldest = m;
    let drop = 0;
    while (drop < this.log.length && this.log[drop]!.at <= oldest) {
      const { at, id } = this.log[drop]!;
      if (this.written.get(id)?.at === at) this.written.delete(id);
      drop++;
    }
    if (drop > 0) this.log.splice(0, drop);
  }

  get size(): number {
    return this.written.size;
  }
}
