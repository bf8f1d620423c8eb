/**
 * What this run last wrote to each session, kept only while some row in flight may have
 * searched before that write finished (its search answer could predate the write). A dry run
 * keeps every write (`keepAll`): the server never sees them, so no later search answer holds them.
 */
export class WrittenState {
  constructor(private readonly keepAll = false) {}
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

  /** A row that uses the answer of a search made at `mark` (still held by a row in flight). */
  join(mark: number): number {
    this.active.set(mark, (this.active.get(mark) ?? 0) + 1);
    return mark;
  }

  get(id: string): Record<string, unknown> | undefined {
    return this.written.get(id)?.meta;
  }

  set(id: string, meta: Record<string, unknown>): void {
    const at = ++this.clock;
    this.written.set(id, { at, meta });
    if (!this.keepAll) this.log.push({ at, id });
  }

  done(mark: number): void {
    const n = (this.active.get(mark) ?? 1) - 1;
    if (n === 0) this.active.delete(mark);
    else this.active.set(mark, n);
    if (this.keepAll) return;
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
