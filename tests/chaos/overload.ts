/** The optional overload phase of a chaos run: an open-loop arrival rate well above what the workers sustained. */
import type { ManagedProcess } from '../../harness/processes.js';
import { percentile } from '../../tools/bench/stats.js';
import type { ChaosClient } from './client.js';
import type { AcceptedOrder } from './invariants.js';
import { orderBody, sleep } from './load.js';
import type { Rng } from './rng.js';

/** What the overload phase saw. */
export interface OverloadResult {
  rate: number;
  seconds: number;
  arrivals: number;
  accepted: number;
  /** Status of each arrival's first attempt (`no answer` when the request itself failed). */
  firstStatus: Record<string, number>;
  p50: number;
  p99: number;
  unanswered: string[];
  peakRss: string;
  /** Filled in by the caller once the backlog drained. */
  drainSeconds: number;
}

/**
 * Sends orders at `rate` per second for `seconds`, open loop (arrivals never wait for answers); each arrival then
 * behaves like a good client (retries 503/429). Every accepted order joins `accepted`.
 */
export async function runOverload(options: {
  client: ChaosClient;
  rng: Rng;
  seed: number;
  rate: number;
  seconds: number;
  accepted: AcceptedOrder[];
  processes: readonly ManagedProcess[];
}): Promise<OverloadResult> {
  const { client, rng, seed, rate, seconds, accepted, processes } = options;
  for (const proc of processes) proc.peakRssMiB = 0;
  const firstStatus: Record<string, number> = {};
  const latencies: number[] = [];
  const unanswered: string[] = [];
  let acceptedHere = 0;
  const runs: Promise<void>[] = [];
  const begin = Date.now();
  const total = rate * seconds;
  for (let i = 0; i < total; i++) {
    const wait = begin + (i * 1000) / rate - Date.now();
    if (wait > 0) await sleep(wait);
    const key = `chaos-${seed}-overload-${i}`;
    const body = orderBody(rng, 'ok', i);
    runs.push(
      (async () => {
        const t = Date.now();
        let first: string;
        try {
          first = String(
            (await client.once('POST', '/v1/orders', JSON.stringify(body), { 'idempotency-key': key }))
              .status,
          );
        } catch (err) {
          first = 'no answer';
          unanswered.push(`${key}: ${(err as Error).message}`);
        }
        latencies.push(Date.now() - t);
        firstStatus[first] = (firstStatus[first] ?? 0) + 1;
        const reply = await client.send('POST', '/v1/orders', body, { 'idempotency-key': key });
        if (reply.status === 202 || reply.status === 200) {
          accepted.push({ key, orderId: String(reply.body?.orderId) });
          acceptedHere += 1;
        }
      })(),
    );
  }
  await Promise.all(runs);
  return {
    rate,
    seconds,
    arrivals: total,
    accepted: acceptedHere,
    firstStatus,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    unanswered,
    peakRss: processes.map((p) => `${p.spec.name} ${p.peakRssMiB.toFixed(0)}`).join(', '),
    drainSeconds: 0,
  };
}
