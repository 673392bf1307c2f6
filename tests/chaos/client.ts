/** A well-behaved API client: idempotency keys, and retries on 503/429 and lost connections, honouring Retry-After. */

export interface Reply {
  status: number;
  body: Record<string, unknown> | null;
  /** Seconds the server asked us to wait (Retry-After), if it said. */
  retryAfterSeconds?: number;
}

/** Counters the report prints: how often the client had to retry, and what it never expects to see. */
export interface ClientStats {
  requests: number;
  retriesUnavailable: number;
  retriesConnection: number;
  unexpected5xx: Array<{ path: string; status: number; body: string }>;
}

const RETRYABLE = new Set([429, 502, 503, 504]);

export class ChaosClient {
  readonly stats: ClientStats = {
    requests: 0,
    retriesUnavailable: 0,
    retriesConnection: 0,
    unexpected5xx: [],
  };

  constructor(
    private readonly baseUrl: string,
    private readonly giveUpAfterMs = 900_000,
  ) {}

  /** One attempt; a network failure rejects. */
  async once(
    method: string,
    path: string,
    body?: string,
    headers: Record<string, string> = {},
  ): Promise<Reply> {
    this.stats.requests += 1;
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      ...(body !== undefined ? { body } : {}),
      signal: AbortSignal.timeout(40_000),
    });
    const text = await response.text();
    let parsed: Record<string, unknown> | null = null;
    try {
      parsed = text ? (JSON.parse(text) as Record<string, unknown>) : null;
    } catch {
      parsed = { raw: text };
    }
    if (response.status >= 500 && !RETRYABLE.has(response.status)) {
      this.stats.unexpected5xx.push({ path, status: response.status, body: text.slice(0, 300) });
    }
    const retryAfter = Number(response.headers.get('retry-after'));
    return {
      status: response.status,
      body: parsed,
      ...(Number.isFinite(retryAfter) && retryAfter > 0 ? { retryAfterSeconds: retryAfter } : {}),
    };
  }

  /** Repeats the request until it gets a definite answer (2xx or 4xx other than 429). */
  send(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply> {
    return this.sendRaw(method, path, body === undefined ? undefined : JSON.stringify(body), headers);
  }

  /** Like {@link send}, with a body sent as is (for malformed input). */
  async sendRaw(
    method: string,
    path: string,
    payload?: string,
    headers: Record<string, string> = {},
  ): Promise<Reply> {
    const deadline = Date.now() + this.giveUpAfterMs;
    let delayMs = 100;
    for (;;) {
      // Exponential backoff with jitter, never shorter than the server's Retry-After: no retry storm.
      let wait = delayMs;
      try {
        const reply = await this.once(method, path, payload, headers);
        if (!RETRYABLE.has(reply.status) && reply.status < 500) return reply;
        this.stats.retriesUnavailable += 1;
        if (reply.status >= 500 && !RETRYABLE.has(reply.status)) return reply;
        if (reply.retryAfterSeconds) wait = Math.max(wait, reply.retryAfterSeconds * 1000);
      } catch {
        this.stats.retriesConnection += 1;
      }
      if (Date.now() > deadline)
        throw new Error(`${method} ${path}: no definite answer in ${this.giveUpAfterMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, Math.min(wait, 10_000) + Math.random() * 250));
      delayMs = Math.min(delayMs * 2, 4_000);
    }
  }
}
