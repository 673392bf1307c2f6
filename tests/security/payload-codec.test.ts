/** The AES-256-GCM payload codec: sealing, pass-through of plain payloads, key rotation, tampering, key configuration. */
import { chmodSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { loadDataConverter } from '@temporalio/common/lib/internal-non-workflow/index.js';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../core/config.js';
import { loadPayloadProtection } from '../../core/data-converter.js';
import {
  AesGcmPayloadCodec,
  ENCRYPTED_ENCODING,
  isEncrypted,
  KEY_ID_METADATA,
  keyIdOf,
  PayloadDecryptionError,
} from '../../core/payload-codec.js';
import {
  formatPayloadKeys,
  generatePayloadKey,
  loadOrCreateDevKeys,
  parsePayloadKeys,
} from '../../core/payload-keys.js';

const order = {
  orderId: 'ord_1',
  paymentToken: 'tok_secret_4242',
  shippingAddress: { name: 'Ada Lovelace', line1: '12 Analytical St', city: 'London' },
};
const plain = (value: unknown): Payload => defaultPayloadConverter.toPayload(value);
const value = (payload: Payload) => defaultPayloadConverter.fromPayload(payload);
const text = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? []).toString('utf8');
const keyA = generatePayloadKey('key-a');
const keyB = generatePayloadKey('key-b');

describe('AesGcmPayloadCodec', () => {
  it('seals the whole payload (metadata and data) and opens it back', async () => {
    const codec = new AesGcmPayloadCodec([keyA]);
    const [sealed] = await codec.encode([plain(order)]);
    if (!sealed) throw new Error('no payload');
    expect(text(sealed.metadata?.encoding)).toBe(ENCRYPTED_ENCODING);
    expect(keyIdOf(sealed)).toBe('key-a');
    expect(Object.keys(sealed.metadata ?? {}).sort()).toEqual([
      'encoding',
      'encryption-cipher',
      KEY_ID_METADATA,
    ]);
    // Neither the value nor its original encoding shows in the envelope.
    for (const needle of ['Ada Lovelace', 'tok_secret_4242', 'json/plain']) {
      expect(Buffer.from(sealed.data ?? []).includes(needle)).toBe(false);
    }
    const [opened] = await codec.decode([sealed]);
    expect(text(opened?.metadata?.encoding)).toBe('json/plain');
    expect(value(opened as Payload)).toEqual(order);
  });

  it('uses a fresh IV each time: the same value never gives the same ciphertext', async () => {
    const codec = new AesGcmPayloadCodec([keyA]);
    const [one, two] = await codec.encode([plain(order), plain(order)]);
    expect(Buffer.from(one?.data ?? []).equals(Buffer.from(two?.data ?? []))).toBe(false);
  });

  it('passes through payloads without the encryption marker (histories recorded in clear)', async () => {
    const codec = new AesGcmPayloadCodec([keyA]);
    const payloads = [plain(order), plain(undefined), plain(null)];
    const decoded = await codec.decode(payloads);
    expect(decoded).toEqual(payloads);
    expect(decoded.some(isEncrypted)).toBe(false);
  });

  it('rotation: [A] wrote it, [A, B] reads it and writes under B, [B] alone refuses A clearly', async () => {
    const before = new AesGcmPayloadCodec([keyA]);
    const [old] = await before.encode([plain(order)]);
    const rotated = new AesGcmPayloadCodec([keyA, keyB]);
    expect(rotated.encryptionKeyId).toBe('key-b');
    expect(value((await rotated.decode([old as Payload]))[0] as Payload)).toEqual(order);
    const [fresh] = await rotated.encode([plain(order)]);
    expect(keyIdOf(fresh as Payload)).toBe('key-b');
    expect(value((await rotated.decode([fresh as Payload]))[0] as Payload)).toEqual(order);

    const retired = new AesGcmPayloadCodec([keyB]);
    await expect(retired.decode([old as Payload])).rejects.toThrow(PayloadDecryptionError);
    await expect(retired.decode([old as Payload])).rejects.toThrow(
      /key id "key-a", which is not configured \(known: key-b\); add it to PAYLOAD_KEYS/,
    );
  });

  it('a marked key encrypts even when it is not the last (stage a new key everywhere first)', async () => {
    const staged = new AesGcmPayloadCodec([keyA, keyB], 'key-a');
    const [sealed] = await staged.encode([plain(order)]);
    expect(keyIdOf(sealed as Payload)).toBe('key-a');
    expect(() => new AesGcmPayloadCodec([keyA], 'key-z')).toThrow(/key-z is not among/);
  });

  it('refuses altered data, a relabelled key id and other key material with the same id', async () => {
    const codec = new AesGcmPayloadCodec([keyA, keyB]);
    const [sealed] = (await codec.encode([plain(order)])) as [Payload];
    const flipped = Buffer.from(sealed.data ?? []);
    flipped[20] = (flipped[20] ?? 0) ^ 1;
    await expect(codec.decode([{ ...sealed, data: flipped }])).rejects.toThrow(/failed authentication/);
    const relabelled = {
      ...sealed,
      metadata: { ...sealed.metadata, [KEY_ID_METADATA]: Buffer.from('key-a') },
    };
    await expect(codec.decode([relabelled])).rejects.toThrow(/failed authentication/);
    const impostor = new AesGcmPayloadCodec([{ id: 'key-b', key: generatePayloadKey().key }]);
    await expect(impostor.decode([sealed])).rejects.toThrow(/failed authentication/);
    await expect(codec.decode([{ ...sealed, data: Buffer.alloc(8) }])).rejects.toThrow(/truncated/);
  });
});

describe('payload key configuration', () => {
  it('parses id:base64 lists and round-trips them', () => {
    const keys = parsePayloadKeys(` ${formatPayloadKeys([keyA])},\n${formatPayloadKeys([keyB])} `);
    expect(keys.map((k) => k.id)).toEqual(['key-a', 'key-b']);
    expect(keys[1]?.key.equals(keyB.key)).toBe(true);
  });

  it.each([
    ['no id', `:${keyA.key.toString('base64')}`, /expected "id:base64key"/],
    ['a short key', `k1:${Buffer.alloc(16).toString('base64')}`, /expected 32 bytes/],
    ['not base64', 'k1:not*base64', /expected 32 bytes/],
    ['a duplicate id', `${formatPayloadKeys([keyA])},${formatPayloadKeys([keyA])}`, /appears twice/],
  ])('refuses %s, without echoing key material', (_name, input, message) => {
    expect(() => parsePayloadKeys(input)).toThrow(message);
    try {
      parsePayloadKeys(input);
    } catch (err) {
      expect((err as Error).message).not.toContain(keyA.key.toString('base64'));
    }
  });

  it('loadConfig reports bad keys and an encrypting key id that is not configured', () => {
    expect(() => loadConfig({ PAYLOAD_KEYS: 'k1:short' })).toThrow(
      /PAYLOAD_KEYS: key "k1": expected 32 bytes/,
    );
    expect(() =>
      loadConfig({ PAYLOAD_KEYS: formatPayloadKeys([keyA]), PAYLOAD_ENCRYPTION_KEY_ID: 'key-z' }),
    ).toThrow(/PAYLOAD_ENCRYPTION_KEY_ID: "key-z" is not a key id/);
  });

  it('production refuses to start without keys, or with encryption off', () => {
    const production = { NODE_ENV: 'production' };
    expect(() => loadPayloadProtection(loadConfig(production))).toThrow(
      /PAYLOAD_KEYS: must be set when NODE_ENV=production/,
    );
    expect(() => loadPayloadProtection(loadConfig({ ...production, PAYLOAD_ENCRYPTION: 'false' }))).toThrow(
      /PAYLOAD_ENCRYPTION: false is not allowed/,
    );
    const keyed = loadPayloadProtection(
      loadConfig({ ...production, PAYLOAD_KEYS: formatPayloadKeys([keyA, keyB]) }),
    );
    expect(keyed.codec?.encryptionKeyId).toBe('key-b');
    expect(keyed.dataConverter.payloadCodecs).toEqual([keyed.codec]);
  });

  it('with encryption on, failure messages and stack traces go into the sealed payload; off, they stay plain', async () => {
    const secret = 'cannot deliver to Ada Lovelace, 12 Analytical St';
    const on = loadPayloadProtection(loadConfig({ PAYLOAD_KEYS: formatPayloadKeys([keyA]) }));
    // Loaded the way every client and worker loads it (the converter module is required by path).
    const loaded = loadDataConverter(on.dataConverter);
    const failure = loaded.failureConverter.errorToFailure(new Error(secret), loaded.payloadConverter);
    expect(failure.message).toBe('Encoded failure');
    expect(failure.stackTrace).toBe('');
    const [sealed] = await (on.codec as AesGcmPayloadCodec).encode([failure.encodedAttributes as Payload]);
    expect(Buffer.from(sealed?.data ?? new Uint8Array()).toString('latin1')).not.toContain('Ada Lovelace');
    const [opened] = await (on.codec as AesGcmPayloadCodec).decode([sealed as Payload]);
    const back = loaded.failureConverter.failureToError(
      { ...failure, encodedAttributes: opened ?? null },
      loaded.payloadConverter,
    );
    expect(back.message).toBe(secret);

    const off = loadDataConverter(
      loadPayloadProtection(loadConfig({ PAYLOAD_ENCRYPTION: 'false' })).dataConverter,
    );
    const clear = off.failureConverter.errorToFailure(new Error(secret), off.payloadConverter);
    expect(clear.message).toBe(secret);
    expect(clear.encodedAttributes).toBeFalsy();
  });

  it('development generates one key file (0600), reuses it, says so, and tightens a readable one', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'payload-keys-'));
    const keyFile = path.join(dir, 'nested', 'payload-keys');
    const lines: string[] = [];
    const logger = { warn: (...a: unknown[]) => lines.push(String(a.at(-1))), info: () => undefined };
    const config = loadConfig({ NODE_ENV: 'development', PAYLOAD_KEY_FILE: keyFile });
    const first = loadPayloadProtection(config, logger as never);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(lines.join('\n')).toMatch(/generated a development payload key/);
    const second = loadPayloadProtection(config, logger as never);
    expect(second.codec?.encryptionKeyId).toBe(first.codec?.encryptionKeyId);
    expect(readFileSync(keyFile, 'utf8').trim().split(',')).toHaveLength(1);

    chmodSync(keyFile, 0o644);
    expect(loadOrCreateDevKeys(keyFile).tightened).toBe(true);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
  });

  it('later starts reuse the key file and never replace it', () => {
    const keyFile = path.join(mkdtempSync(path.join(os.tmpdir(), 'payload-keys-')), 'payload-keys');
    const results = Array.from({ length: 5 }, () => loadOrCreateDevKeys(keyFile));
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(new Set(results.map((r) => r.keys[0]?.key.toString('base64'))).size).toBe(1);
  });
});
