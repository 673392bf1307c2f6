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

describe('Temporal connection options', () => {
  it('plaintext by default (the local dev server)', () => {
    expect(temporalOptions({})).toEqual({ address: 'temporal.example:7233' });
  });

  it('mTLS: CA, client certificate pair and server name from files', () => {
    const options = temporalOptions({
      TEMPORAL_TLS_CA: ca,
      TEMPORAL_TLS_CERT: cert,
      TEMPORAL_TLS_KEY: key,
      TEMPORAL_TLS_SERVER_NAME: 'frontend.temporal.internal',
    });
    expect(options.apiKey).toBeUndefined();
    expect(options.tls?.serverNameOverride).toBe('frontend.temporal.internal');
    expect(Buffer.from(options.tls?.serverRootCACertificate ?? []).toString()).toContain('ca.pem');
    expect(Buffer.from(options.tls?.clientCertPair?.crt ?? []).toString()).toContain('client.pem');
    expect(Buffer.from(options.tls?.clientCertPair?.key ?? []).toString()).toContain('client.key');
  });

  it('Temporal Cloud API key: TLS with the system CAs plus the key', () => {
    expect(temporalOptions({ TEMPORAL_API_KEY: 'cloud-key' })).toEqual({
      address: 'temporal.example:7233',
      tls: {},
      apiKey: 'cloud-key',
    });
    expect(temporalOptions({ TEMPORAL_TLS: 'true' })).toEqual({ address: 'temporal.example:7233', tls: {} });
  });

  it('refuses half an mTLS pair, TLS off with TLS settings, and unreadable files', () => {
    expect(() => temporalOptions({ TEMPORAL_TLS_CERT: cert })).toThrow(/mTLS needs both/);
    expect(() => temporalOptions({ TEMPORAL_TLS: 'false', TEMPORAL_API_KEY: 'k' })).toThrow(
      /TEMPORAL_TLS=false/,
    );
    expect(() => temporalOptions({ TEMPORAL_TLS_CA: path.join(dir, 'missing.pem') })).toThrow(
      /TEMPORAL_TLS_CA: cannot read .*missing\.pem: ENOENT/,
    );
  });

  it('treats empty variables as unset', () => {
    expect(temporalOptions({ TEMPORAL_TLS_CA: '', TEMPORAL_API_KEY: '' })).toEqual({
      address: 'temporal.example:7233',
    });
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
