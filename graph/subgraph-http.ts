/**
 * Subgraphs on HTTP: the route a process's HTTP server gives its subgraphs (the workers' and the consumer's
 * servers), and a server of its own for processes that have none (the in-process system of `npm start` and tests).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SubgraphServer } from './server.js';

/** Serves a request whose path is one of `servers`' and returns true; false leaves it to the caller. */
export function routeToSubgraph(servers: readonly SubgraphServer[]) {
  const byPath = new Map(servers.map((server) => [server.path, server]));
  return (req: IncomingMessage, res: ServerResponse): boolean => {
    const server = byPath.get((req.url ?? '/').split('?')[0] ?? '/');
    if (!server) return false;
    server.handle(req, res);
    return true;
  };
}

/** A listening HTTP server of subgraphs only. */
export interface SubgraphHttpServer {
  /** `http://host:port`, with the port actually bound. */
  url: string;
  close(): Promise<void>;
}

/** Serves `servers` on host:port (0 for a free port); other paths answer 404. */
export async function startSubgraphHttpServer(options: {
  host: string;
  port: number;
  servers: readonly SubgraphServer[];
}): Promise<SubgraphHttpServer> {
  const route = routeToSubgraph(options.servers);
  const server = createServer((req, res) => {
    if (!route(req, res))
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"no subgraph"}');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${options.host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
