/**
 * Secrets never leave the process: not in logs, reports, summaries or error messages.
 * Two layers: structural (credentials inside URLs, well-known field names) and by value
 * (every password and token this process has seen is registered and scrubbed from any text).
 */
const MASK = '[REDACTED]';
const secrets = new Set<string>();

/**
 * Remember a secret value so that `scrub` removes it from any text: raw, percent-encoded (URL),
 * form-encoded (`+` for space, as a login body echoes it), as JSON string content and as
 * base64. Short values are ignored.
 */
export function registerSecret(value: string | undefined): void {
  if (!value || value.length < 4) return;
  const forms = new Set([
    value,
    encodeURIComponent(value),
    new URLSearchParams({ v: value }).toString().slice(2),
    JSON.stringify(value).slice(1, -1),
    Buffer.from(value).toString('base64'),
    Buffer.from(value).toString('base64url'),
  ]);
  for (const f of [...forms]) {
    // percent-escapes are case-insensitive: %2B and %2b are the same character
    if (/%[0-9A-F]{2}/.test(f)) forms.add(f.replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase()));
    // base64 without its padding, as it appears inside longer encodings
    if (f.endsWith('=')) forms.add(f.replace(/=+$/, ''));
  }
  for (const f of forms) if (f.length >= 4) secrets.add(f);
  // longest first, so that a form holding another is removed whole
  sorted = [...secrets].sort((a, b) => b.length - a.length);
}

let sorted: string[] = [];

/**
 * A text from outside (an API answer) shortened for a message: scrubbed first, then whitespace
 * collapsed, then cut, so a cut can never leave a fragment of a secret behind.
 */
export function snippet(text: string, max = 200): string {
  const clean = scrub(text).replace(/\s+/g, ' ').trim();
  return clean.length > max ? `${clean.slice(0, max)}...` : clean;
}

/** Strip `user:password@` from every URL in a text. */
export function stripUrlCredentials(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/\s@]*@/gi, `$1${MASK}@`);
}

export function scrub(text: string): string {
  let out = stripUrlCredentials(text);
  for (const s of sorted) {
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

/** The words of a key that name a secret: `password`, `ET_AUTH_SECRET`, `accessToken`, `set-cookie`; not `passedOver`. */
const SECRET_WORDS = new Set(['pass', 'passwd', 'password', 'passphrase', 'secret', 'token', 'authorization', 'cookie', 'credential']);

function isSecretKey(key: string): boolean {
  const words = key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/);
  return words.some((w) => SECRET_WORDS.has(w) || SECRET_WORDS.has(w.replace(/s$/, '')));
}

/** Deep copy with secret-looking keys masked and every string scrubbed. */
export function scrubValue(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return scrub(value);
  if (depth > 8 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => scrubValue(v, depth + 1));
  if (value instanceof Error) return scrubValue({ type: value.name, message: value.message, code: (value as { code?: unknown }).code }, depth + 1);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = isSecretKey(k) && v != null && v !== '' ? MASK : scrubValue(v, depth + 1);
  }
  return out;
}
