/** Starts `nats-server` with JetStream on a file store as a child process (`npm start`, tests, tools). */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { freePort, portInUse } from './free-port.js';
import { type ManagedProcess, startProcess } from './processes.js';

/** Where the NATS server of a local run listens unless told otherwise (NATS's own default port). */
export const DEFAULT_NATS_PORT = 4222;

/** What the server demands of clients: one user and password, a token, or one of the listed user NKeys (`U…`). */
export type NatsServerAuth = { user: string; password: string } | { token: string } | { nkeys: string[] };

export interface NatsServerOptions {
  /** The `nats-server` binary (harness/dev-tools.mjs `requireNatsServer()`). */
  binary: string;
  host?: string;
  /** Client port; 0 or omitted picks a free one. */
  port?: number;
  /** Monitoring port (/healthz, /varz, /jsz); 0 or omitted picks a free one. */
  monitorPort?: number;
  /** JetStream's file store; what it holds survives a restart on the same folder. */
  storeDir: string;
  /** Server name in its logs and monitoring (default `order-saga`). */
  name?: string;
  /** Every line the server logs. */
  onOutput?: (line: string) => void;
  /** How long it may take to answer /healthz with JetStream up (default 30 s). */
  readyTimeoutMs?: number;
  /** Client authentication; none: anyone may connect (the local default). */
  auth?: NatsServerAuth;
}

/** A running server and how to reach it. */
export interface NatsServer {
  /** `nats://host:port`, what NATS_URL would say. */
  url: string;
  host: string;
  port: number;
  /** `http://host:monitorPort`, the monitoring endpoint. */
  monitorUrl: string;
  storeDir: string;
  process: ManagedProcess;
  /** SIGTERM (JetStream flushes its store), SIGKILL after 10 s; resolves once it has exited. */
  stop(): Promise<void>;
}

/** The `nats-server` arguments for a JetStream server with its store in `storeDir`. */
export function natsServerArgs(options: {
  host: string;
  port: number;
  monitorPort: number;
  storeDir: string;
  name?: string;
}): string[] {
  return [
    '--addr',
    options.host,
    '--port',
    String(options.port),
    '--http_port',
    String(options.monitorPort),
    '--server_name',
    options.name ?? 'order-saga',
    '--jetstream',
    '--store_dir',
    options.storeDir,
  ];
}

/** Flags for the server's client authentication; NKeys have no flag, so they go in a config file in `dir`. */
export function natsServerAuthArgs(auth: NatsServerAuth, dir: string): string[] {
  if ('user' in auth) return ['--user', auth.user, '--pass', auth.password];
  if ('token' in auth) return ['--auth', auth.token];
  const file = path.join(dir, 'authorization.conf');
  const users = auth.nkeys.map((nkey) => `    { nkey: ${JSON.stringify(nkey)} }`).join('\n');
  writeFileSync(file, `authorization {\n  users = [\n${users}\n  ]\n}\n`);
  return ['--config', file];
}

/** Launches the server and resolves once its monitoring endpoint says JetStream is up. */
export async function startNatsServer(options: NatsServerOptions): Promise<NatsServer> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port || (await freePort());
  const monitorPort = options.monitorPort || (await freePort());
  for (const [what, taken] of [
    ['client', port],
    ['monitoring', monitorPort],
  ] as const) {
    if (await portInUse(host, taken)) {
      throw new Error(
        `port ${taken} (NATS ${what}) is in use; stop that process or set NATS_URL to use a running server`,
      );
    }
  }
  mkdirSync(options.storeDir, { recursive: true });
  const args = [
    ...natsServerArgs({ host, port, monitorPort, storeDir: options.storeDir, name: options.name }),
    ...(options.auth ? natsServerAuthArgs(options.auth, options.storeDir) : []),
  ];
  const child = startProcess({
    name: 'nats-server',
    command: options.binary,
    args,
    // Own process group: Ctrl-C reaches our process, which stops the server last, after the relays drained.
    processGroup: true,
    ...(options.onOutput ? { onLine: options.onOutput } : {}),
  });
  const monitorUrl = `http://${host}:${monitorPort}`;
  try {
    // 200 only once JetStream has loaded its store (streams recovered after a restart).
    await child.waitReady(`${monitorUrl}/healthz?js-enabled-only=true`, options.readyTimeoutMs ?? 30_000);
  } catch (err) {
    await child.stop(5_000);
    child.close();
    throw new Error(`nats-server did not become ready on ${host}:${port}: ${(err as Error).message}`);
  }
  return {
    url: `nats://${host}:${port}`,
    host,
    port,
    monitorUrl,
    storeDir: options.storeDir,
    process: child,
    async stop() {
      await child.stop(10_000);
      child.close();
    },
  };
}
