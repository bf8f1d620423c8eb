import type { Argv } from 'yargs';
import { LOG_LEVELS, type LogLevel } from '../logger.js';
import { DEFAULTS, parseErrorStatuses, parseMaxErrors, parseShard } from '../run/index.js';

const INPUT = { alias: 'i', type: 'string', array: true, demandOption: true, describe: 'CRM export(s): .csv, .tsv, .txt or .xlsx; a folder (its exports, in name order) or a quoted pattern such as "drop/*.csv"' } as const;
const REPORT_DIR = { type: 'string', describe: 'where results.csv, failed.csv and summary.json go [default: reports/<UTC timestamp>/]' } as const;

/** Options of `validate`, which `run` shares. */
export function inputOptions<T>(y: Argv<T>, logLevel: LogLevel) {
  return y
    .option('input', INPUT)
    .option('mapping', { alias: 'm', type: 'string', demandOption: true, describe: 'mapping config (YAML or JSON), see config/mapping.example.yaml' })
    .option('report-dir', REPORT_DIR)
    .option('log-level', { choices: LOG_LEVELS, default: logLevel, describe: 'log lines on stderr' })
    .option('log-format', { choices: ['json', 'pretty'] as const, describe: 'pretty: readable lines and a progress bar; json: one JSON object a line [default: pretty on a terminal, json otherwise]' })
    .option('progress-every', { type: 'number', default: DEFAULTS.progressEverySec, describe: 'seconds between progress log lines (JSON logs; a terminal shows a bar)' });
}

/** Every option of `run`, with its default taken from run/options DEFAULTS. */
export function runOptions<T>(y: Argv<T>) {
  return inputOptions(y, 'info')
    .option('url', { type: 'string', describe: 'API base URL (overrides ET_URL)' })
    .option('dry-run', { type: 'boolean', default: false, describe: 'do everything but the PUT; rows that would change are would_update' })
    .option('concurrency', { type: 'number', default: DEFAULTS.concurrency, describe: 'rows in flight at once' })
    .option('page-size', { type: 'number', default: DEFAULTS.pageSize, describe: 'sessions per search or listing page' })
    .option('lookup', { choices: ['search', 'index'] as const, describe: "search: one search per row; index: list the window's sessions once, search only for what it misses [default: the mapping's match.lookup, or search]" })
    .option('window', { type: 'string', describe: 'index mode: the dates to list, FROM..TO inclusive, e.g. 2025-06-01..2025-06-30 [default: from match.dateColumn]' })
    .option('index-max', { type: 'number', default: DEFAULTS.indexMax, describe: 'index mode: the most sessions the index may hold; a larger window is refused' })
    .option('index-fresh', { type: 'number', default: DEFAULTS.indexFreshSec, describe: "index mode: a session's copy older than this many seconds is read again (its listing page, with the page's other rows, or a search) before a row is merged with it, so another writer's changes are kept; 0: every merge follows a read made for it" })
    .option('max-candidates', { type: 'number', default: DEFAULTS.maxCandidates, describe: 'most search hits examined for one key before the row fails' })
    .option('timeout', { type: 'number', default: DEFAULTS.timeoutSec, describe: 'seconds per HTTP request' })
    .option('retries', { type: 'number', default: DEFAULTS.retries, describe: 'retries of a request that failed with 408/5xx or a network error (429s get 10 more)' })
    .option('retry-delay', { type: 'number', default: DEFAULTS.retryDelayMs, describe: 'first retry delay in ms, doubled each retry (with jitter) up to 10 s; Retry-After wins' })
    .option('rate', { type: 'number', describe: 'most requests per second across the run (a 429 slows the run down in any case)' })
    .option('max-errors', { type: 'string', describe: 'abort (exit 2) once this many rows did not end well: a count (100) or a percentage (5%, checked from the 100th row on)' })
    .option('max-errors-statuses', { type: 'string', describe: 'the statuses --max-errors counts, comma-separated, e.g. failed,invalid for a night whose unmatched rows are expected [default: unmatched,ambiguous,invalid,failed]' })
    .option('circuit-breaker', { type: 'number', default: DEFAULTS.circuitBreaker, describe: 'abort (exit 2) after this many rows in a row could not reach the API, or this many requests once the API has been silent for 15 s' })
    .option('state-dir', { type: 'string', describe: 'where the journal goes [default: <report-dir>/state]' })
    .option('resume', { type: 'string', describe: 'state (or report) directory of an earlier run: rows that ended well there are skipped, the others tried again' })
    .option('stop-timeout', { type: 'number', default: DEFAULTS.stopTimeoutSec, describe: 'seconds requests in flight may take to finish after SIGINT/SIGTERM' })
    .option('max-response-mb', { type: 'number', default: DEFAULTS.maxResponseMb, describe: 'answers larger than this are refused rather than buffered (the row fails)' })
    .option('max-body-kb', { type: 'number', default: DEFAULTS.maxBodyKb, describe: 'metadata bodies larger than this are not sent (the row is invalid)' })
    .option('insecure', { type: 'boolean', default: false, describe: 'do not verify the TLS certificate (same as ET_SSL_VERIFY=false)' })
    .option('ca-file', { type: 'string', describe: 'PEM file of a private certificate authority' })
    .option('api-version', { type: 'string', describe: 'API version in the path (overrides ET_API_VERSION) [default: v1]' })
    .option('lock-stale', { type: 'number', default: DEFAULTS.lockStaleSec, describe: 'seconds after which a lock on the state directory that its holder stopped refreshing is taken over (a dead pid on this host: at once)' })
    .option('settle', { type: 'number', default: DEFAULTS.settleSec, describe: 'files found in a folder or by a pattern that changed less than this many seconds ago are left for a later run' })
    .option('archive', { type: 'string', describe: 'move each input whose rows all ended well, and that is still the file the run read (not appended or replaced since), to ARCHIVE/<YYYY-MM-DD>/ (not in a dry run; refused with --shard)' })
    .option('shard', { type: 'string', describe: 'only the rows whose key falls in shard i of n, e.g. 2/3 (default: JOB_COMPLETION_INDEX/JOB_COMPLETIONS; the index alone is refused)' })
    .option('config', { type: 'string', describe: 'YAML/JSON file of option values (flags win over ET_IMPORT_* variables, which win over the file)' })
    .check((a) => {
      // the same checks run again in resolveRunOptions; here they fail before anything is opened
      if (a['max-errors'] !== undefined) parseMaxErrors(a['max-errors']);
      if (a['max-errors-statuses'] !== undefined) parseErrorStatuses(a['max-errors-statuses']);
      if (a.shard !== undefined) parseShard(a.shard);
      return true;
    });
}
