/**
 * The process's connection to NATS. It is made lazily and retried until a server answers, so a process starts
 * (and its outbox fills) while NATS is down; once connected, the client reconnects forever on its own. State
 * changes are logged through the process logger.
 */
import { readFileSync } from 'node:fs';
import { type JetStreamClient, type JetStreamManager, jetstream, jetstreamManager } from '@nats-io/jetstream';
import {
  AuthorizationError,
  type ConnectionOptions,
  connect,
  credsAuthenticator,
  type NatsConnection,
  nkeyAuthenticator,
  UserAuthenticationExpiredError,
} from '@nats-io/transport-node';
import type { EventSettings, NatsAuth, NatsTlsSettings } from '../core/config.js';
import type { Logger } from '../core/logger.js';

export type { NatsConnection } from '@nats-io/transport-node';

/** How to reach NATS and how to name this process there. */
export interface NatsClientOptions {
  /** `nats://host:port` URLs (config.events.natsServers). */
  servers: string[];
  /** Connection name the server shows in its monitoring (`/connz`), e.g. `worker:orders`. */
  name: string;
  logger: Logger;
  /** Pause after a failed first connect, doubled per failure up to `maxRetryDelayMs` (defaults 250 ms, 5 s). */
  retryDelayMs?: number;
  maxRetryDelayMs?: number;
  /** Time one connect attempt may take (default 5 s). */
  connectTimeoutMs?: number;
  /** Credentials (config.events.connection.auth); none: connect anonymously. */
  auth?: NatsAuth | undefined;
  /** TLS files (config.events.connection.tls); none: TLS only if the server or a `tls://` URL asks for it. */
  tls?: NatsTlsSettings | undefined;
}

/** The servers, credentials and TLS of the configuration: spread into `createNatsClient` by every process. */
export function natsConnectOptions(
  events: Pick<EventSettings, 'natsServers' | 'connection'>,
): Pick<NatsClientOptions, 'servers' | 'auth' | 'tls'> {
  return { servers: events.natsServers, auth: events.connection.auth, tls: events.connection.tls };
}

/** The user NKey seed of a seed file: its `SU…` line (a file may hold comments around it, as `nk` writes them). */
function readNkeySeed(file: string): Uint8Array {
  const seed = readFileSync(file, 'utf8')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .find((line) => line.startsWith('SU'));
  if (!seed) throw new Error(`NATS_NKEY: "${file}" holds no user NKey seed (SU…)`);
  return new TextEncoder().encode(seed);
}

/** The nats.js options for credentials and TLS; files are read at each connect (a rotated .creds file is used). */
export function natsSecurityOptions(
  auth: NatsAuth | undefined,
  tls: NatsTlsSettings | undefined,
): Partial<ConnectionOptions> {
  const options: Partial<ConnectionOptions> = {};
  if (auth?.kind === 'creds') {
    const file = auth.file;
    options.authenticator = credsAuthenticator(() => readFileSync(file));
  } else if (auth?.kind === 'nkey') {
    const file = auth.file;
    options.authenticator = nkeyAuthenticator(() => readNkeySeed(file));
  } else if (auth?.kind === 'user') {
    options.user = auth.user;
    options.pass = auth.password;
  } else if (auth?.kind === 'token') {
    options.token = auth.token;
  }
  if (tls) options.tls = { ...tls };
  return options;
}

/** True when the server refused the credentials (or their JWT expired): retrying the same ones will not help soon. */
export function isAuthorizationRefusal(err: unknown): boolean {
  for (let e = err; e instanceof Error; e = e.cause) {
    if (e instanceof AuthorizationError || e instanceof UserAuthenticationExpiredError) return true;
  }
  return false;
}

/** Server URLs as safe to log: a user and password written into NATS_URL are masked. */
export function loggableServers(servers: readonly string[]): string[] {
  return servers.map((server) => server.replace(/\/\/[^/@]*@/, '//[redacted]@'));
}

/** A connection that exists once NATS first answered; `connection()` waits for that moment. */
export interface NatsClient {
  /** The connection, waiting (retrying forever) while no server answers; rejects once the client is closed. */
  connection(): Promise<NatsConnection>;
  /** JetStream publishing and consuming on the connection (waits like `connection()`). */
  jetstream(): Promise<JetStreamClient>;
  /** JetStream stream and consumer management on the connection (waits like `connection()`). */
  manager(): Promise<JetStreamManager>;
  /** The connection if one was made (it may be reconnecting), else undefined. */
  readonly current: NatsConnection | undefined;
  /** True while connected to a server: false before the first connect and while reconnecting. */
  readonly connected: boolean;
  /** Stops trying and closes the connection; later calls to `connection()` reject. Idempotent. */
  close(): Promise<void>;
}

interface Waiter {
  resolve(nc: NatsConnection): void;
  reject(err: Error): void;
}

/** Starts connecting in the background and returns at once. */
export function createNatsClient(options: NatsClientOptions): NatsClient {
  const { servers, name, logger } = options;
  const baseDelay = options.retryDelayMs ?? 250;
  const maxDelay = options.maxRetryDelayMs ?? 5_000;
  let current: NatsConnection | undefined;
  let connected = false;
  let closed = false;
  let retryTimer: NodeJS.Timeout | undefined;
  let wakeRetry: (() => void) | undefined;
  let js: JetStreamClient | undefined;
  let jsm: Promise<JetStreamManager> | undefined;
  const waiters = new Set<Waiter>();
  const log = logger.child({ component: 'nats' });
  const security = natsSecurityOptions(options.auth, options.tls);
  const safeServers = loggableServers(servers);

  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      wakeRetry = resolve;
      retryTimer = setTimeout(resolve, ms);
    });

  /** Tracks and logs the client's state changes until the connection closes. */
  const watch = async (nc: NatsConnection) => {
    for await (const status of nc.status()) {
      if (status.type === 'disconnect') {
        connected = false;
        log.warn({ server: status.server }, 'NATS connection lost; reconnecting');
      } else if (status.type === 'reconnect') {
        connected = true;
        log.info({ server: status.server }, 'NATS reconnected');
      } else if (status.type === 'ldm') {
        log.info({ server: status.server }, 'NATS server entering lame duck mode; will move to another');
      } else if (status.type === 'error') {
        if (isAuthorizationRefusal(status.error)) {
          log.error(
            { err: status.error },
            'NATS refused authorization; check NATS_CREDS, NATS_NKEY or NATS_USER',
          );
        } else {
          log.warn({ err: status.error }, 'NATS connection error');
        }
      }
    }
  };

  const onClosed = (nc: NatsConnection, reason: Error | undefined) => {
    if (current !== nc) return;
    current = undefined;
    connected = false;
    js = undefined;
    jsm = undefined;
    if (closed) return;
    // Only a fatal error closes a client that reconnects forever (an authorization error, say): try anew, after
    // a pause, so credentials the server keeps refusing cost a connect per back-off step, not a busy loop.
    if (isAuthorizationRefusal(reason)) {
      log.error(
        { err: reason, servers: safeServers, retryInMs: baseDelay },
        'NATS refused authorization and closed the connection; connecting again with back-off',
      );
    } else {
      log.error({ err: reason, retryInMs: baseDelay }, 'NATS connection closed; connecting again');
    }
    void connectLoop(true);
  };

  const connectLoop = async (pauseFirst = false) => {
    let delay = baseDelay;
    if (pauseFirst) {
      await pause(delay);
      delay = Math.min(delay * 2, maxDelay);
    }
    let lastFailure: 'refused' | 'unreachable' | undefined;
    for (let attempt = 1; !closed; attempt += 1) {
      try {
        const nc = await connect({
          servers,
          name,
          reconnect: true,
          maxReconnectAttempts: -1,
          timeout: options.connectTimeoutMs ?? 5_000,
          ...security,
        });
        if (closed) {
          await nc.close();
          return;
        }
        current = nc;
        connected = true;
        log.info({ server: nc.getServer(), attempts: attempt }, 'connected to NATS');
        void watch(nc).catch((err) => log.warn({ err }, 'NATS status watch ended'));
        void nc.closed().then((reason) => onClosed(nc, reason instanceof Error ? reason : undefined));
        for (const waiter of waiters) waiter.resolve(nc);
        waiters.clear();
        return;
      } catch (err) {
        if (closed) return;
        const fields = { err, servers: safeServers, attempt, retryInMs: delay };
        // A new kind of failure is news; the same one again only says it is still down (or still refusing).
        const failure = isAuthorizationRefusal(err) ? 'refused' : 'unreachable';
        const news = failure !== lastFailure;
        lastFailure = failure;
        if (failure === 'refused') {
          if (news)
            log.error(
              fields,
              'NATS refused authorization; retrying with back-off (check NATS_CREDS, NATS_NKEY, NATS_USER)',
            );
          else log.debug(fields, 'NATS still refuses authorization');
        } else if (news) log.warn(fields, 'NATS unreachable; retrying until it answers');
        else log.debug(fields, 'NATS still unreachable');
        await pause(delay);
        delay = Math.min(delay * 2, maxDelay);
      }
    }
  };

  const connection = (): Promise<NatsConnection> => {
    if (closed) return Promise.reject(new Error('NATS client closed'));
    if (current) return Promise.resolve(current);
    return new Promise((resolve, reject) => waiters.add({ resolve, reject }));
  };

  void connectLoop();

  return {
    connection,
    async jetstream() {
      const nc = await connection();
      js ??= jetstream(nc);
      return js;
    },
    async manager() {
      const nc = await connection();
      if (!jsm) {
        // Its first call asks the server for the account's JetStream info; a failure must not stick.
        const pending = jetstreamManager(nc);
        jsm = pending;
        pending.catch(() => {
          if (jsm === pending) jsm = undefined;
        });
      }
      return jsm;
    },
    get current() {
      return current;
    },
    get connected() {
      return connected;
    },
    async close() {
      if (closed) return;
      closed = true;
      clearTimeout(retryTimer);
      wakeRetry?.();
      for (const waiter of waiters) waiter.reject(new Error('NATS client closed'));
      waiters.clear();
      const nc = current;
      if (nc && !nc.isClosed()) await nc.close();
    },
  };
}
