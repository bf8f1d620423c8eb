import type { Argv, Options } from 'yargs';
import type { RunOptions } from '../run/options.js';
import { camel, type Command, type OptionSpec, optionsOf } from '../run/option-table.js';
import { parseErrorStatuses, parseMaxErrors, parseShard } from '../run/index.js';

/** A table entry as yargs takes it; the help shows the default in the option's unit. */
function yargsOption(spec: OptionSpec, logLevel: string): Options {
  const o: Options = { type: spec.type, describe: spec.describe };
  // a number, or the word auto: yargs would make "auto" NaN
  if (spec.orAuto) Object.assign(o, { type: 'string', coerce: (v: unknown) => (v === 'auto' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : v) });
  if (spec.alias) o.alias = spec.alias;
  if (spec.array) o.array = true;
  if (spec.required) o.demandOption = true;
  if (spec.choices) o.choices = [...spec.choices];
  if (spec.name === 'log-level') o.default = logLevel;
  else if (spec.default !== undefined) o.default = spec.default;
  else if (spec.defaultText) o.describe = `${spec.describe} [default: ${spec.defaultText}]`;
  return o;
}

/**
 * The options of `run` or `validate`, every one from run/option-table.ts. Their types are what
 * the table says; `runImport` checks the values again, so an API caller is refused what a flag is.
 */
export function commandOptions<T>(y: Argv<T>, command: Command): Argv<Record<string, unknown>> {
  let out = y as unknown as Argv<Record<string, unknown>>;
  for (const spec of optionsOf(command))
    out = out.option(spec.name, yargsOption(spec, command === 'validate' ? 'warn' : 'info')) as Argv<Record<string, unknown>>;
  if (command === 'validate') return out;
  return out.check((a) => {
    // the same checks run again in resolveRunOptions; here they fail before anything is opened
    if (a['max-errors'] !== undefined) parseMaxErrors(a['max-errors'] as string);
    if (a['max-errors-statuses'] !== undefined) parseErrorStatuses(a['max-errors-statuses'] as string);
    if (a.shard !== undefined) parseShard(a.shard as string);
    return true;
  });
}

/** What the parsed arguments hold of the table's options, as `runImport` takes them (same names, same units). */
export function optionValues(a: Record<string, unknown>, command: Command): RunOptions {
  const out: Record<string, unknown> = {};
  for (const spec of optionsOf(command)) {
    if (spec.cliOnly) continue;
    const v = a[camel(spec.name)];
    if (v !== undefined) out[spec.name === 'input' ? 'inputs' : camel(spec.name)] = v;
  }
  return out as unknown as RunOptions;
}
