import { readFileSync } from 'node:fs';
import { EtError } from '../errors.js';
import { registerSecret } from '../redact.js';

export interface Connection {
  /** Base URL without credentials or query, e.g. https://company.enderturing.com */
  baseUrl: string;
  apiVersion: string;
  username: string;
  password: string;
  sslVerify: boolean;
  caFile?: string;
}

export interface ConnectionFlags {
  url?: string | undefined;
  insecure?: boolean | undefined;
  caFile?: string | undefined;
  apiVersion?: string | undefined;
}

/**
 * Reads the connection the way the vendor's SDK does: `ET_URL` (may carry `user:password@` and
 * `?ssl_verify=`), then `ET_AUTH_KEY`, `ET_AUTH_SECRET` (or `ET_AUTH_SECRET_FILE`),
 * `ET_API_VERSION`, `ET_SSL_VERIFY`; separate variables win over values inside the URL, and
 * flags win over both. Unlike the SDK, TLS is verified unless switched off explicitly.
 */
export function readConnection(env: NodeJS.ProcessEnv, flags: ConnectionFlags = {}): Connection {
  const raw = flags.url ?? env.ET_URL;
  if (!raw) throw new EtError('E_USAGE', 'no API address: set ET_URL (e.g. https://company.enderturing.com) or pass --url');
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new EtError('E_USAGE', 'ET_URL / --url is not a valid URL (expected e.g. https://company.enderturing.com)');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new EtError('E_USAGE', `ET_URL / --url must start with https:// or http://, not ${url.protocol}//`);

  const fromUrlUser = url.username ? decodeURIComponent(url.username) : undefined;
  const fromUrlPass = url.password ? decodeURIComponent(url.password) : undefined;
  registerSecret(fromUrlPass);
  let password = env.ET_AUTH_SECRET;
  if (!password && env.ET_AUTH_SECRET_FILE) {
    try {
      password = readFileSync(env.ET_AUTH_SECRET_FILE, 'utf8').replace(/\r?\n$/, '');
    } catch (err) {
      throw new EtError('E_USAGE', `cannot read ET_AUTH_SECRET_FILE ${env.ET_AUTH_SECRET_FILE}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
    }
  }
  password ||= fromUrlPass;
  const username = env.ET_AUTH_KEY || fromUrlUser;
  registerSecret(password);
  if (!username) throw new EtError('E_USAGE', 'no user name: set ET_AUTH_KEY or put it in ET_URL (https://user%40company.com:password@host)');
  if (!password) throw new EtError('E_USAGE', 'no password: set ET_AUTH_SECRET or ET_AUTH_SECRET_FILE, or put it in ET_URL');

  let sslVerify = true;
  const urlSsl = url.searchParams.get('ssl_verify');
  if (urlSsl !== null) sslVerify = parseBool(urlSsl, 'ssl_verify in ET_URL');
  if (env.ET_SSL_VERIFY !== undefined && env.ET_SSL_VERIFY !== '') sslVerify = parseBool(env.ET_SSL_VERIFY, 'ET_SSL_VERIFY');
  if (flags.insecure) sslVerify = false;

  // an ET_URL copied from an API call (https://company.enderturing.com/api/v1/sessions) names the
  // instance and the version: every call adds /api/{version} itself, so that part is taken off
  let path = url.pathname.replace(/\/+$/, '');
  let versionInUrl: string | undefined;
  const api = /^(.*?)\/api(?:\/(v\d+))?(?:\/.*)?$/.exec(path);
  if (api) {
    path = api[1]!;
    versionInUrl = api[2];
  }
  const base = `${url.protocol}//${url.host}${path}`;
  const conn: Connection = { baseUrl: base, apiVersion: flags.apiVersion ?? (env.ET_API_VERSION || versionInUrl || 'v1'), username, password, sslVerify };
  const caFile = flags.caFile ?? undefined;
  if (caFile) conn.caFile = caFile;
  return conn;
}

/**
 * Registers the secrets the environment holds (ET_AUTH_SECRET, the file ET_AUTH_SECRET_FILE
 * names, a password inside ET_URL) with the scrubber, before anything else is read: a settings
 * file that fails to parse, or an error on the way, can then never show them.
 */
export function registerEnvSecrets(env: NodeJS.ProcessEnv): void {
  registerSecret(env.ET_AUTH_SECRET);
  if (env.ET_AUTH_SECRET_FILE) {
    try {
      const text = readFileSync(env.ET_AUTH_SECRET_FILE, 'utf8');
      registerSecret(text);
      registerSecret(text.replace(/\r?\n$/, ''));
      for (const line of text.split(/\r?\n/)) registerSecret(line);
    } catch {
      // readConnection reports an unreadable secret file when the connection is needed
    }
  }
  try {
    const url = env.ET_URL ? new URL(env.ET_URL) : undefined;
    if (url?.password) registerSecret(decodeURIComponent(url.password));
  } catch {
    // not a URL: readConnection says so
  }
}

export function parseBool(v: string, what: string): boolean {
  const t = v.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(t)) return true;
  if (['0', 'false', 'no', 'off'].includes(t)) return false;
  throw new EtError('E_USAGE', `${what} must be true or false, got ${JSON.stringify(v)}`);
}
