/** API keys as `clientId:key` pairs: parsing and its errors, the identity a key gives a request, Bearer edge cases. */
import { type Context, Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import {
  type AuthConfig,
  type AuthVariables,
  bearerToken,
  callerOf,
  digest,
  matches,
  requireKey,
} from '../../api/middleware/auth.js';
import { handleError } from '../../api/problems/error-handler.js';
import { loadConfig } from '../../core/config.js';
import { createLogger } from '../../core/logger.js';
import { formatPayloadKeys, generatePayloadKey } from '../../core/payload-keys.js';
import { offlineApp } from '../security/test-app.js';

const WEB_OLD = 'web-key-old';
const WEB_NEW = 'web-key-new';
const MOBILE = 'mobile-key';
const ADMIN = 'ops-admin-key';
const KEYS_ENV = {
  API_KEYS: ` web-shop:${WEB_OLD} , mobile-app:${MOBILE},web-shop:${WEB_NEW},`,
  ADMIN_API_KEYS: `ops:${ADMIN}`,
};

/** The configuration error of an environment (fails the test when it loads). */
function configError(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error(`expected a configuration error for ${JSON.stringify(env)}`);
}

/** A bare app behind requireKey that answers with the identity the key gave the request. */
function identityApp(auth: AuthConfig) {
  const app = new Hono<{ Variables: AuthVariables }>();
  app.onError(handleError(createLogger('auth-test', 'silent'), 5));
  app.use('*', requireKey(auth, 'client'));
  // What the routes read: the caller the key identified.
  const identity = (c: Context<{ Variables: AuthVariables }>) => c.json(callerOf(c));
  app.get('/whoami', (c) => identity(c));
  app.put('/admin', requireKey(auth, 'admin'), (c) => identity(c));
  return async (key: string | null, method = 'GET', path = '/whoami') => {
    const res = await app.request(path, { method, headers: key ? { authorization: `Bearer ${key}` } : {} });
    const challenge = res.headers.get('www-authenticate');
    return { status: res.status, body: await res.json(), ...(challenge ? { challenge } : {}) };
  };
}

describe('API_KEYS / ADMIN_API_KEYS as clientId:key pairs', () => {
  it('parses the pairs of both variables (spaces and a trailing comma ignored) and turns auth on', () => {
    const { auth } = loadConfig(KEYS_ENV);
    expect(auth.enabled).toBe(true);
    expect(auth.apiKeys).toEqual([
      { clientId: 'web-shop', key: WEB_OLD },
      { clientId: 'mobile-app', key: MOBILE },
      { clientId: 'web-shop', key: WEB_NEW },
    ]);
    expect(auth.adminKeys).toEqual([{ clientId: 'ops', key: ADMIN }]);
  });

  it('empty, only commas or unset means no keys: auth off', () => {
    for (const env of [{}, { API_KEYS: '', ADMIN_API_KEYS: '' }, { API_KEYS: ' , ,' }]) {
      const { auth } = loadConfig(env);
      expect(auth).toEqual({ enabled: false, apiKeys: [], adminKeys: [] });
    }
  });

  it.each([
    [
      'a bare key',
      { API_KEYS: 'web:k1,barekey-123' },
      /API_KEYS: entry 2: expected "clientId:key".*bare key/,
    ],
    ['a key containing ":"', { API_KEYS: 'web:abc:def' }, /API_KEYS: entry 1: .*key cannot contain ":"/],
    ['an empty key', { ADMIN_API_KEYS: 'ops:' }, /ADMIN_API_KEYS: entry 1: the key after ":" is empty/],
    ['an empty client id', { API_KEYS: ':secret-xyz' }, /API_KEYS: entry 1: the client id must be 1-64/],
    ['a bad client id', { API_KEYS: 'web:k1,-web:secret-xyz' }, /API_KEYS: entry 2: the client id must be/],
    [
      'a client id over 64 characters',
      { API_KEYS: `${'c'.repeat(65)}:secret-xyz` },
      /entry 1: the client id/,
    ],
    ['the reserved client id', { API_KEYS: 'anonymous:secret-xyz' }, /entry 1: .*"anonymous" is reserved/],
    ['a non-ASCII key', { API_KEYS: 'web:sécret-xyz' }, /API_KEYS: entry 1: the key must be printable ASCII/],
    [
      'the same key twice',
      { API_KEYS: 'web:secret-xyz,,mobile:secret-xyz' },
      /API_KEYS: entry 3: the same key as entry 1/,
    ],
    [
      'one key in both variables',
      { API_KEYS: 'web:k1,web:secret-xyz', ADMIN_API_KEYS: 'ops:secret-xyz' },
      /ADMIN_API_KEYS: entry 1: the same key as API_KEYS entry 2; a key has one role/,
    ],
  ])('refuses %s with a message naming the variable and the entry, never the key', (_, env, message) => {
    const error = configError(env);
    expect(error).toMatch(/^Invalid configuration:/);
    expect(error).toMatch(message);
    expect(error).not.toMatch(/secret|barekey|abc|def|sécret/);
  });

  it('a clientId may have several keys; the same clientId in both variables is allowed', () => {
    const { auth } = loadConfig({ API_KEYS: 'ops:client-side-key', ADMIN_API_KEYS: 'ops:admin-side-key' });
    expect(auth.apiKeys.map((k) => k.clientId)).toEqual(['ops']);
    expect(auth.adminKeys.map((k) => k.clientId)).toEqual(['ops']);
  });
});

describe('requireKey: the identity of a request', () => {
  const whoami = identityApp(loadConfig(KEYS_ENV).auth);

  it('a client key gives its configured clientId and the client role', async () => {
    expect(await whoami(MOBILE)).toEqual({ status: 200, body: { clientId: 'mobile-app', role: 'client' } });
  });

  it('both keys of a rotated client give the same clientId', async () => {
    const [old, renewed] = [await whoami(WEB_OLD), await whoami(WEB_NEW)];
    expect(old).toEqual({ status: 200, body: { clientId: 'web-shop', role: 'client' } });
    expect(renewed).toEqual(old);
  });

  it('an admin key gives role admin and its own clientId, on client and admin routes', async () => {
    expect(await whoami(ADMIN)).toEqual({ status: 200, body: { clientId: 'ops', role: 'admin' } });
    expect(await whoami(ADMIN, 'PUT', '/admin')).toEqual({
      status: 200,
      body: { clientId: 'ops', role: 'admin' },
    });
  });

  it('a client key on an admin route is 403, an unknown key 401; each problem says what to send', async () => {
    const forbidden = await whoami(WEB_NEW, 'PUT', '/admin');
    expect(forbidden.status).toBe(403);
    expect(forbidden.challenge).toBeUndefined();
    expect(forbidden.body).toMatchObject({
      type: expect.stringMatching(/\/forbidden$/),
      detail: 'This route needs a key from ADMIN_API_KEYS',
    });
    for (const key of ['not-a-configured-key', null]) {
      const unauthorized = await whoami(key);
      expect(unauthorized).toMatchObject({ status: 401, challenge: 'Bearer' });
      expect(unauthorized.body).toMatchObject({
        type: expect.stringMatching(/\/unauthorized$/),
        detail: 'Send `Authorization: Bearer <api key>`',
      });
    }
  });

  it('with auth off there is one anonymous client with the admin role', async () => {
    const open = identityApp(loadConfig({}).auth);
    expect(await open(null)).toEqual({ status: 200, body: { clientId: 'anonymous', role: 'admin' } });
    expect(await open(null, 'PUT', '/admin')).toEqual({
      status: 200,
      body: { clientId: 'anonymous', role: 'admin' },
    });
  });
});

describe('Authorization header edge cases', () => {
  // The whole app (its error handler and problem+json): a request that passed auth would reach the broken database.
  const { app } = offlineApp({ ...KEYS_ENV, PAYLOAD_KEYS: formatPayloadKeys([generatePayloadKey('k1')]) });

  it('accepts the scheme in any case and extra spaces around the token', async () => {
    const probe = new Hono<{ Variables: AuthVariables }>();
    probe.use('*', requireKey(loadConfig(KEYS_ENV).auth, 'client'));
    probe.get('/', (c) => c.text(c.get('clientId')));
    for (const authorization of [
      `bearer ${MOBILE}`,
      `BEARER ${MOBILE}`,
      `Bearer    ${MOBILE}`,
      `Bearer\t${MOBILE}`,
    ]) {
      const res = await probe.request('/', { headers: { authorization: ` ${authorization}  ` } });
      expect(res.status, authorization).toBe(200);
      expect(await res.text()).toBe('mobile-app');
    }
  });

  it.each([
    ['Bearer with no token', 'Bearer'],
    ['Bearer and spaces only', 'Bearer   '],
    ['two tokens', `Bearer ${MOBILE} ${WEB_NEW}`],
    ['a token with a comma', `Bearer ${MOBILE},${WEB_NEW}`],
    ['the pair instead of the key', `Bearer mobile-app:${MOBILE}`],
    ['another scheme', `Basic ${Buffer.from(`x:${MOBILE}`).toString('base64')}`],
    ['the key without a scheme', MOBILE],
    ['a scheme that only ends in Bearer', `XBearer ${MOBILE}`],
    ['the scheme glued to the key', `Bearer${MOBILE}`],
    ['an empty header', ''],
    ['a very long token', `Bearer ${'x'.repeat(6000)}`],
  ])('%s: 401 problem+json with WWW-Authenticate, never 500', async (_, authorization) => {
    const res = await app.request('/v1/products', { headers: { authorization } });
    expect(res.status).toBe(401);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(res.headers.get('www-authenticate')).toBe('Bearer');
    const body = await res.json();
    expect(body).toMatchObject({ status: 401, type: expect.stringMatching(/unauthorized$/) });
    expect(JSON.stringify(body)).not.toContain(MOBILE);
  });
});

describe('key matching', () => {
  it('finds the token of a Bearer header, whatever the case of its scheme, and nothing else', () => {
    expect(bearerToken(`Bearer ${MOBILE}`)).toBe(MOBILE);
    expect(bearerToken(`bEaReR \t ${MOBILE}`)).toBe(MOBILE);
    for (const header of [
      undefined,
      '',
      'Bearer',
      `Basic ${MOBILE}`,
      `XBearer ${MOBILE}`,
      `Bearer ${MOBILE} x`,
    ]) {
      expect(bearerToken(header), String(header)).toBeUndefined();
    }
  });

  it("tells whether a digest is among the keys, wherever it is in the list (the codec server's check)", () => {
    const keys = [digest('k1'), digest('k2'), digest('k3')];
    expect(matches(digest('k1'), keys)).toBe(true);
    expect(matches(digest('k3'), keys)).toBe(true);
    expect(matches(digest('k4'), keys)).toBe(false);
    expect(matches(digest('k1'), [])).toBe(false);
  });
});
