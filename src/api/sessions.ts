/**
 * The API's vocabulary for sessions, in one place: the `filters` syntax of GET /sessions, what
 * a filter value may hold, and what a session id looks like.
 */
import { ApiError } from '../errors.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (s: unknown): s is string => typeof s === 'string' && UUID.test(s);

/** `±` separates filters in the `filters` parameter. */
const FILTER_SEPARATOR = '\u00b1';

/** The loose search over call id, file name, caller and destination. */
export function searchFilter(value: string): string {
  return `search_query,${value}`;
}

/** The sessions started on a day from FROM to TO, inclusive (YYYY-MM-DD; either may be open). */
export function dateRangeFilter(from: string | undefined, to: string | undefined): string {
  return `date_range,${from ?? ''}||${to ?? ''}`;
}

/** Filters joined into one `filters` parameter. */
export function joinFilters(filters: string[]): string {
  return filters.join(FILTER_SEPARATOR);
}

/** Why a value cannot be sent as a filter value, or undefined when it can. */
export function filterValueProblem(value: string): string | undefined {
  if (value === '') return 'the key is empty';
  // a value holding the separator would add filters of its own
  if (value.includes(FILTER_SEPARATOR)) return `the key ${JSON.stringify(value)} contains "±", which would change the search filter`;
  // eslint-disable-next-line no-control-regex
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this refuses
  if (/[\u0000-\u001f\u007f]/.test(value)) return `the key ${JSON.stringify(value)} contains control characters (line breaks, tabs)`;
  return undefined;
}

/**
 * Counts the objects of a search answer's lists without building them: objects opened two
 * levels down (`{"items":[{...},{...}]}`). Lets a page that holds more sessions than asked for,
 * or more than may be examined, be refused before it is parsed into memory.
 */
export function countListedObjects(text: string, stopAt: number): number {
  let depth = 0;
  let n = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92)
        i++; // backslash: skip the escaped character
      else if (c === 34) inString = false;
      continue;
    }
    if (c === 34) inString = true;
    else if (c === 123 || c === 91) {
      depth++;
      if (c === 123 && depth === 3 && ++n >= stopAt) return n;
    } else if (c === 125 || c === 93) depth--;
  }
  return n;
}

/** Checks a session id before it goes into a URL path. */
export function checkedSessionId(id: unknown, context: string): string {
  if (isUuid(id)) return id;
  throw new ApiError('E_BAD_SESSION_ID', `${context} a session whose id is not a UUID (${JSON.stringify(String(id).slice(0, 80))})`);
}
