/**
 * NATS authentication and TLS settings (NATS_USER/NATS_PASSWORD, token, NATS_NKEY, NATS_CREDS, NATS_CA/CERT/KEY):
 * the configuration refuses what cannot work, and the process client (events/nats.ts) authenticates to real
 * servers that demand it, logging a refusal as one and backing off while it lasts.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { nkeys } from '@nats-io/transport-node';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { ConfigurationError, loadConfig } from '../../core/config.js';
import { createLogger } from '../../core/logger.js';
import { createNatsClient, type NatsClient, natsConnectOptions } from '../../events/nats.js';
import { type NatsServer, type NatsServerAuth, startNatsServer } from '../../harness/nats-server.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'nats-auth-'));
const servers: NatsServer[] = [];
const clients: NatsClient[] = [];

afterAll(async () => {
  await Promise.all(clients.map((client) => client.close()));
  await Promise.all(servers.map((server) => server.stop()));
  rmSync(dir, { recursive: true, force: true });
});

/** A file in the test folder holding `text`. */
function file(name: string, text: string): string {
  const at = path.join(dir, name);
  writeFileSync(at, text);
  return at;
}

/** The `VAR: message` lines of an environment that must not load. */
function problemLines(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigurationError);
    return (err as ConfigurationError).problems.map((p) => `${p.variable}: ${p.message}`);
  }
  throw new Error(`expected a configuration error for ${JSON.stringify(env)}`);
}

const url = 'nats://nats:4222';
const userSeed = nkeys.createUser();
const seedFile = file('user.nk', `${new TextDecoder().decode(userSeed.getSeed())}\n`);
const credsFile = file(
  'user.creds',
  '-----BEGIN NATS USER JWT-----\neyJ0eXAiOiJKV1QifQ.e30.sig\n------END NATS USER JWT------\n\n' +
    `-----BEGIN USER NKEY SEED-----\n${new TextDecoder().decode(userSeed.getSeed())}\n------END USER NKEY SEED------\n`,
);
const pemFile = file('ca.pem', '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');

describe('configuration', () => {
  it('maps each way to authenticate, NATS_USER alone being a token as the NATS CLI reads it', () => {
    const connection = (env: Record<string, string>) =>
      loadConfig({ NATS_URL: url, ...env }).events.connection;
    expect(connection({})).toEqual({ auth: undefined, tls: undefined });
    expect(connection({ NATS_USER: 'orders', NATS_PASSWORD: 's3cret' }).auth).toEqual({
      kind: 'user',
      user: 'orders',
      password: 's3cret',
    });
    expect(connection({ NATS_USER: 'tok3n' }).auth).toEqual({ kind: 'token', token: 'tok3n' });
    expect(connection({ NATS_NKEY: seedFile }).auth).toEqual({ kind: 'nkey', file: seedFile });
    expect(connection({ NATS_CREDS: credsFile }).auth).toEqual({ kind: 'creds', file: credsFile });
    expect(connection({ NATS_CA: pemFile }).tls).toEqual({ caFile: pemFile });
    expect(connection({ NATS_CERT: pemFile, NATS_KEY: pemFile }).tls).toEqual({
      certFile: pemFile,
      keyFile: pemFile,
    });
    // Empty means unset, as a compose file writes it.
    expect(connection({ NATS_USER: '', NATS_PASSWORD: '' })).toEqual({ auth: undefined, tls: undefined });
  });

  it('refuses contradictions, naming the variables', () => {
    expect(problemLines({ NATS_URL: url, NATS_CERT: pemFile })).toEqual([
      'NATS_CERT: mutual TLS needs both the client certificate and its key: set NATS_KEY too',
    ]);
    expect(problemLines({ NATS_URL: url, NATS_KEY: pemFile })).toEqual([
      'NATS_KEY: mutual TLS needs both the client certificate and its key: set NATS_CERT too',
    ]);
    expect(problemLines({ NATS_URL: url, NATS_PASSWORD: 'x' })).toEqual([
      'NATS_PASSWORD: needs NATS_USER (the user the password is for)',
    ]);
    expect(
      problemLines({ NATS_URL: url, NATS_CREDS: credsFile, NATS_USER: 'u', NATS_PASSWORD: 'p' }),
    ).toEqual([expect.stringMatching(/^NATS_CREDS, NATS_USER: set one way to authenticate/)]);
    expect(problemLines({ NATS_URL: url, NATS_CREDS: credsFile, NATS_NKEY: seedFile })).toEqual([
      expect.stringMatching(/^NATS_CREDS, NATS_NKEY: set one way to authenticate/),
    ]);
    expect(problemLines({ NATS_USER: 'u', NATS_PASSWORD: 'p' })).toEqual([
      expect.stringMatching(/^NATS_USER, NATS_PASSWORD: needs NATS_URL/),
    ]);
  });

  it('refuses files that are missing, folders, unreadable or not what the variable says', () => {
    const missing = path.join(dir, 'nope.creds');
    expect(problemLines({ NATS_URL: url, NATS_CREDS: missing })).toEqual([
      `NATS_CREDS: "${missing}" does not exist`,
    ]);
    expect(problemLines({ NATS_URL: url, NATS_CA: dir })).toEqual([`NATS_CA: "${dir}" is not a file`]);
    expect(problemLines({ NATS_URL: url, NATS_NKEY: pemFile })).toEqual([
      expect.stringMatching(/^NATS_NKEY: ".*ca\.pem" is not a user NKey seed/),
    ]);
    expect(problemLines({ NATS_URL: url, NATS_CREDS: seedFile })).toEqual([
      expect.stringMatching(/^NATS_CREDS: ".*user\.nk" is not a \.creds file/),
    ]);
    if (process.getuid?.() !== 0) {
      const locked = file('locked.pem', 'x');
      chmodSync(locked, 0o000);
      expect(problemLines({ NATS_URL: url, NATS_CERT: locked, NATS_KEY: pemFile })).toEqual([
        expect.stringMatching(/^NATS_CERT: ".*locked\.pem" cannot be read \(EACCES\)/),
      ]);
    }
  });

  it('a secret in the configuration never reaches the log', () => {
    const lines: string[] = [];
    const logger = createLogger('test', 'info', { write: (line: string) => void lines.push(line) });
    const { events } = loadConfig({ NATS_URL: url, NATS_USER: 'orders', NATS_PASSWORD: 'hunter2-secret' });
    logger.info({ events }, 'settings');
    logger.info(natsConnectOptions(events), 'options');
    expect(lines.join('')).not.toContain('hunter2-secret');
    const token = loadConfig({ NATS_URL: url, NATS_USER: 'token-secret' }).events;
    logger.info({ events: token }, 'settings');
    logger.info(natsConnectOptions(token), 'options');
    expect(lines.join('')).not.toContain('token-secret');
  });
});

interface Logged {
  level: number;
  msg: string;
  [field: string]: unknown;
}

/** A server demanding `auth`, and a client configured from `env` (NATS_URL added), with its log lines. */
async function serverAndClient(auth: NatsServerAuth, env: Record<string, string>) {
  const storeDir = path.join(dir, `store-${servers.length}`);
  mkdirSync(storeDir, { recursive: true });
  const server = await startNatsServer({ binary: inject('natsServerBinary'), storeDir, auth });
  servers.push(server);
  const logged: Logged[] = [];
  const logger = createLogger('test', 'debug', {
    write: (line: string) => void logged.push(JSON.parse(line) as Logged),
  });
  const config = loadConfig({ NATS_URL: server.url, ...env });
  const client = createNatsClient({
    ...natsConnectOptions(config.events),
    name: 'nats-auth-test',
    logger,
    retryDelayMs: 50,
    maxRetryDelayMs: 400,
    connectTimeoutMs: 2_000,
  });
  clients.push(client);
  return { server, client, logged };
}

/** Creates a stream and publishes one message to it through JetStream: the connection is authorized for it. */
async function publishes(client: NatsClient, stream: string): Promise<void> {
  const jsm = await client.manager();
  await jsm.streams.add({ name: stream, subjects: [`${stream}.>`] });
  const ack = await (await client.jetstream()).publish(`${stream}.hello`, 'hi');
  expect(ack.stream).toBe(stream);
  expect(ack.seq).toBe(1);
}

const withinMs = <T>(promise: Promise<T>, ms: number) =>
  Promise.race([promise.then(() => 'settled'), new Promise((r) => setTimeout(() => r('pending'), ms))]);

describe('against a server that demands credentials', () => {
  it('user and password: connects and publishes to JetStream', async () => {
    const { client } = await serverAndClient(
      { user: 'orders', password: 'right-password' },
      { NATS_USER: 'orders', NATS_PASSWORD: 'right-password' },
    );
    await publishes(client, 'AUTH_USER');
  }, 30_000);

  it('a wrong password is refused, logged as an authorization failure, and retried with back-off', async () => {
    const { client, logged } = await serverAndClient(
      { user: 'orders', password: 'right-password' },
      { NATS_USER: 'orders', NATS_PASSWORD: 'wrong-password' },
    );
    expect(await withinMs(client.connection(), 2_000)).toBe('pending');
    expect(client.connected).toBe(false);
    const refused = logged.filter((line) => line.msg.startsWith('NATS refused authorization'));
    expect(refused).toHaveLength(1); // said once, at error level; the retries after it log at debug
    expect(refused[0]?.level).toBe(50);
    expect(logged.some((line) => line.msg === 'NATS unreachable; retrying until it answers')).toBe(false);
    const retries = logged.filter((line) => line.msg === 'NATS still refuses authorization');
    expect(retries.length).toBeGreaterThan(1);
    // Back-off: 50, 100, 200, 400, 400 … ms, so about eight attempts in two seconds, not hundreds.
    expect(retries.length).toBeLessThan(12);
    expect(retries.at(-1)?.retryInMs).toBe(400);
    expect(JSON.stringify(logged)).not.toContain('wrong-password');
  }, 30_000);

  it('a token (NATS_USER alone): connects and publishes; a wrong one is refused', async () => {
    const { client } = await serverAndClient({ token: 'a-long-token' }, { NATS_USER: 'a-long-token' });
    await publishes(client, 'AUTH_TOKEN');
    const { client: wrong, logged } = await serverAndClient(
      { token: 'a-long-token' },
      { NATS_USER: 'other' },
    );
    expect(await withinMs(wrong.connection(), 1_000)).toBe('pending');
    expect(logged.some((line) => line.msg.startsWith('NATS refused authorization'))).toBe(true);
  }, 30_000);

  it('an NKey seed file (NATS_NKEY): connects and publishes; another key is refused', async () => {
    const { client } = await serverAndClient({ nkeys: [userSeed.getPublicKey()] }, { NATS_NKEY: seedFile });
    await publishes(client, 'AUTH_NKEY');
    const stranger = file('stranger.nk', new TextDecoder().decode(nkeys.createUser().getSeed()));
    const { client: wrong, logged } = await serverAndClient(
      { nkeys: [userSeed.getPublicKey()] },
      { NATS_NKEY: stranger },
    );
    expect(await withinMs(wrong.connection(), 1_000)).toBe('pending');
    expect(logged.some((line) => line.msg.startsWith('NATS refused authorization'))).toBe(true);
  }, 30_000);

  it('no credentials for a server that demands them: refused as authorization, not as unreachable', async () => {
    const { client, logged } = await serverAndClient({ user: 'orders', password: 'right-password' }, {});
    expect(await withinMs(client.connection(), 1_000)).toBe('pending');
    expect(logged.some((line) => line.msg.startsWith('NATS refused authorization'))).toBe(true);
    expect(logged.some((line) => line.msg.startsWith('NATS unreachable'))).toBe(false);
  }, 30_000);
});
