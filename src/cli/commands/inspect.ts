import { writeFile } from 'node:fs/promises';
import type { ArgumentsCamelCase, Argv } from 'yargs';
import { extensionList } from '../../input/formats.js';
import type { InputSpec } from '../../mapping/types.js';
import type { InstanceKeys } from '../../inspect/instance.js';
import type { Io } from '../io.js';
import { connectedClient } from './find.js';

/**
 * The metadata keys the instance's sessions hold, when a connection is configured; otherwise (or
 * when it cannot be read: said, not hidden) the help article's keys.
 */
async function instanceKeys(io: Io, url: string | undefined, sample: number, offline: boolean): Promise<InstanceKeys | undefined> {
  const { OFFLINE } = await import('../../inspect.js');
  const { sampleInstance } = await import('../../inspect/instance.js');
  if (offline) return { ...OFFLINE, offline: '--offline' };
  if (!url && !io.env.ET_URL) return undefined;
  let client: ReturnType<typeof connectedClient> | undefined;
  try {
    client = connectedClient(io, url);
    return await sampleInstance(client, sample, 100);
  } catch (e) {
    return { ...OFFLINE, offline: `the instance could not be read: ${e instanceof Error ? e.message : String(e)}` };
  } finally {
    await client?.close();
  }
}

export const describe = 'show what et-import sees in an export (format, encoding, delimiter, sheets, columns, guessed types) and a starter mapping';
export const builder = <T>(y: Argv<T>) =>
  y
    .positional('file', { type: 'string', demandOption: true, describe: `an export: ${extensionList()}` })
    .option('write-mapping', { type: 'string', describe: 'also write the starter mapping to this file' })
    .option('sheet', { type: 'string', describe: 'XLSX sheet name or number [default: the first visible sheet]' })
    .option('delimiter', { type: 'string', describe: 'CSV delimiter [default: detected]' })
    .option('encoding', { type: 'string', describe: 'CSV encoding [default: detected]' })
    .option('header-row', { type: 'number', describe: 'row of the header [default: 1]' })
    .option('url', { type: 'string', describe: 'API base URL (overrides ET_URL): the proposal follows what its sessions hold' })
    .option('sample', { type: 'number', default: 500, describe: 'recent sessions read (read-only) to learn the metadata keys they hold' })
    .option('offline', { type: 'boolean', default: false, describe: "propose from the help article's keys, without reading the instance" });
type Args = ArgumentsCamelCase<Awaited<ReturnType<typeof builder>['argv']>>;

export async function handler(a: Args, io: Io): Promise<void> {
  const { inspectFile, formatInspection } = await import('../../inspect.js');
  const spec: InputSpec = {};
  if (a.sheet !== undefined) spec.sheet = /^\d+$/.test(a.sheet) ? Number(a.sheet) : a.sheet;
  if (a.delimiter !== undefined) spec.delimiter = a.delimiter === '\\t' ? '\t' : a.delimiter;
  if (a.encoding !== undefined) spec.encoding = a.encoding;
  if (a.headerRow !== undefined) spec.headerRow = a.headerRow;
  const file = a.file as string;
  const result = await inspectFile(file, spec, await instanceKeys(io, a.url, a.sample, a.offline));
  io.stdout.write(formatInspection(result));
  if (a.writeMapping) {
    await writeFile(a.writeMapping, result.mapping);
    io.stdout.write(`starter mapping written to ${a.writeMapping}; check it with: et-import validate -i ${file} -m ${a.writeMapping}\n`);
  }
}
