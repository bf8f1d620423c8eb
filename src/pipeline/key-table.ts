import { hashString } from './hash.js';

/**
 * Keys seen in one file, with the row each was last seen on, in flat typed arrays (12 bytes a
 * slot) rather than a Map of strings: a million distinct keys cost ~25 MB, not ~100 MB.
 * Keys are told apart by two independent 32-bit hashes (a false match needs both to collide).
 * Why not StringSlots, which compares the key text itself: this table never chooses a session,
 * it counts a file's repeated keys and finds each key's last row (match.duplicates: last), and a
 * false match there (both hashes colliding: about 3 in 10^8 for a file of a million distinct keys)
 * would at worst skip one row as superseded, reported as such; the key texts would double its memory.
 */
export class KeyTable {
  // one table a file: a drop folder of thousands of one-row files pays for 16 slots each, not 4,096
  private h1 = new Uint32Array(1 << 4);
  private h2 = new Uint32Array(1 << 4);
  private rows = new Int32Array(1 << 4);
  private used = 0;

  /** Records `row` for `key`; returns the row the key was seen on before, or 0. */
  set(key: string, row: number): number {
    const { a, b } = hashString(key);
    const i = this.find(a, b);
    const prev = this.rows[i]!;
    if (prev === 0) {
      this.h1[i] = a;
      this.h2[i] = b;
      this.used++;
    }
    this.rows[i] = row;
    if (prev === 0 && this.used * 2 > this.rows.length) this.grow();
    return prev;
  }

  /** The row last recorded for `key`, or 0. */
  get(key: string): number {
    const { a, b } = hashString(key);
    return this.rows[this.find(a, b)]!;
  }

  get size(): number {
    return this.used;
  }

  private find(a: number, b: number): number {
    const mask = this.rows.length - 1;
    for (let i = (a ^ (b >>> 7)) & mask; ; i = (i + 1) & mask) {
      if (this.rows[i] === 0 || (this.h1[i] === a && this.h2[i] === b)) return i;
    }
  }

  private grow(): void {
    const [h1, h2, rows] = [this.h1, this.h2, this.rows];
    this.h1 = new Uint32Array(rows.length * 2);
    this.h2 = new Uint32Array(rows.length * 2);
    this.rows = new Int32Array(rows.length * 2);
    for (let j = 0; j < rows.length; j++) {
      if (rows[j] === 0) continue;
      const i = this.find(h1[j]!, h2[j]!);
      this.h1[i] = h1[j]!;
      this.h2[i] = h2[j]!;
      this.rows[i] = rows[j]!;
    }
  }
}
