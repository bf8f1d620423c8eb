import { closest } from './closest.js';

/** The small checks every part of the mapping uses; each problem goes to `add` with its path. */
export type Obj = Record<string, unknown>;
export const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The mapping's shorthand: a column's name stands for `{ column: name }`; anything else but an object is undefined. */
export const columnSpec = (raw: unknown): Obj | undefined => (typeof raw === 'string' ? { column: raw } : isObj(raw) ? raw : undefined);

export function checkKeys(obj: Obj, allowed: string[], path: string, add: (p: string, m: string) => void): void {
  for (const key of Object.keys(obj)) {
    if (allowed.includes(key)) continue;
    const guess = closest(key, allowed);
    add(path ? `${path}.${key}` : key, `unknown key${guess ? ` (did you mean "${guess}"?)` : ''}; allowed: ${allowed.join(', ')}`);
  }
}

export function nonEmptyString(v: unknown, path: string, add: (p: string, m: string) => void): string | undefined {
  if (typeof v === 'number') return String(v);
  if (typeof v !== 'string' || v.trim() === '') {
    add(path, v === undefined ? 'is required' : `expected a non-empty string, got ${JSON.stringify(v)}`);
    return undefined;
  }
  return v.trim();
}

export function oneOf<T extends string>(v: unknown, allowed: readonly T[], path: string, add: (p: string, m: string) => void): T | undefined {
  if (typeof v === 'string' && (allowed as readonly string[]).includes(v)) return v as T;
  const guess = typeof v === 'string' ? closest(v, allowed) : undefined;
  add(path, `expected one of ${allowed.join(' | ')}, got ${JSON.stringify(v)}${guess ? ` (did you mean "${guess}"?)` : ''}`);
  return undefined;
}

/** `nullValues`: cell texts that mean "no value", compared trimmed and ignoring case. */
export function checkNullValues(v: unknown, path: string, add: (p: string, m: string) => void): string[] | undefined {
  if (v === undefined) return undefined;
  const list = typeof v === 'string' ? [v] : v;
  if (!Array.isArray(list) || !list.every((x) => typeof x === 'string' && x.trim() !== '')) {
    add(path, 'expected a list of cell texts that mean "no value", e.g. ["N/A", "-"]');
    return undefined;
  }
  return list.map((x: string) => x.trim().toLowerCase());
}

export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}
