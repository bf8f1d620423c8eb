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

/**
 * 64 bits that tell a row's values from any edit of them: the tool's two 32-bit string hashes over
 * the JSON text, a tenth of a sha256's cost a row. Not a defence against a forger, which a journal
 * of one's own rows does not need.
 */
export function rowHash(value: unknown): string {
  const { a, b } = hashString(JSON.stringify(value) ?? '');
  return a.toString(16).padStart(8, '0') + b.toString(16).padStart(8, '0');
}
