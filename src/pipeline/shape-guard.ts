import type { FieldSpec } from '../mapping/types.js';

type Shape = 'list' | 'number' | 'boolean' | 'string' | 'object';

function shapeOf(v: unknown): Shape | undefined {
  if (v === undefined || v === null) return undefined;
  if (Array.isArray(v)) return 'list';
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'string') return typeof v as Shape;
  return 'object';
}

const A: Record<Shape, string> = { list: 'a list', number: 'a number', boolean: 'a boolean', string: 'a string', object: 'an object' };

/**
 * The first changed field whose new value would replace one of another shape on the session: a
 * list by anything else, a number by a string or boolean, an object by a scalar (what a mapping
 * that guessed a type wrong does to data other tools read). Undefined when every change keeps its
 * shape, or the field allows it (`allowShapeChange`).
 */
export function shapeChange(
  fields: readonly FieldSpec[],
  current: Record<string, unknown>,
  body: Record<string, unknown>,
  changed: string[],
): string | undefined {
  for (const name of changed) {
    const field = fields.find((f) => f.name === name);
    if (!field || field.allowShapeChange) continue;
    const was = shapeOf(Object.hasOwn(current, name) ? current[name] : undefined);
    const now = shapeOf(body[name]);
    if (!was || !now || was === now) continue;
    const breaks = was === 'list' || was === 'object' || (was === 'number' && (now === 'string' || now === 'boolean'));
    if (breaks)
      return `field ${name}: the session holds ${A[was]} (${JSON.stringify(current[name])}), the row would write ${A[now]} (${JSON.stringify(body[name])}); not sent (allowShapeChange: true on the field allows it)`;
  }
  return undefined;
}
