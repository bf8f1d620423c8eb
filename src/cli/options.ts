import type { Argv, Options } from 'yargs';
import type { RunOptions } from '../run/options.js';
import { camel, type Command, type OptionSpec, optionsOf } from '../run/option-table.js';
import { checkNumberOptions, parseErrorStatuses, parseMaxErrors, parseShard, parseWindow } from '../run/index.js';

/** A table entry as yargs takes it; the help shows the default in the option's unit. */
function yargsOption(spec: OptionSpec, logLevel: string): Options {
  const o: Options = { type: spec.type, describe: spec.describe };
  // a number option takes its text as given, made a number only when it is one: yargs would make
  // "30s" (and "auto") NaN, and the check could not quote what the user typed
  if (spec.type === 'number') Object.assign(o, { type: undefined, requiresArg: true, coerce: (v: unknown) => numberArg(v, spec.orAuto === true) });
  if (spec.alias) o.alias = spec.alias;
  if (spec.array) o.array = true;
  if (spec.required) o.demandOption = true;
  if (spec.choices) o.choices = [...spec.choices];
  if (spec.name === 'log-level') o.default = logLevel;
  else if (spec.default !== undefined) o.default = spec.default;
  else if (spec.defaultText) o.describe = `${spec.describe} [default: ${spec.defaultText}]`;
  return o;
}

const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)(e[+-]?\d+)?$/i;

/** A number option's argument: a number when its text is one, else the text (or auto) for the check to refuse or take. */
function numberArg(v: unknown, orAuto: boolean): unknown {
  if (typeof v !== 'string') return v;
  const t = v.trim();
  if (orAuto && t === 'auto') return t;
  return NUMBER.test(t) && Number.isFinite(Number(t)) ? Number(t) : v;
}

/**
 * The options of `run` or `validate`, every one from run/option-table.ts. Their types are what
 * the table says; `runImport` checks the values again, so an API caller is refused what a flag is.
 */
export function commandOptions<T>(y: Argv<T>, command: Command): Argv<Record<string, unknown>> {
  let out = y as unknown as Argv<Record<string, unknown>>;
  for (const spec of optionsOf(command))
    out = out.option(spec.name, yargsOption(spec, command === 'validate' ? 'warn' : 'info')) as Argv<Record<string, unknown>>;
  return out.check((a) => {
    // the same checks run again in resolveRunOptions; here they fail before anything is opened
    // or read (the connection from ET_*, the mapping)
    checkNumberOptions(a, command);
    if (command === 'validate') return true;
    if (a['max-errors'] !== undefined) parseMaxErrors(a['max-errors'] as string);
    if (a['max-errors-statuses'] !== undefined) parseErrorStatuses(a['max-errors-statuses'] as string);
    if (a.shard !== undefined) parseShard(a.shard as string);
    if (a.window !== undefined) parseWindow(a.window as string);
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
