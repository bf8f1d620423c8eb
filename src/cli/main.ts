import yargs, { type ArgumentsCamelCase, type Argv } from 'yargs';
import { EXAMPLES } from './examples.js';
import { ConfigError, EtError } from '../errors.js';
import { registerEnvSecrets } from '../api/connection.js';
import { closest } from '../mapping/closest.js';
import { scrub } from '../redact.js';
import { EXIT } from '../run/index.js';
import { commandsOf, OPTION_TABLE, optionSpec } from '../run/option-table.js';
import * as apply from './commands/apply.js';
import * as checkApi from './commands/check.js';
import * as find from './commands/find.js';
import * as history from './commands/history.js';
import * as inspect from './commands/inspect.js';
import * as run from './commands/run.js';
import * as sandbox from './commands/sandbox.js';
import * as undo from './commands/undo.js';
import * as validate from './commands/validate.js';
import { errorLine, type Io, jsonStderr, type Outcome } from './io.js';
import { settleRunArgs } from './settings.js';

export type { Io };

const EPILOG = `Exit codes:
  0  every row updated, unchanged, would_update or skipped
  1  the run finished and some rows did not (unmatched, ambiguous, invalid, failed; kept in an undo,
     conflict in an apply), or an export of a drop folder could not be used
  2  the run was aborted midway: --max-errors, the circuit breaker, or an input that broke off (resumable)
  3  nothing could be done, or the run cannot go on: bad usage or config, unreadable input, login
     refused, API unreachable, another run holding the state directory's lock, a --report-dir
     holding another run's report, a plan too old to apply, --archive with
     --shard, a listing whose paging cannot be trusted (index mode), a journal or report
     file that cannot be written, an internal error (when the run had started, it is resumable)
  4  interrupted (SIGINT/SIGTERM): rows in flight finished, report and journal written (resumable)

Connection (same variables as the Ender Turing Python SDK):
  ET_URL           https://company.enderturing.com (may carry user:password@ and ?ssl_verify=)
  ET_AUTH_KEY      user name            ET_AUTH_SECRET  password (or ET_AUTH_SECRET_FILE)
  ET_API_VERSION   default v1           ET_SSL_VERIFY   default true`;

interface Command<A> {
  describe: string;
  builder: (y: Argv) => Argv<A>;
  handler: (a: ArgumentsCamelCase<A>, io: Io, outcome: Outcome) => Promise<void>;
}

/**
 * The yargs parser with every command; handlers report their exit code through `outcome`.
 * With `check`, commands are parsed and checked but not run (the examples' test uses it).
 */
export function createParser(io: Io, outcome: Outcome, check?: (command: string, args: unknown) => void, argv?: string[]): Argv {
  const add = <A>(y: Argv, name: string, c: Command<A>) =>
    y.command(
      name,
      c.describe,
      (yy) => (EXAMPLES[name] ?? []).reduce((b, [cmd, what]) => b.example(cmd, what), c.builder(yy)),
      async (a) => {
        if (check) check(name, a);
        else await c.handler(a, io, outcome);
      },
    );
  let y = yargs().scriptName('et-import').usage('$0 <command> [options]\n\nAttach CRM export data to Ender Turing conversations.');
  y = add(y, 'run', run as Command<unknown>);
  y = add(y, 'validate', validate as Command<unknown>);
  y = add(y, 'inspect <file>', inspect as unknown as Command<unknown>);
  y = add(y, 'undo <runs..>', undo as Command<unknown>);
  y = add(y, 'apply <plan>', apply as Command<unknown>);
  y = add(y, 'history [root..]', history as unknown as Command<unknown>);
  y = add(y, 'find [key]', find as unknown as Command<unknown>);
  y = add(y, 'check', checkApi as unknown as Command<unknown>);
  y = add(y, 'sandbox', sandbox as unknown as Command<unknown>);
  return (
    y
      .completion('completion', 'print a bash/zsh completion script: et-import completion >> ~/.bashrc')
      .demandCommand(1, 'name a command: run, validate, inspect, undo, apply, history, find, check or sandbox')
      .strict()
      .epilog(EPILOG)
      // yargs renders the whole help text after starting every command, to cache it: wrapped to the
      // terminal, that took ~0.1 s of CPU a run. Unwrapped unless help is what was asked for.
      .wrap(argv && !wantsHelp(argv) ? null : Math.min(110, process.stdout.columns || 100))
      .exitProcess(false)
      .fail((msg, err) => {
        throw err ?? new EtError('E_USAGE', withSuggestion(msg, argv?.[0]));
      })
      .help()
      .version()
  );
}

/** The options of the commands besides the table's (inspect, history, sandbox), for "did you mean". */
const OTHER_OPTIONS = [
  'time',
  'agent',
  'phone',
  'region',
  'help',
  'version',
  'write-mapping',
  'sheet',
  'delimiter',
  'encoding',
  'header-row',
  'json',
  'port',
  'host',
  'sessions',
  'latency',
  'page-size',
  'sample',
];

/**
 * "Unknown argument: concurency" with "did you mean --concurrency?" for each name a known option
 * is near; an option of other commands only says which commands take it.
 */
function withSuggestion(msg: string, command: string | undefined): string {
  const m = /^Unknown arguments?: (.+)$/.exec(msg);
  if (!m) return msg;
  const known = [...OPTION_TABLE.map((o) => o.name), ...OTHER_OPTIONS];
  const hints = m[1]!.split(', ').flatMap((name) => {
    const kebab = name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
    const elsewhere = optionSpec(kebab);
    if (elsewhere) return [`--${kebab} is an option of ${commandsOf(elsewhere).join(', ')}${command && !command.startsWith('-') ? `, not of ${command}` : ''}`];
    const guess = closest(kebab, known);
    return guess ? [`--${name}: did you mean --${guess}?`] : [];
  });
  return hints.length > 0 ? `${msg} (${[...new Set(hints)].join('; ')})` : msg;
}

/** Whether the arguments ask for help (or name no command, which shows it). */
function wantsHelp(argv: string[]): boolean {
  return argv.length === 0 || argv.some((a) => a === '--help' || a === '-h' || a === 'help');
}

/** Parses arguments and runs a command. Returns the exit code; never calls process.exit. */
export async function main(argv: string[], io: Io = { env: process.env, stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const outcome: Outcome = { code: EXIT.OK };
  try {
    // the scrubber knows the secrets before any settings file is read
    registerEnvSecrets(io.env);
    const settled = settleRunArgs(argv, io.env);
    outcome.sources = settled.sources;
    await createParser(io, outcome, undefined, settled.argv).parseAsync(settled.argv);
    return outcome.code;
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    const code = err instanceof EtError ? err.code : undefined;
    // off a terminal, a JSON line like every other line of stderr (a cron log stays machine-readable)
    io.stderr.write(
      errorLine(`${err instanceof ConfigError ? '' : 'error: '}${scrub(msg)}`, jsonStderr(io.stderr, argv), { ...(code && { code }), exitCode: EXIT.FATAL }),
    );
    return EXIT.FATAL;
  }
}
