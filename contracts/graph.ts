/** The federated graph's subgraphs: one per service, named after the service whose process serves it. */
export const SUBGRAPH_NAMES = ['orders', 'inventory', 'payments', 'shipping', 'notifications'] as const;
/** One subgraph. */
export type SubgraphName = (typeof SUBGRAPH_NAMES)[number];

/** Parses `GRAPH_SUBGRAPH_URLS`: `name=url` pairs, comma-separated, each name once, each URL http(s). */
export function parseSubgraphUrls(value: string): Partial<Record<SubgraphName, string>> {
  const urls: Partial<Record<SubgraphName, string>> = {};
  for (const part of value
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const at = part.indexOf('=');
    const name = part.slice(0, at).trim();
    const url = part.slice(at + 1).trim();
    if (at <= 0 || !(SUBGRAPH_NAMES as readonly string[]).includes(name)) {
      throw new Error(
        `expected name=url with a name of ${SUBGRAPH_NAMES.join(', ')}; got "${part.slice(0, 40)}"`,
      );
    }
    if (urls[name as SubgraphName]) throw new Error(`${name} is given twice`);
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new Error(`${name}: "${url.slice(0, 80)}" is not a URL`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
      throw new Error(`${name}: expected an http(s) URL`);
    urls[name as SubgraphName] = parsed.toString();
  }
  return urls;
}
