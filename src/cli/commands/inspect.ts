import { writeFile } from 'node:fs/promises';
import type { ArgumentsCamelCase, Argv } from 'yargs';
import { extensionList } from '../../input/formats.js';
import type { InputSpec } from '../../mapping/types.js';
import type { Io } from '../io.js';

export const describe = 'show what et-import sees in an export (format, encoding, delimiter, sheets, columns, guessed types) and a starter mapping';
export const builder = <T>(y: Argv<T>) =>
  y
    .positional('file', { type: 'string', demandOption: true, describe: `an export: ${extensionList()}` })
    .option('write-mapping', { type: 'string', describe: 'also write the starter mapping to this file' })
    .option('sheet', { type: 'string', describe: 'XLSX sheet name or number [default: the first visible sheet]' })
    .option('delimiter', { type: 'string', describe: 'CSV delimiter [default: detected]' })
    .option('encoding', { type: 'string', describe: 'CSV encoding [default: detected]' })
    .option('header-row', { type: 'number', describe: 'row of the header [default: 1]' });
type Args = ArgumentsCamelCase<Awaited<ReturnType<typeof builder>['argv']>>;

export async function handler(a: Args, io: Io): Promise<void> {
  const { inspectFile, formatInspection } = await import('../../inspect.js');
  const spec: InputSpec = {};
  if (a.sheet !== undefined) spec.sheet = /^\d+$/.test(a.sheet) ? Number(a.sheet) : a.sheet;
  if (a.delimiter !== undefined) spec.delimiter = a.delimiter === '\\t' ? '\t' : a.delimiter;
  if (a.encoding !== undefined) spec.encoding = a.encoding;
  if (a.headerRow !== undefined) spec.headerRow = a.headerRow;
  const file = a.file as string;
  const result = await inspectFile(file, spec);
  io.stdout.write(formatInspection(result));
  if (a.writeMapping) {
    await writeFile(a.writeMapping, result.mapping);
    io.stdout.write(`starter mapping written to ${a.writeMapping}; check it with: et-import validate -i ${file} -m ${a.writeMapping}\n`);
  }
}
