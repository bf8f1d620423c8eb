import type { FieldSpec, MetadataValue } from '../mapping/types.js';

export interface MergeResult {
  /** What to PUT: the mapped keys with their merged values (keys kept by `keep` are left out). */
  body: Record<string, unknown>;
  /** Keys whose value on the session would change. Empty: the row is `unchanged`. */
  changed: string[];
}

/**
 * Merges a row's values into what the session holds, per field policy. Pure.
 * - replace: the row's value;
 * - append: the session's items first, then each new item not already there (so running the
 *   same file twice changes nothing);
 * - keep: the row's value only when the session has none (missing, null, empty).
 */
export function mergeMetadata(current: Record<string, unknown>, values: Record<string, MetadataValue>, fields: readonly FieldSpec[]): MergeResult {
  const body: Record<string, unknown> = {};
  const changed: string[] = [];
  for (const field of fields) {
    if (!Object.hasOwn(values, field.name)) continue;
    const incoming = values[field.name]!;
    const existing = Object.hasOwn(current, field.name) ? current[field.name] : undefined;
    let merged: unknown;
    switch (field.merge) {
      case 'replace':
        merged = incoming;
        break;
      case 'keep':
        if (hasValue(existing)) continue;
        merged = incoming;
        break;
      case 'append': {
        const list = toList(existing);
        for (const item of Array.isArray(incoming) ? incoming : [incoming]) {
          if (!list.some((x) => sameValue(x, item))) list.push(item);
        }
        merged = list;
        break;
      }
    }
    body[field.name] = merged;
    if (!sameValue(existing, merged)) changed.push(field.name);
  }
  return { body, changed };
}

export function hasValue(v: unknown): boolean {
  if (v === undefined || v === null) return false;
  if (typeof v === 'string') return v.trim() !== '';
  if (Array.isArray(v)) return v.length > 0;
  return true;
}

function toList(v: unknown): unknown[] {
  if (v === undefined || v === null || v === '') return [];
  return Array.isArray(v) ? [...v] : [v];
}

/** Structural equality of JSON values. */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => sameValue(x, b[i]));
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k) => Object.hasOwn(b, k) && sameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}
