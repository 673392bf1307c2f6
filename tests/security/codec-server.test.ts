/** The codec server over HTTP: the UI's protocol, operator keys, CORS for the UI origin only, rotation, clear errors. */
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { AesGcmPayloadCodec } from '../../core/payload-codec.js';
import { formatPayloadKeys, generatePayloadKey } from '../../core/payload-keys.js';
import { bodyOf, offlineApp } from './test-app.js';

const UI = 'http://127.0.0.1:8233';
const OPERATOR = 'operator-key-1';
const keyA = generatePayloadKey('key-a');
const keyB = generatePayloadKey('key-b');
const order = { orderId: 'ord_1', shippingAddress: { name: 'Grace Hopper', line1: '1 Compiler Way' } };

/** Payloads as the UI sends them: proto3 JSON, every bytes field base64. */
const toJson = (p: Payload) => ({
  metadata: Object.fromEntries(
    Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
  ),
  data: Buffer.from(p.data ?? []).toString('base64'),
});
const fromJson = (p: { metadata: Record<string, string>; data: string }): Payload => ({
  metadata: Object.fromEntries(Object.entries(p.metadata).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
  data: Buffer.from(p.data, 'base64'),
});

const productionEnv = {
  NODE_ENV: 'production',
  API_KEYS: 'shop:client-key-of-at-least-32-characters',
  API_CURSOR_SECRET: 'a-cursor-secret-for-tests',
  PAYLOAD_KEYS: formatPayloadKeys([keyA, keyB]),
  CODEC_API_KEYS: OPERATOR,
  CODEC_CORS_ORIGIN: UI,
};

function post(
  app: ReturnType<typeof offlineApp>['app'],
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
) {
  return app.request(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-namespace': 'default', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}
const auth = { authorization: `Bearer ${OPERATOR}` };

describe('codec server protocol', () => {
  it('encode then decode round-trips the UI`s JSON format; plain payloads pass through', async () => {
    const { app, logs } = offlineApp(productionEnv);
    const plain = toJson(defaultPayloadConverter.toPayload(order));
    const encoded = await post(app, '/codec/encode', { payloads: [plain] }, auth);
    expect(encoded.status).toBe(200);
    const sealed = (await bodyOf(encoded)).payloads[0];
    expect(Buffer.from(sealed.metadata.encoding, 'base64').toString()).toBe('binary/encrypted');
    expect(Buffer.from(sealed.metadata['encryption-key-id'], 'base64').toString()).toBe('key-b');
    expect(Buffer.from(sealed.data, 'base64').toString('latin1')).not.toContain('Grace Hopper');

    const decoded = await post(app, '/codec/decode', { payloads: [sealed, plain] }, auth);
    expect(decoded.status).toBe(200);
    const [opened, passed] = (await bodyOf(decoded)).payloads;
    expect(defaultPayloadConverter.fromPayload(fromJson(opened))).toEqual(order);
    expect(passed).toEqual(plain);
    // Audited without content: who (key fingerprint), which namespace, how many payloads.
    const audit = logs.map((l) => JSON.parse(l)).find((l) => l.msg === 'codec decode');
    expect(audit).toMatchObject({ namespace: 'default', payloads: 2 });
    expect(audit.operator).toMatch(/^[0-9a-f]{16}$/);
    expect(logs.join('\n')).not.toContain('Grace Hopper');
  });

  it('rotation over HTTP: payloads under the old key decode, an unknown key id is a clear 422', async () => {
    const { app } = offlineApp(productionEnv);
    const [underA] = await new AesGcmPayloadCodec([keyA]).encode([defaultPayloadConverter.toPayload(order)]);
    const ok = await post(app, '/codec/decode', { payloads: [toJson(underA as Payload)] }, auth);
    expect(defaultPayloadConverter.fromPayload(fromJson((await bodyOf(ok)).payloads[0]))).toEqual(order);

    const stranger = new AesGcmPayloadCodec([generatePayloadKey('key-retired')]);
    const [underC] = await stranger.encode([defaultPayloadConverter.toPayload(order)]);
    const refused = await post(app, '/codec/decode', { payloads: [toJson(underC as Payload)] }, auth);
    expect(refused.status).toBe(422);
    const problem = await bodyOf(refused);
    expect(problem.type).toMatch(/payload-not-decryptable$/);
    expect(problem.detail).toMatch(/key id "key-retired", which is not configured \(known: key-a, key-b\)/);
  });

  it('rejects bodies that are not the protocol: 415, 422, malformed base64', async () => {
    const { app } = offlineApp(productionEnv);
    expect((await post(app, '/codec/decode', 'x', { ...auth, 'content-type': 'text/plain' })).status).toBe(
      415,
    );
    expect((await post(app, '/codec/decode', { nope: [] }, auth)).status).toBe(422);
    expect((await post(app, '/codec/decode', { payloads: [{ data: '***' }] }, auth)).status).toBe(422);
  });
});

describe('codec server access', () => {
  it('needs an operator key: none, a wrong one or a client API key is 401', async () => {
    const { app } = offlineApp(productionEnv);
    for (const headers of [
      {},
      { authorization: 'Bearer wrong' },
      { authorization: 'Bearer client-key-of-at-least-32-characters' },
    ] as Array<Record<string, string>>) {
      const res = await post(app, '/codec/decode', { payloads: [] }, headers);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer');
    }
    expect((await post(app, '/codec/decode', { payloads: [] }, auth)).status).toBe(200);
  });

  it('answers the UI`s preflight with its headers, and only for the configured origin', async () => {
    const { app } = offlineApp(productionEnv);
    const preflight = (origin: string) =>
      app.request('/codec/decode', {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization,content-type,x-namespace',
        },
      });
    const allowed = await preflight(UI);
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(UI);
    expect(allowed.headers.get('access-control-allow-credentials')).toBe('true');
    expect(allowed.headers.get('access-control-allow-methods')).toContain('POST');
    for (const header of ['authorization', 'content-type', 'x-namespace']) {
      expect(allowed.headers.get('access-control-allow-headers')?.toLowerCase()).toContain(header);
    }
    const foreign = await preflight('https://evil.example');
    expect(foreign.headers.get('access-control-allow-origin')).toBeNull();

    const fromUi = await post(app, '/codec/decode', { payloads: [] }, { ...auth, origin: UI });
    expect(fromUi.headers.get('access-control-allow-origin')).toBe(UI);
    const fromElsewhere = await post(
      app,
      '/codec/decode',
      { payloads: [] },
      { ...auth, origin: 'https://evil.example' },
    );
    expect(fromElsewhere.status).toBe(403);
    expect((await bodyOf(fromElsewhere)).type).toMatch(/origin-not-allowed$/);
  });

  it('trusts only configured origins: one equal to the request`s own host is refused too (DNS rebinding)', async () => {
    // A rebinding page at http://attacker.example:3000, whose name now resolves to the API, calls it "same-origin".
    const { app } = offlineApp(productionEnv);
    for (const [url, origin] of [
      ['http://attacker.example:3000/codec/decode', 'http://attacker.example:3000'],
      ['http://127.0.0.1:3000/codec/decode', 'http://127.0.0.1:3000'],
      ['http://localhost/codec/decode', 'http://localhost'],
    ] as const) {
      const res = await app.request(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-namespace': 'default', ...auth, origin },
        body: JSON.stringify({ payloads: [] }),
      });
      expect(res.status, origin).toBe(403);
      expect((await bodyOf(res)).type, origin).toMatch(/origin-not-allowed$/);
      expect(res.headers.get('access-control-allow-origin')).toBeNull();
    }
    // The dev codec is open without keys: there, too, only the configured UI origins may call it from a browser.
    const dev = offlineApp({ NODE_ENV: 'development', PAYLOAD_KEYS: formatPayloadKeys([keyA]) });
    const rebound = await dev.app.request('http://attacker.example:3000/codec/decode', {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: 'http://attacker.example:3000' },
      body: JSON.stringify({ payloads: [] }),
    });
    expect(rebound.status).toBe(403);
    // An origin that is configured passes, whatever host the request names; no Origin at all (CLI, curl) passes.
    const configured = offlineApp({ ...productionEnv, CODEC_CORS_ORIGIN: `${UI},http://127.0.0.1:3000` });
    expect(
      (
        await configured.app.request('http://127.0.0.1:3000/codec/decode', {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...auth, origin: 'http://127.0.0.1:3000' },
          body: JSON.stringify({ payloads: [] }),
        })
      ).status,
    ).toBe(200);
    expect((await post(app, '/codec/decode', { payloads: [] }, auth)).status).toBe(200);
  });

  it('is open in development without any keys (dev server UI), and not mounted in production without codec keys', async () => {
    const dev = offlineApp({ NODE_ENV: 'development', PAYLOAD_KEYS: formatPayloadKeys([keyA]) });
    expect(dev.config.codec.corsOrigins).toEqual(['http://127.0.0.1:8233', 'http://localhost:8233']);
    expect((await post(dev.app, '/codec/decode', { payloads: [] })).status).toBe(200);

    const { CODEC_API_KEYS: _none, ...withoutCodecKeys } = productionEnv;
    const prod = offlineApp(withoutCodecKeys);
    expect((await post(prod.app, '/codec/decode', { payloads: [] }, auth)).status).toBe(404);
    const doc = await bodyOf(prod.app.request('/openapi.json'));
    expect(Object.keys(doc.paths)).not.toContain('/codec/decode');
    const documented = await bodyOf(offlineApp(productionEnv).app.request('/openapi.json'));
    expect(documented.paths['/codec/decode'].post.security).toEqual([{ codecKey: [] }]);
  });
});
