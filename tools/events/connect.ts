/**
 * How the event operator tools (replay, dlq) reach JetStream: NATS_URL through the configuration, one connect
 * attempt with a timeout instead of the services' connect-forever client, so a wrong address fails at once.
 */
import { type JetStreamClient, type JetStreamManager, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { loadConfig } from '../../core/config.js';
import { isAuthorizationRefusal, loggableServers, natsSecurityOptions } from '../../events/nats.js';

/** JetStream publishing, consuming and management on one connection: what the tools' modules take. */
export interface JetStreamAccess {
  js: JetStreamClient;
  jsm: JetStreamManager;
}

/** A tool's connection; `close()` drains nothing and waits for the socket to close. */
export interface ToolConnection extends JetStreamAccess {
  nc: NatsConnection;
  close(): Promise<void>;
}

/** How long the tools wait for a server before giving up. */
const CONNECT_TIMEOUT_MS = 5_000;

/** Connects to the servers of NATS_URL; a clear error when it is unset or no server answers. */
export async function connectFromEnvironment(toolName: string, env = process.env): Promise<ToolConnection> {
  const { events } = loadConfig(env);
  const servers = events.natsServers;
  if (servers.length === 0) {
    throw new Error('NATS_URL is not set: point it at the NATS server of the events (nats://host:port)');
  }
  let nc: NatsConnection;
  try {
    nc = await connect({
      servers,
      name: `tool:${toolName}`,
      timeout: CONNECT_TIMEOUT_MS,
      reconnect: false,
      ...natsSecurityOptions(events.connection.auth, events.connection.tls),
    });
  } catch (err) {
    const where = loggableServers(servers).join(', ');
    if (isAuthorizationRefusal(err)) {
      throw new Error(
        `NATS at ${where} refused authorization (check NATS_CREDS, NATS_NKEY or NATS_USER/NATS_PASSWORD): ${(err as Error).message}`,
      );
    }
    throw new Error(`NATS at ${where} did not answer: ${(err as Error).message}`);
  }
  return {
    nc,
    js: jetstream(nc),
    jsm: await jetstreamManager(nc),
    close: () => nc.close(),
  };
}

/** Thrown for a command line that makes no sense; the entry prints it with the usage and exits 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Runs a tool's main: prints its error (with the usage for a UsageError) and sets the exit code. */
export function runTool(usage: string, main: () => Promise<number>): void {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      if (err instanceof UsageError) {
        console.error(`${err.message}\n\n${usage}`);
        process.exitCode = 2;
        return;
      }
      console.error(err instanceof Error ? `error: ${err.message}` : err);
      process.exitCode = 1;
    },
  );
}
