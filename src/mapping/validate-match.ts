import { checkKeys, isObj, nonEmptyString, oneOf, type Obj, columnSpec } from './checks.js';
import { DUPLICATES, type IdBy, LOOKUPS, MAPPING_DEFAULTS, MATCH_BY, ON_MULTIPLE, type MatchKey, type MatchSpec } from './types.js';
import { checkConversationKey } from './validate-conversation.js';

/** `match`: which column(s) hold the key, how they are matched, and how sessions are looked up. */
export const MATCH_KEYS = ['column', 'by', 'sessionFields', 'keys', 'onMultiple', 'newestField', 'duplicates', 'lookup', 'dateColumn', 'datePad'];
const KEY_KEYS = ['column', 'by', 'sessionFields'];

const DEFAULT_SESSION_FIELDS: Record<IdBy, string[]> = {
  external_id: ['external_id'],
  audio_filename: ['file_name'],
};

export function checkMatch(raw: unknown, add: (p: string, m: string) => void): MatchSpec | undefined {
  if (raw === undefined) {
    add('match', 'is required: which column holds the key, and how it is matched');
    return undefined;
  }
  if (!isObj(raw)) {
    add('match', 'expected an object with `column` and `by`');
    return undefined;
  }
  checkKeys(raw, MATCH_KEYS, 'match', add);
  let ok = true;
  const keys = checkMatchKeys(raw, add);
  if (!keys) ok = false;
  const onMultiple = oneOf(raw.onMultiple ?? MAPPING_DEFAULTS.match.onMultiple, ON_MULTIPLE, 'match.onMultiple', add);
  if (onMultiple === undefined) ok = false;
  const newestField = raw.newestField === undefined ? MAPPING_DEFAULTS.match.newestField : nonEmptyString(raw.newestField, 'match.newestField', add);
  if (newestField === undefined) ok = false;
  const duplicates = oneOf(raw.duplicates ?? MAPPING_DEFAULTS.match.duplicates, DUPLICATES, 'match.duplicates', add);
  if (duplicates === undefined) ok = false;
  const lookup = oneOf(raw.lookup ?? MAPPING_DEFAULTS.match.lookup, LOOKUPS, 'match.lookup', add);
  if (lookup === undefined) ok = false;
  const dateColumn = raw.dateColumn === undefined ? undefined : nonEmptyString(raw.dateColumn, 'match.dateColumn', add);
  if (raw.dateColumn !== undefined && dateColumn === undefined) ok = false;
  let datePad: number = MAPPING_DEFAULTS.match.datePad;
  if (raw.datePad !== undefined) {
    if (typeof raw.datePad === 'number' && Number.isInteger(raw.datePad) && raw.datePad >= 0 && raw.datePad <= 31) datePad = raw.datePad;
    else {
      add('match.datePad', 'expected a whole number of days from 0 to 31 (default 1)');
      ok = false;
    }
  }
  if (!ok || !keys || !onMultiple || !newestField || !duplicates || !lookup) return undefined;
  return { keys, onMultiple, newestField, duplicates, lookup, datePad, ...(dateColumn !== undefined && { dateColumn }) };
}

/** `match.keys: [{ column, by, sessionFields }, ...]`, or the one-key shorthand `match.column`/`by`/`sessionFields`. */
function checkMatchKeys(raw: Obj, add: (p: string, m: string) => void): MatchKey[] | undefined {
  if (raw.keys !== undefined) {
    if (raw.column !== undefined || raw.by !== undefined || raw.sessionFields !== undefined) {
      add('match.keys', 'give either match.keys or match.column (with by and sessionFields), not both');
      return undefined;
    }
    if (!Array.isArray(raw.keys) || raw.keys.length === 0) {
      add('match.keys', 'expected a non-empty list of keys, e.g. [{ column: Call ID }, { column: Recording File, by: audio_filename }]');
      return undefined;
    }
    const keys = raw.keys.map((k: unknown, i: number) => checkMatchKey(k, `match.keys.${i}`, add));
    return keys.every((k): k is MatchKey => k !== undefined) ? keys : undefined;
  }
  const key = checkMatchKey(raw, 'match', add);
  return key ? [key] : undefined;
}

function checkMatchKey(raw: unknown, path: string, add: (p: string, m: string) => void): MatchKey | undefined {
  const spec = columnSpec(raw);
  if (!spec) {
    add(path, 'expected { column, by, sessionFields } or a column name');
    return undefined;
  }
  if (spec.by === 'conversation') {
    if (path === 'match') {
      add('match.by', 'a conversation key goes in match.keys: [{ by: conversation, time, equal }], alone or after an ID key');
      return undefined;
    }
    return checkConversationKey(spec, path, add);
  }
  if (path !== 'match') checkKeys(spec, KEY_KEYS, path, add);
  const column = nonEmptyString(spec.column, `${path}.column`, add);
  const by = oneOf(spec.by ?? MAPPING_DEFAULTS.match.by, MATCH_BY, `${path}.by`, add);
  let sessionFields: string[] | undefined = by ? DEFAULT_SESSION_FIELDS[by] : undefined;
  if (spec.sessionFields !== undefined) {
    if (!Array.isArray(spec.sessionFields) || spec.sessionFields.length === 0 || !spec.sessionFields.every((s) => typeof s === 'string' && s.trim() !== '')) {
      add(`${path}.sessionFields`, 'expected a non-empty list of session field names, e.g. [external_id]');
      return undefined;
    }
    sessionFields = spec.sessionFields.map((s: string) => s.trim());
  }
  if (!column || !by || !sessionFields) return undefined;
  return { column, by, sessionFields };
}
