/** Starts the Temporal CLI dev server as a child process (SQLite file, Web UI, our search attributes). */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { ORDER_SEARCH_ATTRIBUTES } from '../contracts/search-attributes.js';
import { portInUse } from './free-port.js';

export interface DevServerOptions {
  cli: string;
  /** SQLite file that keeps workflows across restarts; omit for in-memory. */
  dbFile?: string;
  host?: string;
  port: number;
  uiPort?: number;
  /** Codec server the Web UI decodes payloads with (`--ui-codec-endpoint`), e.g. `http://127.0.0.1:3000/codec`. */
  uiCodecEndpoint?: string;
  /** Extra `--dynamic-config-value KEY=VALUE` settings (on top of DEV_SERVER_TUNING unless `untuned`). */
  dynamicConfig?: Record<string, string | number | boolean>;
  /** Start with the server's stock settings (the benchmark's baseline for the tuning lever). */
  untuned?: boolean;
  onOutput?: (line: string) => void;
}

/**
 * Measured in docs/BENCHMARKS.md. The dev server has one history shard, and each shard reads its transfer queue
 * (workflow and activity tasks on their way to matching) at most 20 times a second by default: under steady load
 * every workflow task then waits for the next 50 ms tick (a five-step workflow took 300 ms instead of 70 ms).
 * The visibility queue has the same limit (search attributes lag the UI). For the persisted database, WAL with
 * synchronous=NORMAL stops every commit waiting on fsync (durable across process crashes, not power loss).
 */
export const DEV_SERVER_TUNING = {
  dynamicConfig: {
    'history.transferProcessorMaxPollRPS': 1000,
    'history.visibilityProcessorMaxPollRPS': 1000,
  },
  sqlitePragmas: { journal_mode: 'wal', synchronous: 'normal' },
} as const;

export interface DevServer {
  address: string;
  uiUrl: string | null;
  process: ChildProcess;
  stop(): Promise<void>;
}

/** The `temporal` CLI arguments for a dev server with these options (tuned unless `untuned`). */
export function devServerArgs(options: DevServerOptions): string[] {
  const host = options.host ?? '127.0.0.1';
  const args = ['server', 'start-dev', '--ip', host, '--port', String(options.port), '--log-level', 'warn'];
  if (options.uiPort) args.push('--ui-port', String(options.uiPort));
  else args.push('--headless');
  if (options.uiPort && options.uiCodecEndpoint) args.push('--ui-codec-endpoint', options.uiCodecEndpoint);
  if (options.dbFile) {
    args.push('--db-filename', options.dbFile);
    if (!options.untuned) {
      for (const [pragma, value] of Object.entries(DEV_SERVER_TUNING.sqlitePragmas)) {
        args.push('--sqlite-pragma', `${pragma}=${value}`);
      }
    }
  }
  for (const key of ORDER_SEARCH_ATTRIBUTES) args.push('--search-attribute', `${key.name}=Keyword`);
  const dynamicConfig = {
    ...(options.untuned ? {} : DEV_SERVER_TUNING.dynamicConfig),
    ...options.dynamicConfig,
  };
  for (const [key, value] of Object.entries(dynamicConfig)) {
    args.push('--dynamic-config-value', `${key}=${JSON.stringify(value)}`);
  }
  return args;
}

/** Launches `temporal server start-dev` and resolves once its frontend answers health checks. */
export async function startDevServer(options: DevServerOptions): Promise<DevServer> {
  const host = options.host ?? '127.0.0.1';
  const address = `${host}:${options.port}`;
  if (await portInUse(host, options.port)) {
    throw new Error(
      `port ${options.port} is in use; stop that process or set TEMPORAL_ADDRESS to use that server`,
    );
  }
  if (options.dbFile) mkdirSync(path.dirname(options.dbFile), { recursive: true });
  const args = devServerArgs(options);
  // Own process group: Ctrl-C in the terminal reaches our process, which stops the server last, after draining.
  const child = spawn(options.cli, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const killOnExit = () => {
    if (child.exitCode === null) child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  const forward = (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n')) if (line.trim()) options.onOutput?.(line);
  };
  child.stdout?.on('data', forward);
  child.stderr?.on('data', forward);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  const deadline = Date.now() + 60_000;
  for (;;) {
    const early = await Promise.race([
      exited,
      new Promise<'pending'>((r) => setTimeout(() => r('pending'), 250)),
    ]);
    if (early !== 'pending') throw new Error(`temporal dev server exited with code ${early} during start`);
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1_000 });
      await connection.healthService.check({});
      await connection.close();
      break;
    } catch (err) {
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`temporal dev server did not become ready at ${address}: ${(err as Error).message}`);
      }
    }
  }
  return {
    address,
    uiUrl: options.uiPort ? `http://${host}:${options.uiPort}` : null,
    process: child,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
      process.removeListener('exit', killOnExit);
    },
  };
}
