/**
 * JSON from the API, parsed so that nothing reaches an object prototype: `__proto__`,
 * `constructor` and `prototype` keys are dropped. An object that lost a key is remembered, so
 * that data the tool does not own is never written back changed (see `hasDroppedKeys`).
 */
const UNSAFE = new Set(['__proto__', 'constructor', 'prototype']);
const lostKeys = new WeakSet<object>();

export function parseJsonSafe(text: string): unknown {
  // the reviver costs a call a value: only text that names such a key (or could, by a \u escape) needs it
  if (!text.includes('__proto__') && !text.includes('constructor') && !text.includes('prototype') && !text.includes('\\u')) return JSON.parse(text);
  return JSON.parse(text, function (this: object, key: string, value: unknown) {
    if (UNSAFE.has(key)) {
      lostKeys.add(this);
      return undefined;
    }
    return value;
  });
}

/** True when `value`, or anything inside it, had keys dropped by `parseJsonSafe`. */
export function hasDroppedKeys(value: unknown, depth = 0): boolean {
  if (value === null || typeof value !== 'object' || depth > 64) return false;
  if (lostKeys.has(value)) return true;
  for (const v of Array.isArray(value) ? value : Object.values(value)) if (hasDroppedKeys(v, depth + 1)) return true;
  return false;
}
