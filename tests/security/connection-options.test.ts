/** Secure connections: Temporal TLS / mTLS / API key and Postgres TLS options, built from the environment in one place. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../core/config.js';
import { temporalConnectionOptions } from '../../core/temporal.js';
import { openDatabase, postgresSslOption } from '../../db/client.js';
import { TEST_POSTGRES_URL } from '../../harness/throwaway-database.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'tls-'));
const pem = (name: string) => {
  const file = path.join(dir, name);
  writeFileSync(file, `-----BEGIN ${name}-----\n${name}\n-----END ${name}-----\n`);
  return file;
};
const [ca, cert, key] = [pem('ca.pem'), pem('client.pem'), pem('client.key')];
const temporalOptions = (env: Record<string, string>) =>
  temporalConnectionOptions(loadConfig({ TEMPORAL_ADDRESS: 'temporal.example:7233', ...env }).temporal);

describe("Temporal connection options (Temporal's standard variable names)", () => {
  it('plaintext by default (the local dev server)', () => {
    expect(temporalOptions({})).toEqual({ address: 'temporal.example:7233' });
  });

  it('mTLS: server CA, client certificate pair and server name from the _PATH files', () => {
    const options = temporalOptions({
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: ca,
      TEMPORAL_TLS_CLIENT_CERT_PATH: cert,
      TEMPORAL_TLS_CLIENT_KEY_PATH: key,
      TEMPORAL_TLS_SERVER_NAME: 'frontend.temporal.internal',
    });
    expect(options.apiKey).toBeUndefined();
    expect(options.tls?.serverNameOverride).toBe('frontend.temporal.internal');
    expect(Buffer.from(options.tls?.serverRootCACertificate ?? []).toString()).toContain('ca.pem');
    expect(Buffer.from(options.tls?.clientCertPair?.crt ?? []).toString()).toContain('client.pem');
    expect(Buffer.from(options.tls?.clientCertPair?.key ?? []).toString()).toContain('client.key');
  });

  it('the same material inline from the _DATA variables (e.g. straight from a Secret)', () => {
    const text = (name: string) => `-----BEGIN ${name}-----\ninline-${name}\n-----END ${name}-----\n`;
    const options = temporalOptions({
      TEMPORAL_TLS_SERVER_CA_CERT_DATA: text('CA'),
      TEMPORAL_TLS_CLIENT_CERT_DATA: text('CERTIFICATE'),
      TEMPORAL_TLS_CLIENT_KEY_DATA: text('PRIVATE KEY'),
    });
    expect(Buffer.from(options.tls?.serverRootCACertificate ?? []).toString()).toBe(text('CA'));
    expect(Buffer.from(options.tls?.clientCertPair?.crt ?? []).toString()).toBe(text('CERTIFICATE'));
    expect(Buffer.from(options.tls?.clientCertPair?.key ?? []).toString()).toBe(text('PRIVATE KEY'));
    // A path for one and inline PEM for the other is fine too.
    const mixed = temporalOptions({
      TEMPORAL_TLS_CLIENT_CERT_PATH: cert,
      TEMPORAL_TLS_CLIENT_KEY_DATA: text('KEY'),
    });
    expect(Buffer.from(mixed.tls?.clientCertPair?.key ?? []).toString()).toBe(text('KEY'));
  });

  it('Temporal Cloud API key: TLS with the system CAs plus the key; TEMPORAL_TLS=true or 1 alone', () => {
    expect(temporalOptions({ TEMPORAL_API_KEY: 'cloud-key' })).toEqual({
      address: 'temporal.example:7233',
      tls: {},
      apiKey: 'cloud-key',
    });
    expect(temporalOptions({ TEMPORAL_TLS: 'true' })).toEqual({ address: 'temporal.example:7233', tls: {} });
    expect(temporalOptions({ TEMPORAL_TLS: '1' })).toEqual({ address: 'temporal.example:7233', tls: {} });
    expect(temporalOptions({ TEMPORAL_TLS: 'false' })).toEqual({ address: 'temporal.example:7233' });
    expect(() => temporalOptions({ TEMPORAL_TLS: 'yes' })).toThrow(/TEMPORAL_TLS: /);
  });

  it('refuses half an mTLS pair, a file and inline PEM at once, TLS off with TLS settings, unreadable files', () => {
    expect(() => temporalOptions({ TEMPORAL_TLS_CLIENT_CERT_PATH: cert })).toThrow(
      /TEMPORAL_TLS_CLIENT_CERT_PATH: mTLS needs both .* set TEMPORAL_TLS_CLIENT_KEY_PATH \(or _DATA\) too/,
    );
    expect(() => temporalOptions({ TEMPORAL_TLS_CLIENT_KEY_DATA: '-----BEGIN KEY-----' })).toThrow(
      /TEMPORAL_TLS_CLIENT_KEY_DATA: mTLS needs both/,
    );
    expect(() =>
      temporalOptions({
        TEMPORAL_TLS_SERVER_CA_CERT_PATH: ca,
        TEMPORAL_TLS_SERVER_CA_CERT_DATA: '-----BEGIN CA-----',
      }),
    ).toThrow(/TEMPORAL_TLS_SERVER_CA_CERT_PATH, TEMPORAL_TLS_SERVER_CA_CERT_DATA: set one of them/);
    expect(() => temporalOptions({ TEMPORAL_TLS_SERVER_CA_CERT_DATA: ca })).toThrow(
      /TEMPORAL_TLS_SERVER_CA_CERT_DATA: expected PEM text/,
    );
    expect(() => temporalOptions({ TEMPORAL_TLS: 'false', TEMPORAL_API_KEY: 'k' })).toThrow(
      /TEMPORAL_TLS: false contradicts TEMPORAL_API_KEY/,
    );
    expect(() =>
      temporalOptions({ TEMPORAL_TLS_SERVER_CA_CERT_PATH: path.join(dir, 'missing.pem') }),
    ).toThrow(
      /^Invalid configuration:\n {2}TEMPORAL_TLS_SERVER_CA_CERT_PATH: cannot read .*missing\.pem: ENOENT/,
    );
  });

  it('refuses what the TypeScript SDK cannot do instead of ignoring it: no host verification, TOML profiles', () => {
    expect(() =>
      temporalOptions({ TEMPORAL_TLS: 'true', TEMPORAL_TLS_DISABLE_HOST_VERIFICATION: 'true' }),
    ).toThrow(/TEMPORAL_TLS_DISABLE_HOST_VERIFICATION: .*set TEMPORAL_TLS_SERVER_NAME/);
    expect(temporalOptions({ TEMPORAL_TLS_DISABLE_HOST_VERIFICATION: 'false' })).toEqual({
      address: 'temporal.example:7233',
    });
    expect(() => temporalOptions({ TEMPORAL_PROFILE: 'prod', TEMPORAL_CONFIG_FILE: '/etc/t.toml' })).toThrow(
      /TEMPORAL_PROFILE: TOML profiles are not read/,
    );
  });

  it('refuses the old project-specific TLS names, one line each naming the standard variable', () => {
    let message = '';
    try {
      temporalOptions({ TEMPORAL_TLS_CA: ca, TEMPORAL_TLS_CERT: cert, TEMPORAL_TLS_KEY: key });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message.split('\n')).toEqual([
      'Invalid configuration:',
      expect.stringMatching(/^ {2}TEMPORAL_TLS_CA: no longer read: use TEMPORAL_TLS_SERVER_CA_CERT_PATH /),
      expect.stringMatching(/^ {2}TEMPORAL_TLS_CERT: no longer read: use TEMPORAL_TLS_CLIENT_CERT_PATH /),
      expect.stringMatching(/^ {2}TEMPORAL_TLS_KEY: no longer read: use TEMPORAL_TLS_CLIENT_KEY_PATH /),
    ]);
  });

  it('treats empty variables as unset', () => {
    expect(
      temporalOptions({
        TEMPORAL_TLS_SERVER_CA_CERT_PATH: '',
        TEMPORAL_API_KEY: '',
        TEMPORAL_TLS_CA: '',
        TEMPORAL_TLS: '',
      }),
    ).toEqual({ address: 'temporal.example:7233' });
  });
});

describe('Postgres TLS options', () => {
  const ssl = (env: Record<string, string>) => postgresSslOption(loadConfig(env).database.ssl);

  it('keeps the URL`s sslmode when unset; disable, require, verify-full otherwise', () => {
    expect(ssl({})).toBeUndefined();
    expect(ssl({ DATABASE_SSL: 'disable' })).toBe(false);
    expect(ssl({ DATABASE_SSL: 'require' })).toBe('require');
    expect(ssl({ DATABASE_SSL: 'verify-full' })).toEqual({ rejectUnauthorized: true });
  });

  it('a CA file implies verify-full and is read at start', () => {
    const options = ssl({ DATABASE_SSL_CA: ca }) as { ca: Buffer; rejectUnauthorized: boolean };
    expect(options.rejectUnauthorized).toBe(true);
    expect(options.ca.toString()).toContain('ca.pem');
    expect(() => ssl({ DATABASE_SSL: 'require', DATABASE_SSL_CA: ca })).toThrow(
      /needs DATABASE_SSL=verify-full/,
    );
    expect(() => ssl({ DATABASE_SSL_CA: path.join(dir, 'nope.pem') })).toThrow(
      /DATABASE_SSL_CA: cannot read/,
    );
  });

  it.skipIf(!TEST_POSTGRES_URL)(
    'reaches the driver: TLS is negotiated exactly as the server allows',
    async () => {
      const url = TEST_POSTGRES_URL as string;
      const plain = await openDatabase({ url, poolSize: 1, ssl: { mode: 'disable' } });
      const serverSsl = (await plain.db.execute(sql`show ssl`)) as unknown as Array<{ ssl: string }>;
      await plain.close();
      const tls = await openDatabase({ url, poolSize: 1, ssl: { mode: 'require' } });
      try {
        if (serverSsl[0]?.ssl === 'on') await expect(tls.ping()).resolves.toBeUndefined();
        else await expect(tls.ping()).rejects.toThrow();
      } finally {
        await tls.close();
      }
    },
  );
});
