/**
 * The chaos run's network: every product process in a network namespace of its own, reaching Postgres, Temporal and
 * NATS (all bound to loopback) through a forwarding proxy per link on the host side of its veth pair. A partition
 * or a loss drops that link's packets in the process's namespace (nftables); latency is added by the link's proxy
 * (this machine's kernel has no netem qdisc).
 */
import { NetNamespace } from '../../harness/netns.js';
import { startTcpProxy, type TcpProxy } from '../../harness/tcp-proxy.js';

/** The dependencies a process reaches over its links. */
export const DEPENDENCIES = ['postgres', 'temporal', 'nats'] as const;
export type Dependency = (typeof DEPENDENCIES)[number];

/** Where each dependency really listens (loopback). */
export type Targets = Record<Dependency, { host: string; port: number }>;

/** One process's namespace and its proxies. */
export interface ProcessNetwork {
  namespace: NetNamespace;
  proxies: Record<Dependency, TcpProxy>;
  /** The process's environment with each dependency's address pointed at its proxy. */
  env(base: Record<string, string>): Record<string, string>;
}

/** Rewrites the host and port of a URL (`postgres://…`, `nats://…`) or a `host:port` address. */
function pointAt(value: string, proxy: TcpProxy): string {
  if (!value.includes('://')) return `${proxy.host}:${proxy.port}`;
  const url = new URL(value);
  url.hostname = proxy.host;
  url.port = String(proxy.port);
  return url.toString();
}

export class ChaosNetwork {
  private readonly processes = new Map<string, ProcessNetwork>();
  private next = 1;

  constructor(private readonly targets: Targets) {}

  /** A namespace and proxies for process `name` (named `sagac<n>` on the machine). */
  async add(name: string): Promise<ProcessNetwork> {
    const index = this.next++;
    const namespace = NetNamespace.create(`sagac${index}`, index);
    const proxies = {} as Record<Dependency, TcpProxy>;
    try {
      for (const dependency of DEPENDENCIES) {
        const target = this.targets[dependency];
        proxies[dependency] = await startTcpProxy({
          listenHost: namespace.hostAddress,
          targetHost: target.host,
          targetPort: target.port,
        });
      }
    } catch (error) {
      await Promise.all(Object.values(proxies).map((proxy) => proxy.close()));
      namespace.remove();
      throw error;
    }
    const entry: ProcessNetwork = {
      namespace,
      proxies,
      env: (base) => ({
        ...base,
        DATABASE_URL: pointAt(base.DATABASE_URL as string, proxies.postgres),
        TEMPORAL_ADDRESS: pointAt(base.TEMPORAL_ADDRESS as string, proxies.temporal),
        NATS_URL: pointAt(base.NATS_URL as string, proxies.nats),
      }),
    };
    this.processes.set(name, entry);
    return entry;
  }

  of(name: string): ProcessNetwork {
    const entry = this.processes.get(name);
    if (!entry) throw new Error(`no network for process ${name}`);
    return entry;
  }

  /** Drops every packet (or `percent` % of them) on `process`'s link to `dependency` for `ms`. */
  async degrade(process: string, dependency: Dependency, ms: number, percent = 100): Promise<void> {
    const { namespace, proxies } = this.of(process);
    const rules = namespace.drop(proxies[dependency].port, percent);
    try {
      await new Promise((resolve) => setTimeout(resolve, ms));
    } finally {
      namespace.restore(rules);
    }
  }

  /** Adds `meanMs` ± `jitterMs` towards `dependency` on every process's link for `ms`. */
  async slow(dependency: Dependency, meanMs: number, jitterMs: number, ms: number): Promise<void> {
    const proxies = [...this.processes.values()].map((entry) => entry.proxies[dependency]);
    for (const proxy of proxies) proxy.setLatency(meanMs, jitterMs);
    try {
      await new Promise((resolve) => setTimeout(resolve, ms));
    } finally {
      for (const proxy of proxies) proxy.setLatency(0);
    }
  }

  /** Closes the proxies and removes the namespaces (after the processes in them stopped). */
  async close(): Promise<void> {
    for (const { namespace, proxies } of this.processes.values()) {
      await Promise.all(Object.values(proxies).map((proxy) => proxy.close()));
      namespace.remove();
    }
    this.processes.clear();
  }
}
