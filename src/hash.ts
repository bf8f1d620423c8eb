/**
 * Two independent 32-bit hashes of a string over its UTF-16 code units: FNV-1a, and a
 * multiply-xorshift with another seed. One string hash for the whole tool (the key table, the
 * journal's row hash, shards). The results are left in `hashA` and `hashB` rather than returned:
 * this runs for every row, and an array a call is garbage a call.
 */
export let hashA = 0;
export let hashB = 0;

export function hashString(s: string): void {
  let a = 0x811c9dc5;
  let b = 0x9747b28c;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 13;
  }
  hashA = a >>> 0;
  hashB = (b ^ (b >>> 15)) >>> 0;
}
