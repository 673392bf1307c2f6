/**
 * The federated graph's parts: one subgraph per service, each served by that service's own process at
 * `/graphql/<name>` on its HTTP server (the workers' and the notifications consumer's). The schema files beside
 * this module are the source of truth; `npm run graph:compose` composes them into the committed supergraph.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { SUBGRAPH_NAMES, type SubgraphName } from '../contracts/graph.js';

export { SUBGRAPH_NAMES, type SubgraphName };

const GRAPH_DIR = path.dirname(fileURLToPath(import.meta.url));

/** The committed supergraph the gateway serves (never composed at run time). */
export const SUPERGRAPH_PATH = path.join(GRAPH_DIR, 'supergraph.graphql');

/** Path on a service's HTTP server where its subgraph answers. */
export function subgraphPath(name: SubgraphName): string {
  return `/graphql/${name}`;
}

/**
 * The URL recorded in the committed supergraph: the service's HTTP server as docker-compose names it. The gateway
 * overrides it with GRAPH_SUBGRAPH_URLS (or the URLs of the processes it started), so it only documents the shape.
 */
export function defaultSubgraphUrl(name: SubgraphName): string {
  const host = name === 'notifications' ? 'notifications' : `${name}-worker`;
  return `http://${host}:9091${subgraphPath(name)}`;
}

/** The SDL of one subgraph, as committed. */
export function subgraphSdl(name: SubgraphName): string {
  return readFileSync(path.join(GRAPH_DIR, 'subgraphs', `${name}.graphql`), 'utf8');
}

/** Where the operations of the allow-list live (`GRAPH_PERSISTED_ONLY=true` serves only these). */
export const OPERATIONS_DIR = path.join(GRAPH_DIR, 'operations');
