import { InputError } from '../errors.js';
import type { InputSpec } from '../mapping/types.js';
import { formatOf, refusal } from './formats.js';
import { takeSnapshot, type Snapshot } from './snapshot.js';
import type { RowSource } from './types.js';

/**
 * Opens an export by its extension (see formats.ts). With a snapshot, reads the bytes the run
 * first saw (see snapshot.ts); without, notes one now.
 */
export async function openRows(file: string, spec: InputSpec = {}, snap?: Snapshot): Promise<RowSource> {
  const format = formatOf(file);
  if (!format) throw new InputError(file, refusal(file)!);
  return format.open(file, spec, snap ?? (await takeSnapshot(file)));
}
