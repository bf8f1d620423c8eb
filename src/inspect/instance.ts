import type { ApiClient } from '../api/client.js';

/** The shape of the values a metadata key holds on the instance's sessions. */
export type KeyShape = 'integer' | 'zeroOne' | 'number' | 'boolean' | 'string' | 'list' | 'date' | 'datetime';

export interface InstanceKey {
  key: string;
  shape: KeyShape;
  /** integer and number: the range seen (or known, for the article's keys). */
  min?: number;
  max?: number;
  /** How many sampled sessions hold it (0 for the article's keys offline). */
  held: number;
}

/** Where the keys came from: the sessions of the instance, or the help article's list. */
export interface InstanceKeys {
  source: 'instance' | 'article';
  /** Sessions sampled (instance). */
  sampled: number;
  keys: InstanceKey[];
  /** Why the proposal is offline, when it is. */
  offline?: string;
}

/** The help article's keys, as its example writes them: what an instance is assumed to hold when none is at hand. */
export const ARTICLE_KEYS: InstanceKey[] = [
  { key: 'csi', shape: 'integer', min: 1, max: 5, held: 0 },
  { key: 'nps', shape: 'integer', min: 0, max: 10, held: 0 },
  { key: 'fcr', shape: 'zeroOne', held: 0 },
  { key: 'customer_id', shape: 'string', held: 0 },
  { key: 'crm_statuses', shape: 'list', held: 0 },
  { key: 'campaign_name', shape: 'string', held: 0 },
];

/**
 * Fields a session item carries that are the conversation's own, not metadata (the API puts the
 * metadata keys at the top level beside them). Not public for the real API: these are the ones the
 * article and the SDK show, and the sandbox's.
 */
export const SESSION_FIELDS = new Set([
  'id',
  'type',
  'types',
  'external_id',
  'file_name',
  'caller',
  'caller_id',
  'destination',
  'destination_id',
  'start_time',
  'start_dt',
  'end_time',
  'end_dt',
  'created_at',
  'updated_at',
  'agent',
  'agent_login',
  'agent_name',
  'queue',
  'queue_name',
  'duration',
  'direction',
  'language',
  'locked',
]);

/** Reads up to `sample` recent sessions, a listing page at a time (read-only), and learns the metadata keys they hold with their shapes. */
export async function sampleInstance(client: ApiClient, sample: number, pageSize: number): Promise<InstanceKeys> {
  const items: Record<string, unknown>[] = [];
  for (let skip = 0; items.length < sample; ) {
    const page = await client.listSessions('', skip, Math.min(pageSize, sample - items.length));
    items.push(...page.items);
    skip += page.items.length;
    if (page.items.length === 0 || skip >= page.total) break;
  }
  return { source: 'instance', sampled: items.length, keys: learnKeys(items) };
}

/** Each metadata key the items hold, with the shape most of its values have. */
export function learnKeys(items: Record<string, unknown>[]): InstanceKey[] {
  const seen = new Map<string, unknown[]>();
  for (const item of items)
    for (const [k, v] of Object.entries(item)) {
      if (SESSION_FIELDS.has(k) || v === null || v === undefined || v === '') continue;
      const list = seen.get(k);
      if (list) list.push(v);
      else seen.set(k, [v]);
    }
  return [...seen.entries()]
    .map(([key, values]) => ({ key, held: values.length, ...shapeOf(values) }))
    .sort((a, b) => b.held - a.held || a.key.localeCompare(b.key));
}

function shapeOf(values: unknown[]): Pick<InstanceKey, 'shape' | 'min' | 'max'> {
  if (values.every(Array.isArray)) return { shape: 'list' };
  if (values.every((v) => typeof v === 'boolean')) return { shape: 'boolean' };
  if (values.every((v) => typeof v === 'number')) {
    const nums = values as number[];
    const range = { min: Math.min(...nums), max: Math.max(...nums) };
    if (nums.every((n) => n === 0 || n === 1)) return { shape: 'zeroOne' };
    return { shape: nums.every(Number.isInteger) ? 'integer' : 'number', ...range };
  }
  if (values.every((v) => typeof v === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(v))) return { shape: 'date' };
  if (values.every((v) => typeof v === 'string' && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(v))) return { shape: 'datetime' };
  return { shape: 'string' };
}
