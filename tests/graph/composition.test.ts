/** The committed supergraph is what the subgraphs compose to, and the check fails when one changes alone. */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseSubgraphUrls } from '../../contracts/graph.js';
import { loadConfig, PROJECT_ROOT } from '../../core/config.js';
import { composeSupergraph } from '../../graph/compose.js';
import { SUPERGRAPH_PATH, subgraphSdl } from '../../graph/subgraphs.js';

const work = mkdtempSync(path.join(tmpdir(), 'graph-compose-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** `npm run graph:check` with other subgraph files or another supergraph. */
function check(subgraphs: string, supergraph: string) {
  const cli = path.join(PROJECT_ROOT, 'tools', 'graph', 'compose-cli.ts');
  const tsx = path.join(PROJECT_ROOT, 'node_modules', '.bin', 'tsx');
  return spawnSync(tsx, [cli, '--check', '--subgraphs', subgraphs, '--supergraph', supergraph], {
    encoding: 'utf8',
  });
}

describe('the supergraph', () => {
  it('is committed exactly as the subgraphs compose, so the gateway never composes at run time', () => {
    const composed = composeSupergraph();
    expect('sdl' in composed && composed.sdl).toBe(readFileSync(SUPERGRAPH_PATH, 'utf8'));
  });

  it('fails the check when a subgraph schema changes without recomposing, and passes once recomposed', () => {
    const subgraphs = path.join(work, 'subgraphs');
    cpSync(path.join(PROJECT_ROOT, 'graph', 'subgraphs'), subgraphs, { recursive: true });
    const supergraph = path.join(work, 'supergraph.graphql');
    cpSync(SUPERGRAPH_PATH, supergraph);
    expect(check(subgraphs, supergraph).status).toBe(0);

    const changed = subgraphSdl('payments').replace(
      'voided: Boolean!',
      'voided: Boolean!\n  provider: String',
    );
    writeFileSync(path.join(subgraphs, 'payments.graphql'), changed);
    const stale = check(subgraphs, supergraph);
    expect(stale.status).toBe(1);
    expect(stale.stderr).toMatch(/not what the subgraphs compose to: run `npm run graph:compose`/);

    const recomposed = composeSupergraph((name) =>
      readFileSync(path.join(subgraphs, `${name}.graphql`), 'utf8'),
    );
    if (!('sdl' in recomposed)) throw new Error(recomposed.errors.join('; '));
    expect(recomposed.sdl).toContain('provider: String');
    writeFileSync(supergraph, recomposed.sdl);
    expect(check(subgraphs, supergraph).status).toBe(0);
  });

  it('fails the check, naming the conflict, when subgraphs stop composing', () => {
    const subgraphs = path.join(work, 'broken');
    cpSync(path.join(PROJECT_ROOT, 'graph', 'subgraphs'), subgraphs, { recursive: true });
    // Two subgraphs now disagree on the type of Order.id.
    writeFileSync(
      path.join(subgraphs, 'shipping.graphql'),
      subgraphSdl('shipping').replace(
        'type Order @key(fields: "id") {\n  id: ID!',
        'type Order @key(fields: "id") {\n  id: Int!',
      ),
    );
    const broken = check(subgraphs, SUPERGRAPH_PATH);
    expect(broken.status).toBe(1);
    expect(broken.stderr).toMatch(/do not compose[\s\S]*Order\.id/);
  });
});

describe('graph configuration', () => {
  it('parses GRAPH_SUBGRAPH_URLS and refuses what it cannot use', () => {
    expect(
      parseSubgraphUrls(' orders=http://a:1/graphql/orders , inventory=https://b/graphql/inventory'),
    ).toEqual({
      orders: 'http://a:1/graphql/orders',
      inventory: 'https://b/graphql/inventory',
    });
    expect(() => parseSubgraphUrls('billing=http://x')).toThrow(/name of orders, inventory/);
    expect(() => parseSubgraphUrls('orders=http://a,orders=http://b')).toThrow(/twice/);
    expect(() => parseSubgraphUrls('orders=ftp://a')).toThrow(/http/);
    expect(() => parseSubgraphUrls('orders=not a url')).toThrow(/not a URL/);
    expect(() => loadConfig({ GRAPH_SUBGRAPH_URLS: 'nope' })).toThrow(/GRAPH_SUBGRAPH_URLS/);
  });

  it('turns the graph off in production without the internal token, on with it', () => {
    const production = {
      NODE_ENV: 'production',
      API_KEYS: `app:${'k'.repeat(32)}`,
      API_CURSOR_SECRET: 'c'.repeat(32),
    };
    expect(loadConfig(production).graph.enabled).toBe(false);
    expect(loadConfig({ ...production, GRAPH_INTERNAL_TOKEN: 't'.repeat(32) }).graph.enabled).toBe(true);
    expect(loadConfig({}).graph.enabled).toBe(true);
    // Without a token the subgraphs believe the caller headers: off as soon as one listens beyond loopback.
    expect(loadConfig({ WORKER_HTTP_HOST: '0.0.0.0' }).graph.enabled).toBe(false);
    expect(loadConfig({ WORKER_HTTP_HOST: '0.0.0.0', GRAPH_INTERNAL_TOKEN: 'dev-token' }).graph.enabled).toBe(
      true,
    );
    expect(() => loadConfig({ ...production, GRAPH_INTERNAL_TOKEN: 'short' })).toThrow(
      /GRAPH_INTERNAL_TOKEN: use at least 16/,
    );
  });
});
