import { Document, stringify } from 'yaml';
import { columnLetter } from './input/header.js';
import { formatOf } from './input/formats.js';
import { openRows } from './input/open-rows.js';
import { ARTICLE_KEYS, type InstanceKeys } from './inspect/instance.js';
import { type ColumnGuess, localZone, type Proposal, propose } from './inspect/propose.js';
import { chooseSheet } from './inspect/sheet-choice.js';
import { TypeGuess } from './inspect/type-guess.js';
import { parseMapping } from './mapping/load.js';
import type { FieldSpec, InputSpec } from './mapping/types.js';
import { convertCell } from './pipeline/convert.js';

/** Without a connection: the help article's keys. */
export const OFFLINE: InstanceKeys = { source: 'article', sampled: 0, keys: ARTICLE_KEYS, offline: 'no connection configured (ET_URL)' };

export type ColumnReport = ColumnGuess;

export interface Inspection {
  file: string;
  format: string;
  details: Record<string, string | number>;
  sheets?: { name: string; state: string }[];
  header: string[];
  rows: number;
  columns: ColumnReport[];
  /** The first key guessed (the call ID, or else the recording file). */
  key: InspectKey;
  /** Every key guessed, in the order a row tries them: Call ID, then Recording File. */
  keys: InspectKey[];
  mapping: string;
  /** Where the proposal's keys came from (the instance's sessions, or the help article offline). */
  instance: InstanceKeys;
  /** Per column, what the proposal does not take: values that break its type, markers read as "no value". */
  notes: string[];
}

export interface InspectKey {
  column: string;
  by: 'external_id' | 'audio_filename' | 'conversation';
  /** A conversation key: its time column's formats and zone, and the columns it compares. */
  conversation?: { formats?: string[]; timezone?: string; equal: { column: string; sessionFields: string[]; as?: 'phone' }[] };
}

/**
 * Everything `inspect` tells about a file, and a starter mapping: each column for the key the
 * instance's sessions hold that it fits (offline: the help article's keys), typed as those keys'
 * values are; the values that break a type are listed.
 */
export async function inspectFile(file: string, given: InputSpec = {}, instance: InstanceKeys = OFFLINE): Promise<Inspection> {
  const more = await formatOf(file)?.inspect?.(file);
  const sheets = more?.sheets as Inspection['sheets'];
  // where the data is, unless the sheet or the header row was given
  const chosen = sheets && given.sheet === undefined && given.headerRow === undefined ? await chooseSheet(file, sheets) : undefined;
  const spec: InputSpec = chosen ? { ...given, sheet: chosen.sheet, ...(chosen.headerRow > 1 && { headerRow: chosen.headerRow }) } : given;
  const source = await openRows(file, spec);
  const guessers = source.header.map(() => new TypeGuess());
  let rows = 0;
  try {
    for await (const row of source.rows) {
      rows++;
      for (let i = 0; i < source.header.length; i++) guessers[i]!.see(row.cells[i] ?? null);
    }
  } finally {
    await source.close();
  }
  const columns: ColumnReport[] = source.header.map((name, i) => ({ letter: columnLetter(i), name, ...guessers[i]!.result() }));
  const keys = guessKeys(columns);
  const details: Record<string, string | number> = { ...source.details };
  const proposal = propose(
    columns,
    keys.flatMap((k) => [k.column, ...(k.conversation?.equal.map((e) => e.column) ?? [])]),
    instance,
  );
  const mapping = starterMapping(proposal, keys, source.format, source.details, spec, instance);
  const result: Inspection = {
    file,
    format: source.format,
    details,
    header: source.header,
    rows,
    columns,
    key: keys[0]!,
    keys,
    mapping,
    instance,
    notes: [...(chosen?.note ? [chosen.note] : []), ...columnNotes(columns, proposal, mapping)],
  };
  if (sheets) result.sheets = sheets;
  return result;
}

/** The call ID column, then the recording file column (a fallback key), as far as they exist. */
function guessKeys(columns: ColumnReport[]): InspectKey[] {
  const audio = columns.find((c) => /file|recording|audio/i.test(c.name) || c.samples.some((s) => /\.(wav|mp3|ogg|m4a|flac|opus)$/i.test(s)));
  const id = columns.find((c) => /call.?id|ticket|external|interaction|conversation|contact.?id|session/i.test(c.name));
  if (id && audio && id !== audio)
    return [
      { column: id.name, by: 'external_id' },
      { column: audio.name, by: 'audio_filename' },
    ];
  // no ID at all: a survey or ticket export that knows when, who and which caller
  const conversation = id || audio ? undefined : conversationKey(columns);
  if (conversation) return [conversation];
  const pick = id ?? audio ?? columns[0]!;
  return [{ column: pick.name, by: pick === audio && pick !== id ? 'audio_filename' : 'external_id' }];
}

/**
 * A conversation key, for an export with a time column and an agent or phone column but no ID:
 * the session fields are the sandbox's (agent, caller, destination), to be checked against the
 * instance's sessions (inspect says so).
 */
function conversationKey(columns: ColumnReport[]): InspectKey | undefined {
  const time = columns.find((c) => c.type === 'datetime' && /time|date|start|when|called/i.test(c.name)) ?? columns.find((c) => c.type === 'datetime');
  const agent = columns.find((c) => /agent|operator|employee|advisor|rep\b/i.test(c.name));
  const phone = columns.find((c) => /phone|tel|mobile|caller|msisdn|\bani\b|\bcli\b|number/i.test(c.name));
  if (!time || (!agent && !phone)) return undefined;
  const equal: NonNullable<InspectKey['conversation']>['equal'] = [];
  if (agent) equal.push({ column: agent.name, sessionFields: ['agent'] });
  if (phone) equal.push({ column: phone.name, sessionFields: ['caller', 'destination'], as: 'phone' });
  return {
    column: time.name,
    by: 'conversation',
    conversation: { ...(time.formats && { formats: time.formats }), ...(time.note?.includes('offset') && { timezone: localZone() }), equal },
  };
}

/** A key as the starter mapping writes it. */
function keySpec(k: InspectKey): Record<string, unknown> {
  if (!k.conversation) return { column: k.column, by: k.by, sessionFields: [sessionFieldFor(k)] };
  const region = new Intl.Locale(Intl.DateTimeFormat().resolvedOptions().locale).region;
  return {
    by: 'conversation',
    time: {
      column: k.column,
      sessionField: 'start_time',
      tolerance: 120,
      ...(k.conversation.timezone && { timezone: k.conversation.timezone }),
      ...(k.conversation.formats && { formats: k.conversation.formats }),
    },
    equal: k.conversation.equal.map((e) =>
      e.as === 'phone'
        ? { column: e.column, sessionFields: e.sessionFields, as: 'phone', ...(region && { region }) }
        : { column: e.column, sessionField: e.sessionFields[0] },
    ),
  };
}

function starterMapping(
  p: Proposal,
  keys: InspectKey[],
  format: string,
  details: Record<string, string | number>,
  spec: InputSpec,
  instance: InstanceKeys,
): string {
  const input: Record<string, unknown> = {};
  if (format === 'csv') {
    input.delimiter = details.delimiter === '\\t' ? '\t' : details.delimiter;
    const enc = String(details.encoding).replace(' (BOM)', '');
    if (enc !== 'utf-8') input.encoding = enc;
  } else if (details.sheet !== undefined) input.sheet = details.sheet;
  if (spec.headerRow && spec.headerRow > 1) input.headerRow = spec.headerRow;
  const match: Record<string, unknown> =
    keys.length === 1 && !keys[0]!.conversation
      ? { column: keys[0]!.column, by: keys[0]!.by, sessionFields: [sessionFieldFor(keys[0]!)], onMultiple: 'fail' }
      : { keys: keys.map(keySpec), onMultiple: keys.some((k) => k.conversation) ? 'nearest' : 'fail' };
  if (p.dateColumn) match.dateColumn = p.dateColumn;
  const top: Record<string, unknown> = {};
  if (p.nullValues.length > 0) top.nullValues = p.nullValues;
  Object.assign(top, { match, input });
  const from =
    instance.source === 'instance'
      ? `the keys ${instance.sampled} sampled sessions of the instance hold`
      : `offline (${instance.offline ?? 'no connection'}): the help article's keys csi, nps, fcr, customer_id, crm_statuses, campaign_name`;
  const lines = [
    `# Starter mapping written by et-import inspect, from ${from}.`,
    '# Check the key, the fields and their types, then: et-import validate; et-import run --dry-run.',
    ...(keys.some((k) => k.conversation)
      ? [
          '# No ID column: rows are matched by conversation (time, agent, phone). Check the session fields',
          '# (agent, caller, destination here) and the time zone against your sessions: et-import find --time ... --agent ...',
        ]
      : []),
  ];
  lines.push(stringify(top, { lineWidth: 0 }).trimEnd(), 'fields:');
  for (const f of p.fields) lines.push(`  ${flow(f.name, f.spec)}`);
  // a mapping needs a field: with no column for a key the sessions hold, each column is a new key
  const none = p.fields.length === 0;
  if (none && p.unheld.length > 0) lines.push('  # no column fits a key the sessions hold: each is written as a new key; check the names');
  for (const f of p.unheld)
    lines.push(none ? `  ${flow(f.name, f.spec)}` : `  # ${flow(f.name, f.spec)}   # not held by any sampled session: uncomment to add a new key`);
  return `${lines.join('\n')}\n`;
}

/** `name: { column: X, type: integer }` on one line. */
function flow(name: string, spec: Record<string, unknown>): string {
  const doc = new Document({ [name]: spec });
  const node = doc.get(name, true) as { flow?: boolean } | undefined;
  if (node) node.flow = true;
  return doc.toString({ lineWidth: 0 }).trimEnd();
}

/**
 * What the proposal leaves out, per column: the null markers it reads as "no value", and the
 * values that break a field's type or range (those rows would be invalid), most frequent first.
 */
function columnNotes(columns: ColumnReport[], p: Proposal, mapping: string): string[] {
  const notes: string[] = [];
  let fields: FieldSpec[] = [];
  try {
    fields = parseMapping(mapping, 'starter.yaml').fields;
  } catch {
    // a proposal the loader refuses is shown as it is; validate will say why
  }
  for (const c of columns) {
    if (c.markers.length > 0 && p.fields.some((f) => f.column === c.name))
      notes.push(`${c.name}: ${c.markers.map(([m, n]) => `\`${m}\` ×${n}`).join(', ')} read as no value (nullValues)`);
    const field = fields.find((f) => f.column === c.name);
    if (field) {
      const bad: string[] = [];
      let n = 0;
      for (const [v, count] of [...c.values.entries()].sort((a, b) => b[1] - a[1])) {
        const r = convertCell(v, field);
        if (r.ok) continue;
        n += count;
        if (bad.length < 5) bad.push(`\`${v}\` ×${count} (expected ${r.error.replace(/, got .*$/, '')})`);
      }
      if (n > 0) notes.push(`${c.name}: ${n} value${n === 1 ? '' : 's'} would make ${n === 1 ? 'its row' : 'their rows'} invalid: ${bad.join(', ')}`);
    }
    if (c.note) notes.push(`${c.name}: ${c.note}`);
  }
  return notes;
}

function sessionFieldFor(k: InspectKey): string {
  return k.by === 'audio_filename' ? 'file_name' : 'external_id';
}

export function formatInspection(r: Inspection): string {
  const lines = [`file:        ${r.file}`, `format:      ${r.format}`];
  for (const [k, v] of Object.entries(r.details))
    if (k !== 'format') lines.push(`${`${k}:`.padEnd(13)}${k === 'delimiter' ? JSON.stringify(v === '\\t' ? '\t' : v) : v}`);
  if (r.sheets) lines.push(`sheets:      ${r.sheets.map((s) => `${s.name}${s.state !== 'visible' ? ` (${s.state})` : ''}`).join(', ')}`);
  lines.push(`data rows:   ${r.rows}`, '', 'columns:');
  const w = Math.max(...r.columns.map((c) => c.name.length), 6);
  for (const c of r.columns) {
    const k = r.keys.findIndex((x) => x.column === c.name);
    const tag = k < 0 ? '' : `  <- key${r.keys.length > 1 ? ` ${k + 1}` : ''} (${r.keys[k]!.by})`;
    const extra = c.thousands ? ' (1.234,5)' : c.decimal ? ' (decimal comma)' : c.formats ? ` (${c.formats.join(', ')})` : '';
    lines.push(
      `  ${c.letter.padEnd(3)} ${c.name.padEnd(w)}  ${(c.type + extra).padEnd(24)} ${String(c.filled).padStart(7)} filled   e.g. ${c.samples.map((s) => JSON.stringify(s)).join(', ')}${tag}`,
    );
  }
  lines.push(
    '',
    r.instance.source === 'instance'
      ? `proposal: from the metadata keys ${r.instance.sampled} sampled sessions hold: ${r.instance.keys.map((k) => `${k.key} (${k.shape}${k.min !== undefined ? ` ${k.min}–${k.max}` : ''})`).join(', ') || 'none'}`
      : `proposal: OFFLINE (${r.instance.offline}): the help article's keys; set ET_URL and ET_AUTH_* to propose from what your sessions hold`,
  );
  if (r.notes.length > 0) lines.push('', 'notes:', ...r.notes.map((n) => `  ${n}`));
  lines.push('', 'starter mapping:', '', r.mapping);
  return `${lines.join('\n')}\n`;
}
