import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { YAMLError, parse as parseYaml } from 'yaml';
import { parseBool } from '../api/connection.js';
import { EtError } from '../errors.js';
import { closest } from '../mapping/closest.js';
import { type OptionSpec, type Origin, optionsOf } from '../run/option-table.js';

export type Source = Origin;

export interface Settled {
  argv: string[];
  /** Where each option that is not a default came from. */
  sources: Record<string, Source>;
}

/** Option names that look like a secret: refused in a settings file, and never read from ET_IMPORT_* (no option of the table may be named so: a unit test checks it). */
const SECRET = /pass(word)?|secret|token|auth|credential/i;

/**
 * Completes the `run` command line from the environment and a settings file: every option can
 * come from `ET_IMPORT_<OPTION>` (`ET_IMPORT_CONCURRENCY=16`) or from `--config FILE` (YAML or
 * JSON with option names as keys). Flags win over the environment, which wins over the file. A
 * Kubernetes Indexed Job's JOB_COMPLETION_INDEX/JOB_COMPLETIONS set `--shard` when nothing else does.
 */
export function settleRunArgs(argv: string[], env: NodeJS.ProcessEnv): Settled {
  if (argv[0] !== 'run') return { argv, sources: {} };
  const specs = new Map(
    optionsOf('run')
      .filter((o) => !SECRET.test(o.name))
      .map((o) => [o.name, o]),
  );
  const from = (origin: Origin) => [...specs.values()].filter((o) => (o.from ?? ['flag', 'env', 'config']).includes(origin)).map((o) => o.name);
  refuseUnknownEnv(env, from('env'));
  const given = givenFlags(argv.slice(1), [...specs.values()]);
  const sources: Record<string, Source> = {};
  for (const n of given) sources[n] = 'flag';
  const extra: string[] = [];
  const add = (name: string, value: unknown, source: Source) => {
    if (given.has(name) || sources[name] !== undefined) return;
    sources[name] = source;
    extra.push(...toArgs(specs.get(name)!, value));
  };
  for (const name of from('env')) {
    const v = env[envName(name)];
    if (v !== undefined && v !== '') add(name, v, 'env');
  }
  const configFile = flagValue(argv, 'config') ?? env.ET_IMPORT_CONFIG;
  if (configFile) {
    for (const [name, value] of Object.entries(readSettings(configFile, from('config')))) add(name, value, 'config');
  }
  if (!given.has('shard') && sources.shard === undefined && env.JOB_COMPLETION_INDEX !== undefined) {
    add('shard', jobShard(env.JOB_COMPLETION_INDEX, env.JOB_COMPLETIONS), 'env');
  }
  return { argv: [...argv, ...extra], sources };
}

const envName = (option: string) => `ET_IMPORT_${option.toUpperCase().replace(/-/g, '_')}`;

/** An ET_IMPORT_ variable that names no option would be ignored without a word: refused, with the nearest name. */
function refuseUnknownEnv(env: NodeJS.ProcessEnv, options: string[]): void {
  const known = [...options.map(envName), 'ET_IMPORT_CONFIG'];
  for (const name of Object.keys(env)) {
    if (!name.startsWith('ET_IMPORT_') || known.includes(name)) continue;
    const guess = closest(name, known);
    const secret = SECRET.test(name.slice('ET_IMPORT_'.length)) ? '; secrets come from ET_AUTH_SECRET or ET_AUTH_SECRET_FILE' : '';
    throw new EtError(
      'E_USAGE',
      `${name} is not an option of et-import run${guess ? ` (did you mean ${guess}?)` : ''}${secret}; unset it, or name an option: ${known.slice(0, 6).join(', ')}, ...`,
    );
  }
}

/**
 * `--shard` of a pod of a Kubernetes Indexed Job. Kubernetes gives each pod JOB_COMPLETION_INDEX
 * (0-based) but not the number of pods: without JOB_COMPLETIONS beside it, every pod would take
 * every row, so that is refused rather than run unsharded.
 */
function jobShard(index: string, completions: string | undefined): string {
  if (completions === undefined || completions.trim() === '') {
    throw new EtError(
      'E_USAGE',
      `JOB_COMPLETION_INDEX is ${JSON.stringify(index)} but JOB_COMPLETIONS is not set: Kubernetes gives each pod of an Indexed Job only its index; set JOB_COMPLETIONS to the Job's spec.completions in the pod's env (see examples/k8s/backfill-indexed-job.yaml), or give --shard i/n`,
    );
  }
  const i = Number(index);
  const n = Number(completions);
  if (!/^\s*\d+\s*$/.test(index) || !/^\s*\d+\s*$/.test(completions) || n < 1 || i >= n) {
    throw new EtError(
      'E_USAGE',
      `JOB_COMPLETION_INDEX ${JSON.stringify(index)} and JOB_COMPLETIONS ${JSON.stringify(completions)} do not make a shard: expected a whole index from 0 to JOB_COMPLETIONS - 1`,
    );
  }
  return `${i + 1}/${n}`;
}

/** The options named on the command line (long names), aliases resolved. */
function givenFlags(args: string[], specs: OptionSpec[]): Set<string> {
  const byAlias = new Map<string, string>();
  for (const o of specs) if (o.alias) byAlias.set(o.alias, o.name);
  const out = new Set<string>();
  for (const a of args) {
    if (a === '--') break;
    const long = /^--(?:no-)?([^=]+)/.exec(a);
    // yargs takes --stateDir for --state-dir: so does the check of what was given
    const name = long?.[1]?.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
    if (name) out.add(byAlias.get(name) ?? name);
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

function toArgs(spec: OptionSpec, value: unknown): string[] {
  const name = spec.name;
  const where = `ET_IMPORT_${name.toUpperCase().replace(/-/g, '_')} / ${name} in --config`;
  if (spec.type === 'boolean') {
    const b = typeof value === 'boolean' ? value : parseBool(String(value), where);
    return [b ? `--${name}` : `--no-${name}`];
  }
  if (spec.array) {
    const list = Array.isArray(value)
      ? value.map(String)
      : String(value)
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
    return [`--${name}`, ...list];
  }
  if (spec.type === 'number' && Number.isNaN(Number(value)) && !(spec.orAuto && value === 'auto'))
    throw new EtError(
      'E_USAGE',
      `${where}: expected a number${spec.orAuto ? ' or auto' : ''}${spec.unit ? ` (${spec.unit})` : ''}, got ${JSON.stringify(value)}`,
    );
  return [`--${name}=${String(value)}`];
}

/** Where a settings file fails to parse and what is wrong, in words of our own: no text of the file. */
function syntaxProblem(e: unknown, json: boolean): string {
  const kind = json ? 'JSON' : 'YAML';
  if (!(e instanceof YAMLError)) return `not valid ${kind}`;
  const pos = e.linePos?.[0];
  return `not valid ${kind}${pos ? ` at line ${pos.line}, column ${pos.col}` : ''} (${e.code.toLowerCase().replace(/_/g, ' ')})`;
}

/** Option values from a YAML or JSON file: keys are option names (kebab-case or camelCase). */
function readSettings(file: string, names: string[]): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new EtError(
      'E_USAGE',
      `--config ${file}: cannot read it (${code === 'ENOENT' ? 'file not found' : code === 'EISDIR' ? 'a directory, not a file' : (code ?? 'error')})`,
    );
  }
  let doc: unknown;
  try {
    // JSON through the YAML parser too (JSON is YAML): its errors say where, JSON.parse's do not
    doc = parseYaml(text);
  } catch (e) {
    // never the parser's own message: it quotes the offending line, which may be a password
    throw new EtError(
      'E_USAGE',
      `--config ${file}: ${syntaxProblem(e, extname(file).toLowerCase() === '.json')}; the file must hold option names and values, e.g. "concurrency: 16"`,
    );
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new EtError('E_USAGE', `--config ${file}: expected option names and values, e.g. "concurrency: 16"`);
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(doc)) {
    const name = key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
    // a key that is no option's spelling may be a fragment of a secret (a password file named
    // by mistake): it is not echoed
    if (!names.includes(name) && !/^[A-Za-z][A-Za-z0-9_-]{0,63}$/.test(key)) {
      throw new EtError(
        'E_USAGE',
        `--config ${file}: holds a key that is not an option of et-import run (not shown: it does not look like an option name); is it the right file?`,
      );
    }
    if (SECRET.test(name) || (['url'].includes(name) && /\/\/[^/]*:[^/]*@/.test(String(value)))) {
      throw new EtError(
        'E_USAGE',
        `--config ${file}: "${key}" looks like a secret, which does not belong in a settings file; give the password as ET_AUTH_SECRET or ET_AUTH_SECRET_FILE (a mounted secret)`,
      );
    }
    if (!names.includes(name)) {
      const guess = closest(name, names);
      throw new EtError('E_USAGE', `--config ${file}: "${key}" is not an option of et-import run${guess ? ` (did you mean "${guess}"?)` : ''}`);
    }
    out[name] = value;
  }
  return out;
}
