/** The shape of an entry of run/option-table.ts: what an option is, in the user's terms. */

/** Where a value may come from: a flag, an `ET_IMPORT_<NAME>` variable, a `--config` file. */
export type Origin = 'flag' | 'env' | 'config';

/** A user unit: what one of it is in the internal unit (ms or bytes). */
export const UNITS = {
  h: { factor: 3_600_000, name: 'h' },
  s: { factor: 1000, name: 's' },
  ms: { factor: 1, name: 'ms' },
  MB: { factor: 1024 * 1024, name: 'MB' },
  KB: { factor: 1024, name: 'KB' },
} as const;
export type UnitName = keyof typeof UNITS;

/** How a number is checked: a whole number of at least `min`, above 0, or 0 or more. */
export type NumberCheck = { whole: number } | 'positive' | 'atLeastZero';

export interface OptionSpec {
  name: string;
  type: 'string' | 'number' | 'boolean';
  describe: string;
  alias?: string;
  array?: boolean;
  choices?: readonly string[];
  required?: boolean;
  /** In the user's unit. */
  default?: number | boolean | string;
  /** Shown in the help where the default is not a plain value. */
  defaultText?: string;
  unit?: UnitName;
  check?: NumberCheck;
  /** The commands that take it (default: the commands that write: run, undo, apply). */
  commands?: readonly Command[];
  /** Where it may come from (default: flag, env, config). */
  from?: readonly Origin[];
  /** Part of `summary.json`'s options (default: yes, for the options a run resolves). */
  summary?: boolean;
  /** Read by the command line itself (logging, connection, settings), not by `runImport`. */
  cliOnly?: boolean;
  /** A number, or the word `auto`. */
  orAuto?: boolean;
}

export type Command = 'run' | 'validate' | 'undo' | 'apply';
