/**
 * A TCP forwarding proxy for tests: it listens on one address and forwards each connection to a target, so a process
 * in a network namespace can reach a server that binds only to loopback, and a test can shape the link. `partition()`
 * stops moving bytes in both directions without closing anything (the peers see a connection that hangs, as behind a
 * firewall that drops packets; `heal()` lets the held bytes through, as TCP retransmission would). `setLatency()`
 * delays every chunk towards the target by a mean ± jitter, keeping the stream's order. A target that closes or
 * refuses closes the client's side too.
 */
import net from 'node:net';

export interface TcpProxy {
  host: string;
  port: number;
  /** Connections open now. */
  readonly connections: number;
  /** Holds every byte (both ways, new connections too) until `heal()`. */
  partition(): void;
  heal(): void;
  /** Delays chunks towards the target by `meanMs` ± `jitterMs` (uniform); 0 turns it off. */
  setLatency(meanMs: number, jitterMs?: number): void;
  close(): Promise<void>;
}

interface Link {
  client: net.Socket;
  upstream: net.Socket;
}

export async function startTcpProxy(options: {
  listenHost: string;
  listenPort?: number;
  targetHost: string;
  targetPort: number;
}): Promise<TcpProxy> {
  const links = new Set<Link>();
  let partitioned = false;
  let latency = { meanMs: 0, jitterMs: 0 };

  const hold = (link: Link) => {
    link.client.pause();
    link.upstream.pause();
  };
  const release = (link: Link) => {
    link.client.resume();
    link.upstream.resume();
  };

  const server = net.createServer((client) => {
    const upstream = net.connect(options.targetPort, options.targetHost);
    const link = { client, upstream };
    links.add(link);
    let lastDelivery = 0;
    client.on('data', (chunk) => {
      if (latency.meanMs <= 0) {
        upstream.write(chunk);
        return;
      }
      const delay = latency.meanMs + (Math.random() * 2 - 1) * latency.jitterMs;
      const at = Math.max(Date.now() + Math.max(0, delay), lastDelivery);
      lastDelivery = at;
      setTimeout(() => {
        if (!upstream.destroyed) upstream.write(chunk);
      }, at - Date.now());
    });
    // Not pipe(): a piped source resumes when its destination drains, which would end a partition early.
    upstream.on('data', (chunk) => client.write(chunk));
    const end = () => {
      links.delete(link);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    if (partitioned) hold(link);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.listenPort ?? 0, options.listenHost, () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;
  return {
    host: options.listenHost,
    port,
    get connections() {
      return links.size;
    },
    partition() {
      partitioned = true;
      for (const link of links) hold(link);
    },
    heal() {
      partitioned = false;
      for (const link of links) release(link);
    },
    setLatency(meanMs, jitterMs = 0) {
      latency = { meanMs, jitterMs: Math.min(jitterMs, meanMs) };
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const link of links) {
          link.client.destroy();
          link.upstream.destroy();
        }
        server.close(() => resolve());
      }),
  };
}
