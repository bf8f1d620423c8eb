import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import yargs from 'yargs';
import { parse as parseYaml } from 'yaml';
import { parseBool } from '../api/connection.js';
import { EtError, errorMessage } from '../errors.js';
import { closest } from '../mapping/closest.js';
import { runOptions } from './options.js';

export type Source = 'flag' | 'env' | 'config';

export interface Settled {
  argv: string[];
  /** Where each option that is not a default came from. */
  sources: Record<string, Source>;
}

/** Option names that look like a secret: refused in a settings file, and never read from ET_IMPORT_*. */
const SECRET = /pass(word)?|secret|token|auth|credential/i;

/**
 * Completes the `run` command line from the environment and a settings file: every option can
 * come from `ET_IMPORT_<OPTION>` (`ET_IMPORT_CONCURRENCY=16`) or from `--config FILE` (YAML or
 * JSON with option names as keys). Flags win over the environment, which wins over the file. A
 * Kubernetes Indexed Job's JOB_COMPLETION_INDEX/JOB_COMPLETIONS set `--shard` when nothing else does.
 */
export function settleRunArgs(argv: string[], env: NodeJS.ProcessEnv): Settled {
  if (argv[0] !== 'run') return { argv, sources: {} };
  const opts = optionTable();
  const aliases = opts.alias;
  const names = (opts.key ? Object.keys(opts.key) : []).filter((k) => !['help', 'version', 'config'].includes(k) && !Object.values(aliases).flat().includes(k));
  const given = givenFlags(argv.slice(1), aliases);
  const sources: Record<string, Source> = {};
  for (const n of given) sources[n] = 'flag';
  const extra: string[] = [];
  const add = (name: string, value: unknown, source: Source) => {
    if (given.has(name) || sources[name] !== undefined) return;
    sources[name] = source;
    extra.push(...toArgs(name, value, opts));
  };
  for (const name of names) {
    const v = env[`ET_IMPORT_${name.toUpperCase().replace(/-/g, '_')}`];
    if (v !== undefined && v !== '') add(name, v, 'env');
  }
  const configFile = flagValue(argv, 'config') ?? env.ET_IMPORT_CONFIG;
  if (configFile) {
    for (const [name, value] of Object.entries(readSettings(configFile, names))) add(name, value, 'config');
  }
  if (!given.has('shard') && sources.shard === undefined && env.JOB_COMPLETION_INDEX !== undefined && env.JOB_COMPLETIONS !== undefined) {
    add('shard', `${Number(env.JOB_COMPLETION_INDEX) + 1}/${env.JOB_COMPLETIONS}`, 'env');
  }
  return { argv: [...argv, ...extra], sources };
}

/** The options named on the command line (long names), aliases resolved. */
function givenFlags(args: string[], aliases: Record<string, string[]>): Set<string> {
  const byAlias = new Map<string, string>();
  for (const [name, list] of Object.entries(aliases)) for (const a of list) byAlias.set(a, name);
  const out = new Set<string>();
  for (const a of args) {
    if (a === '--') break;
    const long = /^--(?:no-)?([^=]+)/.exec(a);
    if (long) out.add(byAlias.get(long[1]!) ?? long[1]!);
    else if (/^-[a-zA-Z]$/.test(a)) out.add(byAlias.get(a.slice(1)) ?? a.slice(1));
  }
  return out;
}

function flagValue(argv: string[], name: string): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === `--${name}`) return argv[i + 1];
    if (argv[i]!.startsWith(`--${name}=`)) return argv[i]!.slice(name.length + 3);
  }
  return undefined;
}

/** What yargs knows of `run`'s options: their names, aliases and types. */
interface OptionTable {
  key: Record<string, unknown>;
  alias: Record<string, string[]>;
  boolean: string[];
  array: string[];
  number: string[];
}

function optionTable(): OptionTable {
  // getOptions is yargs' own (untyped) view of the options declared
  return (runOptions(yargs()) as unknown as { getOptions(): OptionTable }).getOptions();
}

function toArgs(name: string, value: unknown, opts: OptionTable): string[] {
  const where = `ET_IMPORT_${name.toUpperCase().replace(/-/g, '_')} / ${name} in --config`;
  if (opts.boolean.includes(name)) {
    const b = typeof value === 'boolean' ? value : parseBool(String(value), where);
    return [b ? `--${name}` : `--no-${name}`];
  }
  if (opts.array.includes(name)) {
    const list = Array.isArray(value) ? value.map(String) : String(value).split(',').map((s) => s.trim()).filter(Boolean);
    return [`--${name}`, ...list];
  }
  if (opts.number.includes(name) && Number.isNaN(Number(value))) throw new EtError('E_USAGE', `${where}: expected a number, got ${JSON.stringify(value)}`);
  return [`--${name}=${String(value)}`];
}

/** Option values from a YAML or JSON file: keys are option names (kebab-case or camelCase). */
function readSettings(file: string, names: string[]): Record<string, unknown> {
  let doc: unknown;
  try {
    const text = readFileSync(file, 'utf8');
    doc = extname(file).toLowerCase() === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    throw new EtError('E_USAGE', `--config ${file}: cannot read it (${errorMessage(e)})`, { cause: e });
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new EtError('E_USAGE', `--config ${file}: expected option names and values, e.g. "concurrency: 16"`);
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(doc)) {
    const name = key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
    if (SECRET.test(name) || ['url'].includes(name) && /\/\/[^/]*:[^/]*@/.test(String(value))) {
      throw new EtError('E_USAGE', `--config ${file}: "${key}" looks like a secret, which does not belong in a settings file; give the password as ET_AUTH_SECRET or ET_AUTH_SECRET_FILE (a mounted secret)`);
    }
    if (!names.includes(name)) {
      const guess = closest(name, names);
      throw new EtError('E_USAGE', `--config ${file}: "${key}" is not an option of et-import run${guess ? ` (did you mean "${guess}"?)` : ''}`);
    }
    out[name] = value;
  }
  return out;
}
