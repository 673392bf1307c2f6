/**
 * The worker process's own small HTTP server: `/metrics` (Prometheus), `/healthz` (alive), `/readyz` (ready), and
 * the subgraphs of the services it hosts at `/graphql/<service>` (for the gateway only).
 */
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { ListenAddress } from '../core/config.js';
import type { SubgraphServer } from '../graph/server.js';
import { routeToSubgraph } from '../graph/subgraph-http.js';

/** The answer of a readiness check: ready only when every check is `ok`. */
export interface Readiness {
  ready: boolean;
  checks: Record<string, string>;
}

/** Where to listen, what to serve on /metrics, and how to tell readiness. */
export interface WorkerHttpServerOptions extends ListenAddress {
  registry: Registry;
  readiness(): Promise<Readiness>;
  /** The subgraphs the process serves (none when omitted). */
  subgraphs?: readonly SubgraphServer[];
}

/** A running worker HTTP server. */
export interface WorkerHttpServer {
  /** Base URL, with the port actually bound (useful when 0 asked for a free one). */
  url: string;
  close(): Promise<void>;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

/** Starts the server; rejects if the port cannot be bound. */
export async function startWorkerHttpServer(options: WorkerHttpServerOptions): Promise<WorkerHttpServer> {
  const { registry, readiness } = options;
  const subgraph = routeToSubgraph(options.subgraphs ?? []);
  const server = createServer((req, res) => {
    if (subgraph(req, res)) return;
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    const answer = async () => {
      if (path === '/metrics') {
        res.writeHead(200, { 'content-type': registry.contentType }).end(await registry.metrics());
      } else if (path === '/healthz') {
        sendJson(res, 200, { status: 'ok' });
      } else if (path === '/readyz') {
        const report = await readiness();
        sendJson(res, report.ready ? 200 : 503, { status: report.ready ? 'ready' : 'not ready', ...report });
      } else {
        sendJson(res, 404, { error: `no route ${path}; try /metrics, /healthz or /readyz` });
      }
    };
    answer().catch((err: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: (err as Error).message });
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) =>
      reject(
        new Error(`worker HTTP server cannot listen on ${options.host}:${options.port}: ${err.message}`),
      ),
    );
    server.listen(options.port, options.host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    url: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A database that does not answer within this long counts as down. */
const PING_TIMEOUT_MS = 3_000;

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Readiness of a worker process: every worker polling and the database answering. */
export async function workerReadiness(
  states: Record<string, string | undefined>,
  pingDatabase: () => Promise<void>,
): Promise<Readiness> {
  const checks: Record<string, string> = {};
  for (const [service, state] of Object.entries(states)) {
    checks[`worker:${service}`] = state === 'RUNNING' ? 'ok' : (state ?? 'missing');
  }
  try {
    await withTimeout(pingDatabase(), PING_TIMEOUT_MS);
    checks.database = 'ok';
  } catch (err) {
    checks.database = `error: ${(err as Error).message}`;
  }
  return { ready: Object.values(checks).every((check) => check === 'ok'), checks };
}
