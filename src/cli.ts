#!/usr/bin/env -S node --max-semi-space-size=4 --max-old-space-size=1024
import { realpathSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import type { InputSpec } from './mapping/types.js';
import { fileURLToPath } from 'node:url';
import yargs from 'yargs';
import { readConnection } from './api/connection.js';
import { ConfigError, EtError, errorMessage } from './errors.js';
import { createLogger, LOG_LEVELS, type LogLevel } from './logger.js';
import { scrub } from './redact.js';
import { EXIT, parseMaxErrors, runImport } from './run.js';
import { DEFAULT_USER, Sandbox, parseSessions } from './sandbox/server.js';

export interface Io {
  env: NodeJS.ProcessEnv;
  stdout: { write(s: string): unknown };
  stderr: { write(s: string): unknown };
  /** For tests: aborts a run as a signal would. */
  signal?: AbortSignal;
}

const EPILOG = `Exit codes:
  0  every row updated, unchanged, would_update or skipped
  1  the run finished and some rows did not (unmatched, ambiguous, invalid, failed)
  2  the run was aborted midway: --max-errors, the circuit breaker, or an input that broke off (resumable)
  3  nothing could be done: bad usage or config, unreadable input, login refused, API unreachable
     (a login refused in the middle of a run also ends it with 3; it is resumable)
  4  interrupted (SIGINT/SIGTERM): rows in flight finished, report and journal written (resumable)

Connection (same variables as the Ender Turing Python SDK):
  ET_URL           https://company.enderturing.com (may carry user:password@ and ?ssl_verify=)
  ET_AUTH_KEY      user name            ET_AUTH_SECRET  password (or ET_AUTH_SECRET_FILE)
  ET_API_VERSION   default v1           ET_SSL_VERIFY   default true`;

/** Parses arguments and runs a command. Returns the exit code; never calls process.exit. */
export async function main(argv: string[], io: Io = { env: process.env, stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  let code: number = EXIT.OK;
  const fail = (err: unknown): number => {
    const msg = err instanceof EtError || err instanceof Error ? err.message : String(err);
    io.stderr.write(`et-import: ${err instanceof ConfigError ? '' : 'error: '}${scrub(msg)}\n`);
    return EXIT.FATAL;
  };
  const parser = yargs()
    .scriptName('et-import')
    .usage('$0 <command> [options]\n\nAttach CRM export data to Ender Turing conversations.')
    .command(
      'run',
      'import CSV/XLSX rows as metadata on the matching sessions',
      (y) =>
        y
          .option('input', { alias: 'i', type: 'string', array: true, demandOption: true, describe: 'CRM export(s): .csv, .tsv, .txt or .xlsx' })
          .option('mapping', { alias: 'm', type: 'string', demandOption: true, describe: 'mapping config (YAML or JSON), see config/mapping.example.yaml' })
          .option('url', { type: 'string', describe: 'API base URL (overrides ET_URL)' })
          .option('dry-run', { type: 'boolean', default: false, describe: 'do everything but the PUT; rows that would change are would_update' })
          .option('concurrency', { type: 'number', default: 8, describe: 'rows in flight at once' })
          .option('report-dir', { type: 'string', describe: 'where results.csv, failed.csv and summary.json go [default: reports/<UTC timestamp>/]' })
          .option('page-size', { type: 'number', default: 100, describe: 'sessions per search page' })
          .option('max-candidates', { type: 'number', default: 1000, describe: 'most search hits examined for one key before the row fails' })
          .option('timeout', { type: 'number', default: 30, describe: 'seconds per HTTP request' })
          .option('retries', { type: 'number', default: 3, describe: 'retries of a request that failed with 408/5xx or a network error (429s get 10 more)' })
          .option('retry-delay', { type: 'number', default: 250, describe: 'first retry delay in ms, doubled each retry (with jitter) up to 10 s; Retry-After wins' })
          .option('rate', { type: 'number', describe: 'most requests per second across the run (a 429 slows the run down in any case)' })
          .option('max-errors', { type: 'string', describe: 'abort (exit 2) once this many rows failed: a count (100) or a percentage (5%)' })
          .option('circuit-breaker', { type: 'number', default: 10, describe: 'abort (exit 2) after this many rows in a row could not reach the API' })
          .option('state-dir', { type: 'string', describe: 'where the journal goes [default: <report-dir>/state]' })
          .option('resume', { type: 'string', describe: 'state (or report) directory of an earlier run: rows it finished are skipped' })
          .option('stop-timeout', { type: 'number', default: 30, describe: 'seconds rows in flight may take to finish after SIGINT/SIGTERM' })
          .option('max-response-mb', { type: 'number', default: 64, describe: 'answers larger than this are refused rather than buffered (the row fails)' })
          .option('insecure', { type: 'boolean', default: false, describe: 'do not verify the TLS certificate (same as ET_SSL_VERIFY=false)' })
          .option('ca-file', { type: 'string', describe: 'PEM file of a private certificate authority' })
          .option('api-version', { type: 'string', describe: 'API version in the path (overrides ET_API_VERSION) [default: v1]' })
          .option('log-level', { choices: LOG_LEVELS, default: 'info' as LogLevel, describe: 'JSON log lines on stderr' })
          .check((a) => {
            for (const k of ['concurrency', 'page-size', 'max-candidates', 'timeout', 'circuit-breaker'] as const) {
              const v = a[k];
              if (!Number.isInteger(v) || v < 1) throw new Error(`--${k} must be a whole number of at least 1`);
            }
            if (!Number.isInteger(a.retries) || a.retries < 0) throw new Error('--retries must be a whole number of at least 0');
            if (a.rate !== undefined && !(a.rate > 0)) throw new Error('--rate must be a number of requests per second above 0');
            if (!(a['max-response-mb'] > 0)) throw new Error('--max-response-mb must be above 0');
            if (!(a['retry-delay'] >= 0) || !(a['stop-timeout'] >= 0)) throw new Error('--retry-delay and --stop-timeout must be 0 or more');
            if (a['max-errors'] !== undefined) parseMaxErrors(a['max-errors']);
            return true;
          }),
      async (a) => {
        const logger = createLogger(a['log-level'] as LogLevel);
        const connection = readConnection(io.env, { url: a.url, insecure: a.insecure, caFile: a['ca-file'], apiVersion: a['api-version'] });
        if (!connection.sslVerify) logger.warn({ url: connection.baseUrl }, 'TLS certificate verification is OFF (ET_SSL_VERIFY=false / --insecure)');
        const controller = new AbortController();
        io.signal?.addEventListener('abort', () => controller.abort());
        const detach = attachSignals(controller, logger.warn.bind(logger));
        try {
          const result = await runImport({
            inputs: a.input,
            mapping: a.mapping,
            connection,
            concurrency: a.concurrency,
            dryRun: a['dry-run'],
            pageSize: a['page-size'],
            maxCandidates: a['max-candidates'],
            timeoutMs: a.timeout * 1000,
            retries: a.retries,
            retryBaseMs: a['retry-delay'],
            circuitBreaker: a['circuit-breaker'],
            stopTimeoutMs: a['stop-timeout'] * 1000,
            maxResponseBytes: Math.round(a['max-response-mb'] * 1024 * 1024),
            logger,
            signal: controller.signal,
            out: io.stderr,
            ...(a['report-dir'] !== undefined && { reportDir: a['report-dir'] }),
            ...(a['state-dir'] !== undefined && { stateDir: a['state-dir'] }),
            ...(a.resume !== undefined && { resume: a.resume }),
            ...(a.rate !== undefined && { rate: a.rate }),
            ...(a['max-errors'] !== undefined && { maxErrors: a['max-errors'] }),
          });
          code = result.exitCode;
        } finally {
          detach();
        }
      },
    )
    .command(
      'validate',
      'check exports against a mapping without touching the API: every check run makes before the network, over every row',
      (y) =>
        y
          .option('input', { alias: 'i', type: 'string', array: true, demandOption: true, describe: 'CRM export(s): .csv, .tsv, .txt or .xlsx' })
          .option('mapping', { alias: 'm', type: 'string', demandOption: true, describe: 'mapping config (YAML or JSON)' })
          .option('report-dir', { type: 'string', describe: 'where results.csv, failed.csv and summary.json go [default: reports/<UTC timestamp>/]' })
          .option('log-level', { choices: LOG_LEVELS, default: 'warn' as LogLevel, describe: 'JSON log lines on stderr' }),
      async (a) => {
        const result = await runImport({
          mode: 'validate',
          inputs: a.input,
          mapping: a.mapping,
          logger: createLogger(a['log-level'] as LogLevel),
          out: io.stderr,
          ...(a['report-dir'] !== undefined && { reportDir: a['report-dir'] }),
        });
        code = result.exitCode;
      },
    )
    .command(
      'inspect <file>',
      'show what et-import sees in an export (format, encoding, delimiter, sheets, columns, guessed types) and a starter mapping',
      (y) =>
        y
          .positional('file', { type: 'string', demandOption: true, describe: 'a .csv, .tsv, .txt or .xlsx export' })
          .option('write-mapping', { type: 'string', describe: 'also write the starter mapping to this file' })
          .option('sheet', { type: 'string', describe: 'XLSX sheet name or number [default: the first visible sheet]' })
          .option('delimiter', { type: 'string', describe: 'CSV delimiter [default: detected]' })
          .option('encoding', { type: 'string', describe: 'CSV encoding [default: detected]' })
          .option('header-row', { type: 'number', describe: 'row of the header [default: 1]' }),
      async (a) => {
        const { inspectFile, formatInspection } = await import('./inspect.js');
        const spec: InputSpec = {};
        if (a.sheet !== undefined) spec.sheet = /^\d+$/.test(a.sheet) ? Number(a.sheet) : a.sheet;
        if (a.delimiter !== undefined) spec.delimiter = a.delimiter === '\\t' ? '\t' : a.delimiter;
        if (a.encoding !== undefined) spec.encoding = a.encoding;
        if (a['header-row'] !== undefined) spec.headerRow = a['header-row'];
        const result = await inspectFile(a.file as string, spec);
        io.stdout.write(formatInspection(result));
        if (a['write-mapping']) {
          await writeFile(a['write-mapping'], result.mapping);
          io.stdout.write(`starter mapping written to ${a['write-mapping']}; check it with: et-import validate -i ${a.file as string} -m ${a['write-mapping']}\n`);
        }
      },
    )
    .command(
      'sandbox',
      'serve a local stand-in of the Ender Turing API (for trying the tool and for tests)',
      (y) =>
        y
          .option('port', { type: 'number', default: 4010, describe: 'port to listen on; 0 picks a free one' })
          .option('host', { type: 'string', default: '127.0.0.1' })
          .option('sessions', { type: 'string', describe: 'JSON file: [session, ...] or { "sessions": [...], "users": [...] }' })
          .option('user', { type: 'string', default: DEFAULT_USER.username, describe: 'login accepted by the sandbox' })
          .option('password', { type: 'string', describe: `its password (or ET_SANDBOX_PASSWORD) [default: ${DEFAULT_USER.password}]` })
          .option('token-ttl', { type: 'number', default: 3600, describe: 'token lifetime in seconds' })
          .option('latency', { type: 'number', default: 0, describe: 'ms added before each API answer' })
          .option('max-page-size', { type: 'number', default: 100, describe: 'largest `limit` accepted by GET /sessions' })
          .option('fail-rate', { type: 'number', default: 0, describe: 'fraction of API requests answered 500/502/503' })
          .option('drop-rate', { type: 'number', default: 0, describe: 'fraction of API requests whose connection is dropped (before or after a write)' })
          .option('rate-limit', { type: 'number', default: 0, describe: 'requests per second accepted; more get 429 + Retry-After (0: no cap)' })
          .option('seed', { type: 'number', default: 1, describe: 'seed of the injected faults' }),
      async (a) => {
        let seed: ReturnType<typeof parseSessions> = { sessions: [] };
        if (a.sessions) {
          let doc: unknown;
          try {
            doc = JSON.parse(await readFile(a.sessions, 'utf8'));
          } catch (err) {
            throw new EtError('E_INPUT', `${a.sessions}: cannot read the sessions file (${errorMessage(err)})`);
          }
          seed = parseSessions(doc);
          if ('error' in seed) throw new EtError('E_INPUT', `${a.sessions}: ${seed.error}`);
        }
        const users = seed.users ?? [{ username: a.user, password: a.password ?? io.env.ET_SANDBOX_PASSWORD ?? DEFAULT_USER.password }];
        const sandbox = new Sandbox({ sessions: seed.sessions, users, tokenTtlSeconds: a['token-ttl'], latencyMs: a.latency, maxPageSize: a['max-page-size'], failRate: a['fail-rate'], dropRate: a['drop-rate'], rateLimit: a['rate-limit'], seed: a.seed });
        const url = await sandbox.listen(a.port, a.host);
        io.stdout.write(`sandbox listening on ${url} (${sandbox.store.size} sessions; user ${users[0]!.username})\n`);
        await new Promise<void>((resolve) => {
          const stop = () => resolve();
          process.once('SIGINT', stop);
          process.once('SIGTERM', stop);
          io.signal?.addEventListener('abort', stop);
        });
        await sandbox.close();
      },
    )
    .demandCommand(1, 'name a command: run, validate, inspect or sandbox')
    .strict()
    .epilog(EPILOG)
    .wrap(Math.min(110, process.stdout.columns || 100))
    .exitProcess(false)
    .fail((msg, err) => {
      throw err ?? new EtError('E_USAGE', msg);
    })
    .help()
    .version();

  try {
    await parser.parseAsync(argv);
    return code;
  } catch (err) {
    return fail(err);
  }
}

/** First SIGINT/SIGTERM: stop reading and finish in-flight rows; a second one exits at once. */
function attachSignals(controller: AbortController, warn: (obj: object, msg: string) => void): () => void {
  const onSignal = (sig: NodeJS.Signals) => {
    if (controller.signal.aborted) {
      process.stderr.write(`et-import: second ${sig}: exiting now\n`);
      process.exit(EXIT.INTERRUPTED);
    }
    warn({ signal: sig }, 'stopping: finishing rows in flight and writing the report (send again to exit at once)');
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
}

function isEntryPoint(): boolean {
  try {
    return process.argv[1] !== undefined && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`et-import: error: ${scrub(errorMessage(err))}\n`);
      process.exit(EXIT.FATAL);
    },
  );
}
