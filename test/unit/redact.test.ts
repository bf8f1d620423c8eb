import { describe, expect, it } from 'vitest';
import { displayUrl, registerSecret, scrub, scrubValue } from '../../src/redact.js';

describe('redaction', () => {
  it('strips credentials from URLs and registered secrets from any text', () => {
    registerSecret('p@ss word!');
    expect(scrub('https://u%40x.com:p%40ss%20word!@host/api failed with p@ss word!')).not.toMatch(/p@ss|p%40ss/);
    expect(displayUrl('https://u:pw@host:8443/base?ssl_verify=false')).toBe('https://host:8443/base?ssl_verify=false');
    expect(scrubValue({ headers: { authorization: 'bearer abcdefghijkl' }, password: 'x1' })).toEqual({
      headers: { authorization: '[REDACTED]' },
      password: '[REDACTED]',
    });
    expect(scrub('Authorization: Bearer abcdefghijkl123')).toBe('Authorization: Bearer [REDACTED]');
  });

  it('masks keys that name a secret, and only those: a summary keeps the files it passed over', () => {
    const secrets = { ET_AUTH_SECRET: 'a', accessToken: 'b', 'set-cookie': 'c', Credentials: 'd', pass: 'e', tokens: ['f'] };
    expect(Object.values(scrubValue(secrets) as Record<string, unknown>)).toEqual(Array(6).fill('[REDACTED]'));
    const plain = { passedOver: [{ file: 'README.txt', reason: 'not an export' }], bypass: 'x', compass: 'y', tokenizer: 'z' };
    expect(scrubValue(plain)).toEqual(plain);
  });
});

describe('snippet: scrub, then cut', () => {
  it('leaves no 12-character fragment of a secret in any of its forms, wherever the cut falls', async () => {
    const { snippet } = await import('../../src/redact.js');
    const secret = 'tok en/+secret!value=0123456789';
    registerSecret(secret);
    const forms = [
      secret,
      encodeURIComponent(secret),
      new URLSearchParams({ v: secret }).toString().slice(2),
      JSON.stringify(secret).slice(1, -1),
      Buffer.from(secret).toString('base64'),
    ];
    for (const form of forms) {
      for (let offset = 150; offset <= 210; offset++) {
        const shown = snippet(`${'a'.repeat(offset)}${form}${'b'.repeat(50)}`);
        expect(shown.length).toBeLessThanOrEqual(203);
        for (let i = 0; i + 12 <= form.length; i++) expect(shown).not.toContain(form.slice(i, i + 12));
      }
    }
  });
  it('collapses whitespace', async () => {
    const { snippet } = await import('../../src/redact.js');
    expect(snippet('a\n\n  b\t c ')).toBe('a b c');
  });
});
