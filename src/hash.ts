/** Two independent 32-bit hashes of a string. */
export interface StringHash {
  a: number;
  b: number;
}

/**
 * Two independent 32-bit hashes of a string over its UTF-16 code units: FNV-1a, and a
 * multiply-xorshift with another seed. One string hash for the whole tool (the key table, the
 * journal's row hash, shards); the journal's row hashes depend on it staying exactly this.
 */
export function hashString(s: string): StringHash {
  let a = 0x811c9dc5;
  let b = 0x9747b28c;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 13;
  }
  return { a: a >>> 0, b: (b ^ (b >>> 15)) >>> 0 };
}
