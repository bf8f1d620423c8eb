/**
 * Secrets never leave the process: not in logs, reports, summaries or error messages.
 * Two layers: structural (credentials inside URLs, well-known field names) and by value
 * (every password and token this process has seen is registered and scrubbed from any text).
 */
const MASK = '[REDACTED]';
const secrets = new Set<string>();

/** Remember a secret value so that `scrub` removes it from any text. Short values are ignored. */
export function registerSecret(value: string | undefined): void {
  if (value && value.length >= 4) {
    secrets.add(value);
    // the same value percent-encoded, as it appears inside a URL
    const encoded = encodeURIComponent(value);
    if (encoded !== value) secrets.add(encoded);
  }
}

/** Strip `user:password@` from every URL in a text. */
export function stripUrlCredentials(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/\s@]*@/gi, `$1${MASK}@`);
}

export function scrub(text: string): string {
  let out = stripUrlCredentials(text);
  for (const s of secrets) {
    if (out.includes(s)) out = out.split(s).join(MASK);
  }
  return out.replace(/((?:bearer|basic)\s+)[A-Za-z0-9._~+/=-]{8,}/gi, `$1${MASK}`);
}

/** A URL safe to show: no credentials, no query (which may carry options such as ssl_verify). */
export function displayUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    const shown = u.toString();
    return u.pathname === '/' && !u.search && !url.endsWith('/') ? shown.slice(0, -1) : shown;
  } catch {
    return scrub(url);
  }
}

const SECRET_KEY = /pass(word)?|secret|token|authorization|cookie|credential/i;

/** Deep copy with secret-looking keys masked and every string scrubbed. */
export function scrubValue(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return scrub(value);
  if (depth > 8 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => scrubValue(v, depth + 1));
  if (value instanceof Error) return scrubValue({ type: value.name, message: value.message, code: (value as { code?: unknown }).code }, depth + 1);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = SECRET_KEY.test(k) && v != null && v !== '' ? MASK : scrubValue(v, depth + 1);
  }
  return out;
}
