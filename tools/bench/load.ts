/** The load shapes of `npm run bench`: closed loop (a fixed number of runs in flight) and open loop (a fixed rate). */

/** `concurrency` loops each running `fn` back to back until `total` runs are done. */
export async function closedLoop(concurrency: number, total: number, fn: () => Promise<void>) {
  const latencies: number[] = [];
  let started = 0;
  const begin = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (started < total) {
        started += 1;
        const t = performance.now();
        await fn();
        latencies.push(performance.now() - t);
      }
    }),
  );
  return { latencies, seconds: (performance.now() - begin) / 1000 };
}

/** Starts `fn` at a fixed rate for `seconds`, whether or not earlier runs finished (arrivals do not wait). */
export async function openLoop(rate: number, seconds: number, fn: () => Promise<void>) {
  const latencies: number[] = [];
  const runs: Promise<void>[] = [];
  const begin = performance.now();
  const total = Math.round(rate * seconds);
  for (let i = 0; i < total; i++) {
    const due = begin + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const t = performance.now();
    runs.push(fn().then(() => void latencies.push(performance.now() - t)));
  }
  await Promise.all(runs);
  return { latencies, seconds: (performance.now() - begin) / 1000 };
}
