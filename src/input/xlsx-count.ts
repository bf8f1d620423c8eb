import { createInflateRaw } from 'node:zlib';
import type { InputSpec } from '../mapping/types.js';
import { readDirectory, type Entry } from './zip-guard.js';
import { readSnapshot, type Snapshot } from './snapshot.js';

/** An XLSX sheet's data rows, from its `<dimension>`: undefined when it cannot be told. */
export async function xlsxRows(file: string, spec: InputSpec, snap: Snapshot): Promise<number | undefined> {
  const entries = await readDirectory(file, 10_000, snap);
  const byName = new Map(entries.map((e) => [e.name, e]));
  const workbook = await inflateHead(snap, byName.get('xl/workbook.xml'), 1 << 20);
  const rels = await inflateHead(snap, byName.get('xl/_rels/workbook.xml.rels'), 1 << 20);
  const sheets = [...workbook.matchAll(/<sheet\b[^>]*>/g)].map((m) => ({ name: attr(m[0], 'name'), id: attr(m[0], 'r:id'), state: attr(m[0], 'state') }));
  const wanted = spec.sheet;
  const sheet =
    wanted === undefined
      ? sheets.find((s) => s.state !== 'hidden' && s.state !== 'veryHidden')
      : typeof wanted === 'number'
        ? sheets[wanted - 1]
        : sheets.find((s) => s.name?.trim().toLowerCase() === wanted.trim().toLowerCase());
  if (!sheet?.id) return undefined;
  const rel = [...rels.matchAll(/<Relationship\b[^>]*>/g)].map((m) => m[0]).find((r) => attr(r, 'Id') === sheet.id);
  const target = rel && attr(rel, 'Target');
  if (!target) return undefined;
  const path = target.startsWith('/') ? target.slice(1) : `xl/${target}`;
  const head = await inflateHead(snap, byName.get(path), 64 * 1024);
  const dim = /<dimension\s+ref="[A-Z]+(\d+)(?::[A-Z]+(\d+))?"/.exec(head);
  if (!dim) return undefined;
  const lastRow = Number(dim[2] ?? dim[1]);
  return Math.max(0, lastRow - (spec.headerRow ?? 1));
}

function attr(tag: string, name: string): string | undefined {
  return new RegExp(`\\s${name.replace(':', '\\:')}="([^"]*)"`).exec(tag)?.[1];
}

/** The first `max` characters of a zip entry. */
async function inflateHead(snap: Snapshot, e: Entry | undefined, max: number): Promise<string> {
  if (!e) return '';
  const input = await readSnapshot(snap, { start: e.offset, end: e.offset + Math.max(0, e.compressed - 1) });
  if (e.method === 0) {
    let text = '';
    for await (const c of input as AsyncIterable<Buffer>) {
      text += c.toString('utf8');
      if (text.length >= max) break;
    }
    input.destroy();
    return text;
  }
  const inflate = createInflateRaw();
  input.pipe(inflate);
  let text = '';
  try {
    for await (const c of inflate as AsyncIterable<Buffer>) {
      text += c.toString('utf8');
      if (text.length >= max) break;
    }
  } catch {
    // a truncated entry: what was read is enough, or nothing is known
  } finally {
    input.destroy();
    inflate.destroy();
  }
  return text;
}
