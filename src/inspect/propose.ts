import type { Guess } from './type-guess.js';
import type { InstanceKey, InstanceKeys } from './instance.js';

/** A column as inspect read it. */
export interface ColumnGuess extends Guess {
  letter: string;
  name: string;
}

export interface ProposedField {
  /** The metadata key. */
  name: string;
  column: string;
  spec: Record<string, unknown>;
  /** Why it was proposed: the instance key it fits, or none (written commented out). */
  held: InstanceKey | undefined;
}

export interface Proposal {
  fields: ProposedField[];
  /** Fields for columns no sampled session holds a key for: written commented out. */
  unheld: ProposedField[];
  dateColumn?: string;
  /** The null markers seen in the proposed fields' columns. */
  nullValues: string[];
}

/** Column names (normalised) that mean one of the help article's keys. */
const SYNONYMS: Record<string, string[]> = {
  csi: ['csi', 'csat', 'csat score', 'satisfaction', 'customer satisfaction', 'satisfaction score'],
  nps: ['nps', 'net promoter', 'net promoter score', 'promoter score'],
  fcr: ['fcr', 'first contact resolution', 'first call resolution', 'resolved first time', 'resolved on first contact'],
  customer_id: ['customer id', 'client id', 'customer number', 'customer no', 'account id', 'customer'],
  crm_statuses: ['crm status', 'crm statuses', 'status', 'statuses'],
  campaign_name: ['campaign', 'campaign name'],
};

const norm = (s: string) =>
  s
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, ' ')
    .trim();

/** The instance key a column is for: a synonym of one, or its own name. */
export function keyFor(column: string, keys: InstanceKey[]): InstanceKey | undefined {
  const n = norm(column);
  return keys.find((k) => SYNONYMS[k.key]?.includes(n)) ?? keys.find((k) => norm(k.key) === n);
}

/** The scales the help article gives its keys: CSAT 1–5, NPS 0–10. */
const KNOWN_RANGES: Record<string, { min: number; max: number }> = { csi: { min: 1, max: 5 }, nps: { min: 0, max: 10 } };

const YES = /^(yes|y|true|1|ja|oui|si|x)$/i;
const NO = /^(no|n|false|0|nein|non)$/i;

/**
 * A starter proposal: each column that is neither a key nor empty becomes a field for the
 * instance key it fits, typed as that key's values are (a 0/1 key from Yes/No cells gets
 * `values`), or, when no sampled session holds such a key, a field written commented out. An
 * ISO date column (or an Excel date one) becomes `match.dateColumn`.
 */
export function propose(columns: ColumnGuess[], keyColumns: string[], instance: InstanceKeys): Proposal {
  const out: Proposal = { fields: [], unheld: [], nullValues: [] };
  const taken = new Set<string>();
  for (const c of columns) {
    if (keyColumns.includes(c.name) || c.filled === 0) continue;
    const held = keyFor(c.name, instance.keys);
    if (!held && !out.dateColumn && (c.type === 'date' || c.type === 'datetime') && !c.formats && /date|time|start|created/i.test(c.name)) {
      out.dateColumn = c.name;
      continue;
    }
    const name = held && !taken.has(held.key) ? held.key : fieldName(c.name, taken);
    taken.add(name);
    const f: ProposedField = { name, column: c.name, spec: held ? specFor(c, held) : ownSpec(c), held: name === held?.key ? held : undefined };
    if (f.held) {
      out.fields.push(f);
      for (const [m] of c.markers) if (!out.nullValues.includes(m)) out.nullValues.push(m);
    } else out.unheld.push(f);
  }
  return out;
}

/** A field typed as the instance key holds its values. */
function specFor(c: ColumnGuess, k: InstanceKey): Record<string, unknown> {
  const spec: Record<string, unknown> = { column: c.name };
  switch (k.shape) {
    case 'integer':
    case 'number':
      spec.type = k.shape;
      if (c.decimal) spec.decimal = c.decimal;
      if (c.thousands) spec.thousands = c.thousands;
      // the article's scales bound its keys; a sample's range is only what it happened to hold
      if (KNOWN_RANGES[k.key]) Object.assign(spec, KNOWN_RANGES[k.key]);
      break;
    case 'zeroOne': {
      spec.type = 'integer';
      const values: Record<string, number> = {};
      for (const v of c.values.keys()) if (YES.test(v)) values[v] = 1;
      for (const v of c.values.keys()) if (NO.test(v)) values[v] = 0;
      spec.values = Object.keys(values).length > 0 ? values : { Yes: 1, No: 0 };
      break;
    }
    case 'list':
      Object.assign(spec, { type: 'list', separator: ';', merge: 'append' });
      break;
    case 'boolean':
      spec.type = 'boolean';
      break;
    case 'date':
    case 'datetime':
      spec.type = k.shape;
      if (c.formats) spec.formats = c.formats;
      if (k.shape === 'datetime' && c.note?.includes('offset')) spec.timezone = localZone();
      break;
    case 'string':
      break;
  }
  return spec;
}

/** The zone of this machine: the likeliest one of an export's times without an offset (inspect says to check it). */
export function localZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

/** A field typed as the column's own values are (for a key no session holds yet). */
function ownSpec(c: ColumnGuess): Record<string, unknown> {
  const f: Record<string, unknown> = { column: c.name };
  if (c.type !== 'string') f.type = c.type;
  if (c.decimal) f.decimal = c.decimal;
  if (c.thousands) f.thousands = c.thousands;
  if (c.formats) f.formats = c.formats;
  if (c.type === 'datetime' && c.note?.includes('offset')) f.timezone = localZone();
  if (c.type === 'list') f.merge = 'append';
  return f;
}

/** snake_case metadata key for a column name, unique and never a reserved key. */
export function fieldName(column: string, taken: Set<string>): string {
  let name = norm(column).replace(/ /g, '_');
  if (!name || /^\d/.test(name)) name = `field_${name}`;
  if (['id', '__proto__', 'constructor', 'prototype', 'external_id', 'file_name'].includes(name)) name = `${name}_value`;
  let unique = name;
  for (let i = 2; taken.has(unique); i++) unique = `${name}_${i}`;
  taken.add(unique);
  return unique;
}
