import { checkKeys, isObj, isTimeZone, nonEmptyString, oneOf, type Obj, columnSpec } from './checks.js';
import { type ConversationKey, EQUAL_AS, type EqualSpec, MAPPING_DEFAULTS } from './types.js';
import { phoneLib } from '../phone.js';

type Add = (p: string, m: string) => void;

export const CONVERSATION_KEYS = ['by', 'time', 'equal', 'filters'];
export const TIME_KEYS = ['column', 'sessionField', 'tolerance', 'timezone', 'formats', 'margin'];
export const EQUAL_KEYS = ['column', 'sessionField', 'sessionFields', 'as', 'region'];
/** Filters the tool sets itself: the time's `date_range`; `search_query` is a loose search, never a conversation's key. */
const OWN_FILTERS = ['date_range', 'search_query'];
const D = MAPPING_DEFAULTS.conversation;

/**
 * `{ by: conversation, time, equal, filters }`: a key made of the conversation's start time and
 * columns that must equal session fields. At least one equality: a time alone would take any
 * conversation of that moment.
 */
export function checkConversationKey(spec: Obj, path: string, add: Add): ConversationKey | undefined {
  checkKeys(spec, CONVERSATION_KEYS, path, add);
  const time = checkTime(spec.time, `${path}.time`, add);
  let equal: EqualSpec[] | undefined;
  if (!Array.isArray(spec.equal) || spec.equal.length === 0) {
    add(
      `${path}.equal`,
      'expected a non-empty list of { column, sessionField(s), as } that must equal session fields (agent, phone, queue): a time alone would take any conversation of that moment',
    );
  } else {
    const list = spec.equal.map((e: unknown, i: number) => checkEqual(e, `${path}.equal.${i}`, add));
    if (list.every((e): e is EqualSpec => e !== undefined)) equal = list;
  }
  const filters = checkFilters(spec.filters, `${path}.filters`, add);
  if (!time || !equal || !filters) return undefined;
  const sessionFields = [...new Set([time.sessionField, ...equal.flatMap((e) => e.sessionFields)])];
  return { column: time.column, by: 'conversation', sessionFields, time, equal, filters };
}

function checkTime(raw: unknown, path: string, add: Add): ConversationKey['time'] | undefined {
  const spec = columnSpec(raw);
  if (!spec) {
    add(path, 'expected { column, sessionField, tolerance, timezone } or the time column’s name');
    return undefined;
  }
  checkKeys(spec, TIME_KEYS, path, add);
  const column = nonEmptyString(spec.column, `${path}.column`, add);
  const sessionField = spec.sessionField === undefined ? D.sessionField : nonEmptyString(spec.sessionField, `${path}.sessionField`, add);
  const tolerance = seconds(
    spec.tolerance,
    D.tolerance,
    `${path}.tolerance`,
    'seconds the row’s time may be off the session’s start, from 0 to 86400 (default 120)',
    add,
  );
  const margin = seconds(spec.margin, D.margin, `${path}.margin`, 'seconds by which the nearest candidate must be nearer than the next (default 10)', add);
  const timezone = spec.timezone === undefined ? D.timezone : nonEmptyString(spec.timezone, `${path}.timezone`, add);
  if (timezone !== undefined && !isTimeZone(timezone))
    add(`${path}.timezone`, `unknown time zone ${JSON.stringify(timezone)}; expected an IANA name such as Europe/Berlin or UTC`);
  let formats: string[] = [];
  if (spec.formats !== undefined) {
    const f = typeof spec.formats === 'string' ? [spec.formats] : spec.formats;
    if (Array.isArray(f) && f.every((x) => typeof x === 'string' && x.trim() !== '')) formats = f as string[];
    else add(`${path}.formats`, 'expected a list of formats, e.g. ["DD.MM.YYYY HH:mm"]');
  }
  if (!column || !sessionField || tolerance === undefined || margin === undefined || !timezone || !isTimeZone(timezone)) return undefined;
  return { column, sessionField, tolerance, timezone, formats, margin };
}

function seconds(v: unknown, fallback: number, path: string, expected: string, add: Add): number | undefined {
  if (v === undefined) return fallback;
  if (typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= 86400) return v;
  add(path, `expected ${expected}, got ${JSON.stringify(v)}`);
  return undefined;
}

function checkEqual(raw: unknown, path: string, add: Add): EqualSpec | undefined {
  if (!isObj(raw)) {
    add(path, 'expected { column, sessionField, as }, e.g. { column: Agent, sessionField: agent }');
    return undefined;
  }
  checkKeys(raw, EQUAL_KEYS, path, add);
  const column = nonEmptyString(raw.column, `${path}.column`, add);
  let sessionFields: string[] | undefined;
  if (raw.sessionField !== undefined && raw.sessionFields !== undefined) add(path, 'give sessionField or sessionFields, not both');
  else if (raw.sessionField !== undefined) {
    const f = nonEmptyString(raw.sessionField, `${path}.sessionField`, add);
    if (f) sessionFields = [f];
  } else if (Array.isArray(raw.sessionFields) && raw.sessionFields.length > 0 && raw.sessionFields.every((s) => typeof s === 'string' && s.trim() !== ''))
    sessionFields = raw.sessionFields.map((s: string) => s.trim());
  else add(`${path}.sessionField`, 'is required: the session field the column must equal (e.g. agent), or sessionFields: [caller, destination]');
  const as = oneOf(raw.as ?? D.as, EQUAL_AS, `${path}.as`, add);
  let region: string | undefined;
  if (raw.region !== undefined) {
    region = typeof raw.region === 'string' ? raw.region.trim().toUpperCase() : undefined;
    if (!region || !phoneLib().isSupportedCountry(region)) {
      add(
        `${path}.region`,
        `expected a two-letter country code such as DE or US (the region of numbers written without +country), got ${JSON.stringify(raw.region)}`,
      );
      region = undefined;
      return undefined;
    }
    if (as !== 'phone') add(`${path}.region`, 'is for `as: phone` only');
  }
  if (!column || !sessionFields || !as) return undefined;
  return { column, sessionFields, as, ...(region !== undefined && { region }) };
}

/** `filters: { types: call, queue_name: [Rejection] }`: pairs in the API's syntax (a list as JSON, as the help article writes it). */
function checkFilters(raw: unknown, path: string, add: Add): [string, string][] | undefined {
  if (raw === undefined) return [];
  if (!isObj(raw)) {
    add(path, 'expected an object of API filters, e.g. { types: call, queue_name: [Support] }');
    return undefined;
  }
  const out: [string, string][] = [];
  let ok = true;
  for (const [name, v] of Object.entries(raw)) {
    const value =
      Array.isArray(v) && v.every((x) => typeof x === 'string') ? JSON.stringify(v) : typeof v === 'string' || typeof v === 'number' ? String(v) : undefined;
    const problem = !/^[a-z][a-z0-9_]*$/i.test(name)
      ? 'expected a filter name of letters, digits and _'
      : OWN_FILTERS.includes(name)
        ? `${name} is set by the tool (the time's date_range), not by the mapping`
        : value === undefined
          ? 'expected a text, a number or a list of texts'
          : // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this refuses
            /[\u00b1\u0000-\u001f\u007f]/.test(value)
            ? 'contains "±" or control characters, which would change the filter'
            : undefined;
    if (problem) {
      add(`${path}.${name}`, problem);
      ok = false;
    } else out.push([name, value!]);
  }
  return ok ? out : undefined;
}
