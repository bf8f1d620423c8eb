import { readFile } from 'node:fs/promises';
import type { ArgumentsCamelCase, Argv } from 'yargs';
import { EtError, errorMessage } from '../../errors.js';
import { DEFAULT_USER } from '../../sandbox/defaults.js';
import type { SandboxSeed } from '../../sandbox/server.js';
import type { Io } from '../io.js';

export const describe = 'serve a local stand-in of the Ender Turing API (for trying the tool and for tests)';
export const builder = <T>(y: Argv<T>) =>
  y
    .option('port', { type: 'number', default: 4010, describe: 'port to listen on; 0 picks a free one' })
    .option('host', { type: 'string', default: '127.0.0.1' })
    .option('sessions', { type: 'string', describe: 'JSON file: [session, ...] or { "sessions": [...], "users": [...] }' })
    .option('user', { type: 'string', default: DEFAULT_USER.username, describe: 'login accepted by the sandbox' })
    .option('password', { type: 'string', describe: `its password (or ET_SANDBOX_PASSWORD) [default: ${DEFAULT_USER.password}]` })
    .option('token-ttl', { type: 'number', default: 3600, describe: 'token lifetime in seconds' })
    .option('latency', { type: 'number', default: 0, describe: 'ms added before each API answer' })
    .option('max-page-size', { type: 'number', default: 100, describe: 'largest page GET /sessions answers: a larger `limit` is capped' })
    .option('fail-rate', { type: 'number', default: 0, describe: 'fraction of API requests answered 500/502/503' })
    .option('drop-rate', { type: 'number', default: 0, describe: 'fraction of API requests whose connection is dropped (before or after a write)' })
    .option('rate-limit', { type: 'number', default: 0, describe: 'requests per second accepted; more get 429 + Retry-After (0: no cap)' })
    .option('capacity', {
      type: 'number',
      default: 0,
      describe: 'requests in flight served at full speed; beyond, each answer slows in proportion to the load (0: no limit)',
    })
    .option('seed', { type: 'number', default: 1, describe: 'seed of the injected faults' });
type Args = ArgumentsCamelCase<Awaited<ReturnType<typeof builder>['argv']>>;

export async function handler(a: Args, io: Io): Promise<void> {
  const seed = a.sessions ? await readSeed(a.sessions) : { sessions: [] };
  const users = seed.users ?? [{ username: a.user, password: a.password ?? io.env.ET_SANDBOX_PASSWORD ?? DEFAULT_USER.password }];
  // loaded when served: a run never needs the server
  const { Sandbox } = await import('../../sandbox/server.js');
  const sandbox = new Sandbox({
    sessions: seed.sessions,
    users,
    tokenTtlSeconds: a.tokenTtl,
    latencyMs: a.latency,
    maxPageSize: a.maxPageSize,
    failRate: a.failRate,
    dropRate: a.dropRate,
    rateLimit: a.rateLimit,
    capacity: a.capacity,
    seed: a.seed,
  });
  const url = await sandbox.listen(a.port, a.host);
  io.stdout.write(`sandbox listening on ${url} (${sandbox.store.size} sessions; user ${users[0]!.username})\n`);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    io.signal?.addEventListener('abort', stop);
  });
  await sandbox.close();
}

async function readSeed(file: string): Promise<SandboxSeed> {
  const { parseSessions } = await import('../../sandbox/server.js');
  let doc: unknown;
  try {
    doc = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    throw new EtError('E_INPUT', `${file}: cannot read the sessions file (${errorMessage(e)})`, { cause: e });
  }
  const seed = parseSessions(doc);
  if (!seed.ok) throw new EtError('E_INPUT', `${file}: ${seed.error}`);
  return seed.value;
}
