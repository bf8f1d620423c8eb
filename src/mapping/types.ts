/** Text encodings of CSV exports. */
// names accepted in `input.encoding`, and the decoder each one means
export const ENCODINGS: Record<string, string> = {
  'utf-8': 'utf-8',
  utf8: 'utf-8',
  'utf-16le': 'utf-16le',
  'utf-16be': 'utf-16be',
  'windows-1252': 'windows-1252',
  cp1252: 'windows-1252',
  latin1: 'windows-1252',
  'iso-8859-1': 'windows-1252',
  'iso-8859-15': 'iso-8859-15',
};

export const FIELD_TYPES = ['string', 'integer', 'number', 'boolean', 'date', 'datetime', 'list'] as const;
export type FieldType = (typeof FIELD_TYPES)[number];

export const MERGE_POLICIES = ['replace', 'append', 'keep'] as const;
export type MergePolicy = (typeof MERGE_POLICIES)[number];

/** What an ID key holds: a search for it, then the exact check. */
export const MATCH_BY = ['external_id', 'audio_filename'] as const;
export type IdBy = (typeof MATCH_BY)[number];
/** Or a key made of the conversation's attributes (`match.keys` only). */
export type MatchBy = IdBy | 'conversation';

export const ON_MULTIPLE = ['fail', 'newest', 'nearest'] as const;

/** How a conversation key's column is compared with session fields: as text (trimmed, case ignored) or as a phone number (E.164). */
export const EQUAL_AS = ['text', 'phone'] as const;
export type EqualAs = (typeof EQUAL_AS)[number];

export const DUPLICATES = ['all', 'last'] as const;
export type Duplicates = (typeof DUPLICATES)[number];
export type OnMultiple = (typeof ON_MULTIPLE)[number];

/** A scalar that can be sent as (part of) a metadata value. */
export type Scalar = string | number | boolean;
export type MetadataValue = Scalar | Scalar[];

export interface FieldSpec {
  /** The metadata key written to the session. */
  name: string;
  column: string;
  type: FieldType;
  merge: MergePolicy;
  required: boolean;
  min?: number;
  max?: number;
  maxLength?: number;
  pattern?: RegExp;
  enum?: Scalar[];
  /** Cell text -> value to send (e.g. "Yes" -> 1); null: the cell counts as empty. Looked up exactly, then case-insensitively. */
  values?: Map<string, Scalar | null>;
  /** Cell texts that mean "no value" (`N/A`, `-`): the mapping's `nullValues` and the field's own, lower-cased; such a cell is empty. */
  nullValues?: ReadonlySet<string>;
  /** A value may replace one of another shape on the session (a list by a string, a number by a string). */
  allowShapeChange: boolean;
  /** list only: the separator between items in one cell. */
  separator: string;
  /** integer/number: the decimal separator ("." or ","). */
  decimal: '.' | ',';
  /** integer/number: thousands separators to ignore (e.g. [" ", "."]). */
  thousands: string[];
  /** boolean: extra words read as true / false (matched ignoring case). */
  truthy: string[];
  falsy: string[];
  /** date/datetime: accepted formats besides ISO 8601, e.g. "DD.MM.YYYY", "MM/DD/YYYY HH:mm". */
  formats: string[];
  /** datetime: the IANA time zone of times written without an offset (default UTC). */
  timezone: string;
}

export const LOOKUPS = ['search', 'index'] as const;
export type Lookup = (typeof LOOKUPS)[number];

/** One way to find a row's session by an identifier: a column, what it holds, and the session fields it must equal. */
export interface IdKey {
  column: string;
  by: IdBy;
  /** Session fields, one of which must equal the key exactly for a hit to count. */
  sessionFields: string[];
}

/** A column that must equal one of some session fields, after normalisation (`as`). */
export interface EqualSpec {
  column: string;
  sessionFields: string[];
  as: EqualAs;
  /** phone: the region of numbers written without a country code (ISO 3166, e.g. DE). */
  region?: string;
}

/**
 * A key made of what the conversation is: its start time (within a tolerance) and columns that
 * must equal session fields (agent, queue, the caller's phone), among the sessions the API's own
 * filters give for the time (`date_range` around it, plus fixed `filters`).
 */
export interface ConversationKey {
  /** The time column (for messages and results.csv). */
  column: string;
  by: 'conversation';
  /** Every session field the key compares (time and equalities): none of them may be written. */
  sessionFields: string[];
  time: {
    column: string;
    /** The session field holding the conversation's start (ISO 8601). */
    sessionField: string;
    /** Seconds the row's time may be off the session's. */
    tolerance: number;
    /** The zone of times written without an offset (IANA). */
    timezone: string;
    /** Accepted formats besides ISO 8601 (and Excel datetimes). */
    formats: string[];
    /** `onMultiple: nearest`: the nearest candidate wins only when nearer than the next by more than this (seconds). */
    margin: number;
  };
  equal: EqualSpec[];
  /** Fixed API filters added to every listing, as `name,value` pairs in the API's syntax. */
  filters: [string, string][];
}

export type MatchKey = IdKey | ConversationKey;

export interface MatchSpec {
  /**
   * The keys a row is matched by, tried in order: `match.keys`, or the one-key shorthand
   * (`match.column`, `by`, `sessionFields`) as a list of one. The only shape after loading: every
   * check and every use reads each key here.
   */
  keys: MatchKey[];
  /** search: one search per row; index: list the sessions of a date window once, search only what it misses. */
  lookup: Lookup;
  /** index mode: the column whose dates give the windows to list. */
  dateColumn?: string;
  /** Days added to each side of those dates (time zones). */
  datePad: number;
  onMultiple: OnMultiple;
  /** Session field holding the conversation's start time, used by `onMultiple: newest`. */
  newestField: string;
  /** Rows sharing a key: apply each in file order (`all`) or only the last one (`last`). */
  duplicates: Duplicates;
}

export interface InputSpec {
  /** CSV delimiter; detected among , ; tab | when not set. */
  delimiter?: string;
  /** XLSX sheet by name or 1-based number; the first visible sheet when not set. */
  sheet?: string | number;
  /** CSV text encoding; detected when not set. */
  encoding?: string;
  /** 1-based row of the header (default 1), for exports with title lines above it. */
  headerRow?: number;
  /** A cell larger than this makes its row invalid (default 1 MB). */
  maxCellBytes?: number;
  /** XLSX: the shared-strings table (all the workbook's texts) may inflate to at most this (default 100 MB). */
  maxSharedStringsMb?: number;
}

export interface Mapping {
  /** The file the mapping was read from, for messages. */
  file: string;
  match: MatchSpec;
  fields: FieldSpec[];
  input: InputSpec;
}

/**
 * Every default of a mapping, in one place: what the loader fills in where the mapping is silent
 * (config/mapping.schema.json states the same values; a unit test holds the two in step).
 */
export const MAPPING_DEFAULTS = {
  match: { by: 'external_id', onMultiple: 'fail', newestField: 'start_time', duplicates: 'all', lookup: 'search', datePad: 1 },
  conversation: { sessionField: 'start_time', tolerance: 120, margin: 10, timezone: 'UTC', as: 'text' },
  field: { type: 'string', merge: 'replace', separator: ';', decimal: '.', timezone: 'UTC', allowShapeChange: false },
  /** A cell larger than this makes its row invalid (`input.maxCellBytes`, 1 MB). */
  maxCellBytes: 1024 * 1024,
  /** An XLSX shared-strings table may inflate to at most this (`input.maxSharedStringsMb`). */
  maxSharedStringsMb: 100,
} as const;
