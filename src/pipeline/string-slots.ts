import { hashString } from './hash.js';

/**
 * Exact key values to the index slots holding them, for a million-session window: an open
 * addressing table over flat typed arrays, the key text kept once as UTF-8 bytes and compared
 * in full on every lookup (a hash alone could, however rarely, send a row to another session).
 * About 40 bytes a key outside the JS heap, where a Map of strings costs ~90 on it, with the
 * garbage collector's headroom on top.
 */
export class StringSlots {
  /** Entry number + 1 at each position of the table; 0 is free. */
  private table = new Int32Array(1 << 12);
  /** Per entry: its hash, where its bytes start (the next entry's start ends them), its slot. */
  private hashes = new Uint32Array(1 << 11);
  private starts = new Uint32Array((1 << 11) + 1);
  /** A slot (>= 0), or -1 - n for `lists[n]`: the few keys that several sessions share. */
  private values = new Int32Array(1 << 11);
  private bytes = new Uint8Array(1 << 16);
  private readonly lists: number[][] = [];
  private scratch = new Uint8Array(256);
  private scratchLength = 0;
  private readonly encoder = new TextEncoder();
  /** The hash of the key `find` looked for last. */
  private lastHash = 0;
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** The slot, or slots, `key` maps to. */
  get(key: string): number | number[] | undefined {
    const entry = this.table[this.find(key)]!;
    if (entry === 0) return undefined;
    const v = this.values[entry - 1]!;
    return v >= 0 ? v : this.lists[-1 - v];
  }

  set(key: string, slots: number | number[]): void {
    const at = this.find(key);
    let entry = this.table[at]!;
    if (entry === 0) entry = this.table[at] = this.append();
    const i = entry - 1;
    if (typeof slots === 'number') {
      this.values[i] = slots;
    } else {
      const v = this.values[i]!;
      if (v < 0) this.lists[-1 - v] = [...slots];
      else {
        this.values[i] = -1 - this.lists.length;
        this.lists.push([...slots]);
      }
    }
    if (this.count * 2 > this.table.length) this.grow();
  }

  /** The table position of `key`: its entry, or the free position it would take. Leaves its bytes in `scratch`. */
  private find(key: string): number {
    this.encode(key);
    const h = hashString(key).a;
    const mask = this.table.length - 1;
    for (let p = h & mask; ; p = (p + 1) & mask) {
      const entry = this.table[p]!;
      if (entry === 0 || (this.hashes[entry - 1] === h && this.sameBytes(entry - 1))) {
        this.lastHash = h;
        return p;
      }
    }
  }

  /** Adds the entry `find` just looked for; returns its number + 1. */
  private append(): number {
    const i = this.count++;
    if (i + 1 >= this.hashes.length) {
      this.hashes = grown(this.hashes, this.hashes.length * 2);
      this.values = grown(this.values, this.values.length * 2);
      this.starts = grown(this.starts, this.starts.length * 2);
    }
    const start = this.starts[i]!;
    if (start + this.scratchLength > this.bytes.length) this.bytes = grown(this.bytes, Math.max(this.bytes.length * 2, start + this.scratchLength));
    this.bytes.set(this.scratch.subarray(0, this.scratchLength), start);
    this.starts[i + 1] = start + this.scratchLength;
    this.hashes[i] = this.lastHash;
    return i + 1;
  }

  private sameBytes(i: number): boolean {
    const start = this.starts[i]!;
    if (this.starts[i + 1]! - start !== this.scratchLength) return false;
    for (let j = 0; j < this.scratchLength; j++) if (this.bytes[start + j] !== this.scratch[j]) return false;
    return true;
  }

  private encode(key: string): void {
    // UTF-8 takes at most 3 bytes a UTF-16 code unit
    if (key.length * 3 > this.scratch.length) this.scratch = new Uint8Array(key.length * 3);
    this.scratchLength = this.encoder.encodeInto(key, this.scratch).written;
  }

  private grow(): void {
    this.table = new Int32Array(this.table.length * 2);
    const mask = this.table.length - 1;
    for (let i = 0; i < this.count; i++) {
      let p = this.hashes[i]! & mask;
      while (this.table[p] !== 0) p = (p + 1) & mask;
      this.table[p] = i + 1;
    }
  }
}

/** A copy of `a` in a typed array of `length` (the rest zero: untouched pages cost no memory). */
export function grown<T extends Uint8Array | Uint32Array | Int32Array>(a: T, length: number): T {
  const b = new (a.constructor as new (n: number) => T)(length);
  b.set(a);
  return b;
}
