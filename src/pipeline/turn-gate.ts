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
