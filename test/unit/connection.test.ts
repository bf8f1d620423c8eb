import { describe, expect, it } from 'vitest';
import { readConnection } from '../../src/api/connection.js';

describe('readConnection', () => {
  const base = { ET_AUTH_KEY: 'env-user', ET_AUTH_SECRET: 'env-secret' };

  it('takes user and password from ET_URL when no variable sets them', () => {
    const c = readConnection({ ET_URL: 'https://url-user%40x.com:url%20pass@api.example.com/base/?ssl_verify=false' });
    expect(c).toMatchObject({ baseUrl: 'https://api.example.com/base', username: 'url-user@x.com', password: 'url pass', sslVerify: false, apiVersion: 'v1' });
  });

  it('an ET_URL copied from an API call names the instance and its version: /api/... is taken off', () => {
    expect(readConnection({ ...base, ET_URL: 'https://company.example.com/api/v1' })).toMatchObject({
      baseUrl: 'https://company.example.com',
      apiVersion: 'v1',
    });
    expect(readConnection({ ...base, ET_URL: 'https://company.example.com/et/api/v2/sessions?x=1' })).toMatchObject({
      baseUrl: 'https://company.example.com/et',
      apiVersion: 'v2',
    });
    expect(readConnection({ ...base, ET_URL: 'https://company.example.com/api/v2', ET_API_VERSION: 'v3' }).apiVersion).toBe('v3');
  });

  it('separate variables win over values inside the URL', () => {
    const c = readConnection({ ...base, ET_URL: 'https://u:p@api.example.com?ssl_verify=false', ET_SSL_VERIFY: 'true', ET_API_VERSION: 'v2' });
    expect(c).toMatchObject({ username: 'env-user', password: 'env-secret', sslVerify: true, apiVersion: 'v2' });
  });

  it('flags win over both', () => {
    const c = readConnection(
      { ...base, ET_URL: 'https://env.example.com', ET_API_VERSION: 'v2' },
      { url: 'http://flag.example.com:8080/', insecure: true, apiVersion: 'v3', caFile: '/ca.pem' },
    );
    expect(c).toMatchObject({ baseUrl: 'http://flag.example.com:8080', sslVerify: false, apiVersion: 'v3', caFile: '/ca.pem' });
  });

  it('verifies TLS unless switched off, and says what is missing or wrong', () => {
    expect(readConnection({ ...base, ET_URL: 'https://a.example.com' }).sslVerify).toBe(true);
    expect(() => readConnection(base)).toThrow(/no API address: set ET_URL/);
    expect(() => readConnection({ ET_URL: 'https://a.example.com', ET_AUTH_SECRET: 'x' })).toThrow(/no user name/);
    expect(() => readConnection({ ET_URL: 'https://a.example.com', ET_AUTH_KEY: 'x' })).toThrow(/no password/);
    expect(() => readConnection({ ...base, ET_URL: 'ftp://a.example.com' })).toThrow(/must start with https:\/\/ or http:\/\//);
    expect(() => readConnection({ ...base, ET_URL: 'https://a.example.com', ET_SSL_VERIFY: 'maybe' })).toThrow(/ET_SSL_VERIFY must be true or false/);
  });
});
