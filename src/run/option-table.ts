import { extensionList } from '../input/formats.js';
import { LOG_LEVELS } from '../logger.js';
import type { Command, OptionSpec } from './option-spec.js';

export { type Command, type NumberCheck, type OptionSpec, type Origin, UNITS, type UnitName } from './option-spec.js';

/**
 * Every option of `run`, `validate`, `undo` and `apply`, once: its name as the command line spells it, its type and
 * user unit, its default (in that unit), its help text, its check, and where it may come from.
 * The yargs options (cli/options.ts), the names the settings loader accepts (cli/settings.ts), the
 * checks and the one conversion into internal units (run/options.ts) and `summary.json`'s
 * `options` (run/summary.ts) are all derived from this table; no default is written anywhere else.
 */

/** The commands that read an export with a mapping. */
const INPUT = ['run', 'validate'] as const;
const RUN = ['run'] as const;
const ALL = ['run', 'validate', 'undo', 'apply'] as const;
const WRITERS = ['run', 'undo', 'apply'] as const;

export const OPTION_TABLE = [
  {
    name: 'input',
    alias: 'i',
    type: 'string',
    array: true,
    required: true,
    commands: INPUT,
    summary: false,
    describe: `CRM export(s): ${extensionList()}; a folder (its exports, in name order) or a quoted pattern such as "drop/*.csv"`,
  },
  { name: 'mapping', alias: 'm', type: 'string', required: true, commands: INPUT, describe: 'mapping config (YAML or JSON), see config/mapping.example.yaml' },
  {
    name: 'report-dir',
    type: 'string',
    commands: ALL,
    summary: false,
    defaultText: 'reports/<UTC timestamp>/',
    describe: 'where results.csv, failed.csv and summary.json go',
  },
  {
    name: 'log-level',
    type: 'string',
    choices: LOG_LEVELS,
    commands: ALL,
    cliOnly: true,
    defaultText: 'info for run, warn for validate',
    describe: 'log lines on stderr',
  },
  {
    name: 'log-format',
    type: 'string',
    choices: ['json', 'pretty'],
    commands: ALL,
    cliOnly: true,
    defaultText: 'pretty on a terminal, json otherwise',
    describe: 'pretty: readable lines and a progress bar; json: one JSON object a line',
  },
  {
    name: 'progress-every',
    type: 'number',
    default: 10,
    unit: 's',
    check: 'positive',
    commands: ALL,
    describe: 'seconds between progress log lines (JSON logs; a terminal shows a bar)',
  },
  { name: 'url', type: 'string', cliOnly: true, describe: 'API base URL (overrides ET_URL)' },
  { name: 'dry-run', type: 'boolean', default: false, describe: 'do everything but the PUT; rows that would change are would_update' },
  {
    name: 'concurrency',
    type: 'number',
    orAuto: true,
    default: 8,
    check: { whole: 1 },
    describe: 'requests in flight at once; auto: a limit that adapts between 1 and --max-concurrency to the latency and throttling the API shows',
  },
  { name: 'max-concurrency', type: 'number', default: 32, check: { whole: 1 }, describe: 'with --concurrency auto: the most requests in flight' },
  { name: 'page-size', type: 'number', default: 100, check: { whole: 1 }, describe: 'sessions per search or listing page' },
  { name: 'date-range', type: 'string', choices: ['days', 'times'], default: 'days', describe: "conversation keys: what the API's date_range takes" },
  {
    name: 'lookup',
    commands: RUN,
    type: 'string',
    choices: ['search', 'index'],
    defaultText: "the mapping's match.lookup, or search",
    describe: "search: one search per row; index: list the window's sessions once, search only for what it misses",
  },
  {
    name: 'window',
    commands: RUN,
    type: 'string',
    defaultText: 'from match.dateColumn',
    describe: 'index mode: the dates to list, FROM..TO inclusive, e.g. 2025-06-01..2025-06-30',
  },
  {
    name: 'index-max',
    commands: RUN,
    type: 'number',
    default: 1_200_000,
    check: { whole: 1 },
    describe: 'index mode: the most sessions the index may hold (see docs/index-mode.md, memory); a larger window is refused',
  },
  // 0: every merge waits for its listing page to be read for it (grouped with the page's other
  // rows, about a request a hundred rows); 2 s, as first designed, lost 14-16 of 60 statuses
  // another client appended during a run over a shuffled export (docs/index-mode.md)
  {
    name: 'index-fresh',
    commands: RUN,
    type: 'number',
    default: 0,
    unit: 's',
    check: 'atLeastZero',
    describe:
      "index mode: a session's copy older than this many seconds is read again (its listing page, with the page's other rows, or a search) before a row is merged with it, so another writer's changes are kept; 0: every merge follows a read made for it",
  },
  { name: 'max-candidates', type: 'number', default: 1000, check: { whole: 1 }, describe: 'most search hits examined for one key before the row fails' },
  { name: 'timeout', type: 'number', default: 30, unit: 's', check: 'positive', describe: 'seconds per HTTP request' },
  // 10 % 5xx plus 2 % dropped connections fail all 11 tries with a chance of 0.12^11 (about 1e-10):
  // a bad night loses no row (dsbulk also retries 10 times)
  {
    name: 'retries',
    type: 'number',
    default: 10,
    check: { whole: 0 },
    describe: 'retries of a request that failed with 408/5xx or a network error (429s get 10 more)',
  },
  {
    name: 'retry-delay',
    type: 'number',
    default: 250,
    unit: 'ms',
    check: 'atLeastZero',
    describe: 'first retry delay in ms, doubled each retry (with jitter) up to 10 s; Retry-After wins',
  },
  { name: 'rate', type: 'number', check: 'positive', describe: 'most requests per second across the run (a 429 slows the run down in any case)' },
  {
    name: 'max-errors',
    type: 'string',
    describe: 'abort (exit 2) once this many rows did not end well: a count (100) or a percentage (5%, checked from the 100th row on)',
  },
  {
    name: 'max-errors-statuses',
    type: 'string',
    defaultText: 'unmatched,ambiguous,invalid,failed',
    describe: 'the statuses --max-errors counts, comma-separated, e.g. failed,invalid for a night whose unmatched rows are expected',
  },
  {
    name: 'circuit-breaker',
    type: 'number',
    default: 10,
    check: { whole: 1 },
    describe: 'abort (exit 2) after this many rows in a row could not reach the API, or this many requests once the API has been silent for 15 s',
  },
  { name: 'state-dir', type: 'string', summary: false, defaultText: '<report-dir>/state', describe: 'where the journal goes' },
  {
    name: 'resume',
    type: 'string',
    summary: false,
    describe: 'state (or report) directory of an earlier run: rows that ended well there are skipped, the others tried again',
  },
  {
    name: 'stop-timeout',
    type: 'number',
    default: 30,
    unit: 's',
    check: 'atLeastZero',
    describe: 'seconds requests in flight may take to finish after SIGINT/SIGTERM',
  },
  {
    name: 'max-response-mb',
    type: 'number',
    default: 64,
    unit: 'MB',
    check: 'positive',
    describe: 'answers larger than this are refused rather than buffered (the row fails)',
  },
  {
    name: 'max-body-kb',
    type: 'number',
    default: 512,
    unit: 'KB',
    check: 'positive',
    describe: 'metadata bodies larger than this are not sent (the row is invalid)',
  },
  { name: 'insecure', type: 'boolean', default: false, cliOnly: true, describe: 'do not verify the TLS certificate (same as ET_SSL_VERIFY=false)' },
  { name: 'ca-file', type: 'string', cliOnly: true, describe: 'PEM file of a private certificate authority' },
  { name: 'api-version', type: 'string', cliOnly: true, defaultText: 'v1', describe: 'API version in the path (overrides ET_API_VERSION)' },
  // the holder refreshes the lock every quarter of this, at most every 30 s
  {
    name: 'lock-stale',
    type: 'number',
    default: 120,
    unit: 's',
    check: 'positive',
    describe: 'seconds after which a lock on the state directory that its holder stopped refreshing is taken over (a dead pid on this host: at once)',
  },
  {
    name: 'settle',
    commands: INPUT,
    type: 'number',
    default: 60,
    unit: 's',
    check: 'atLeastZero',
    describe: 'files found in a folder or by a pattern that changed less than this many seconds ago are left for a later run',
  },
  {
    name: 'archive',
    commands: RUN,
    type: 'string',
    describe:
      'move each input whose rows all ended well, and that is still the file the run read (not appended or replaced since), to ARCHIVE/<YYYY-MM-DD>/ (not in a dry run; refused with --shard)',
  },
  {
    name: 'shard',
    commands: RUN,
    type: 'string',
    defaultText: 'JOB_COMPLETION_INDEX/JOB_COMPLETIONS; the index alone is refused',
    describe: 'only the rows whose key falls in shard i of n, e.g. 2/3',
  },
  { name: 'metrics-file', type: 'string', describe: "the run's metrics in the Prometheus text format, written at the end, atomically (textfile collector)" },
  { name: 'pushgateway', type: 'string', summary: false, describe: 'push the same metrics to this Prometheus Pushgateway at the end' },
  { name: 'metrics-job', type: 'string', default: 'et-import', describe: 'the job label of the metrics' },
  { name: 'metrics-instance', type: 'string', defaultText: 'this host name', describe: 'the instance label of the metrics' },
  {
    name: 'force',
    type: 'boolean',
    default: false,
    commands: ['undo'],
    describe: 'restore a field also where it changed since the run (default: such a field is kept and reported)',
  },
  {
    name: 'absent-as',
    type: 'string',
    choices: ['null', 'empty'],
    default: 'null',
    commands: ['undo'],
    describe: 'how a key the run added is cleared: null, or the empty string (the API has no documented way to delete a key)',
  },
  {
    name: 'max-plan-age',
    type: 'number',
    default: 24,
    unit: 'h',
    check: 'positive',
    commands: ['apply'],
    describe: 'hours after which a dry run is too old to apply (make a new one)',
  },
  {
    name: 'config',
    type: 'string',
    cliOnly: true,
    from: ['flag'],
    describe: 'YAML/JSON file of option values (flags win over ET_IMPORT_* variables, which win over the file)',
  },
] as const satisfies readonly OptionSpec[];

export type OptionName = (typeof OPTION_TABLE)[number]['name'];

type Camel<S extends string> = S extends `${infer A}-${infer B}` ? `${A}${Capitalize<Camel<B>>}` : S;
type ValueOf<E> = E extends { choices: readonly (infer C)[] }
  ? C
  : E extends { orAuto: true }
    ? number | 'auto'
    : E extends { type: 'number' }
      ? number
      : E extends { type: 'boolean' }
        ? boolean
        : E extends { array: true }
          ? string[]
          : string;
type RunEntry = Exclude<(typeof OPTION_TABLE)[number], { cliOnly: true }>;

/** The options `runImport` takes, in the user's units and named as the flags are (camelCase). */
export type OptionValues = { -readonly [E in RunEntry as Camel<E['name']>]?: ValueOf<E> };

/** `max-body-kb` as `maxBodyKb`: how yargs, the API and `summary.json` name an option. */
export function camel(name: string): string {
  return name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

export function optionSpec(name: string): OptionSpec | undefined {
  return (OPTION_TABLE as readonly OptionSpec[]).find((o) => o.name === name);
}

/** The commands that take an option. */
export const commandsOf = (o: OptionSpec): readonly Command[] => o.commands ?? WRITERS;

/** The options a command takes. */
export function optionsOf(command: Command): readonly OptionSpec[] {
  return (OPTION_TABLE as readonly OptionSpec[]).filter((o) => commandsOf(o).includes(command));
}

/** The default of a numeric option, in its user unit. */
export function defaultOf(name: OptionName): number {
  const d = optionSpec(name)?.default;
  if (typeof d !== 'number') throw new Error(`option ${name} has no numeric default`);
  return d;
}
