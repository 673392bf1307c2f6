/** The memory soak of `npm run bench -- --soak N`: N orders back to back, each process's RSS at every checkpoint. */
import { rssMiB } from '../../harness/proc-stats.js';

export interface SoakCheckpoint {
  orders: number;
  seconds: number;
  rssMiB: Record<string, number>;
}

export interface SoakOptions {
  total: number;
  concurrency: number;
  /** A checkpoint every this many finished orders. */
  every: number;
  run: () => Promise<void>;
  processes: { name: string; pid: number | undefined }[];
  onCheckpoint?: (checkpoint: SoakCheckpoint) => void;
}

/** Runs `total` orders with `concurrency` loops and samples every process's RSS each `every` orders. */
export async function soak(options: SoakOptions): Promise<SoakCheckpoint[]> {
  const checkpoints: SoakCheckpoint[] = [];
  const begin = performance.now();
  const sample = (orders: number) => {
    const checkpoint = {
      orders,
      seconds: (performance.now() - begin) / 1000,
      rssMiB: Object.fromEntries(options.processes.map((p) => [p.name, rssMiB(p.pid)])),
    };
    checkpoints.push(checkpoint);
    options.onCheckpoint?.(checkpoint);
  };
  sample(0);
  let started = 0;
  let finished = 0;
  await Promise.all(
    Array.from({ length: options.concurrency }, async () => {
      while (started < options.total) {
        started += 1;
        await options.run();
        finished += 1;
        if (finished % options.every === 0) sample(finished);
      }
    }),
  );
  return checkpoints;
}

/**
 * Markdown: RSS per process at each checkpoint, then its trend over the second half of the run (after the heaps
 * and caches have reached their working size), which is what "flat" is judged on.
 */
export function renderSoak(checkpoints: SoakCheckpoint[]): string {
  const names = Object.keys(checkpoints[0]?.rssMiB ?? {});
  const lines = [
    `| orders | elapsed s | ${names.map((n) => `${n} RSS MiB`).join(' | ')} |`,
    `|---:|---:|${names.map(() => '---:').join('|')}|`,
  ];
  for (const c of checkpoints) {
    lines.push(
      `| ${c.orders} | ${c.seconds.toFixed(0)} | ${names.map((n) => (c.rssMiB[n] ?? 0).toFixed(0)).join(' | ')} |`,
    );
  }
  const half = checkpoints.slice(Math.floor((checkpoints.length - 1) / 2));
  const first = half[0];
  const last = half.at(-1);
  if (first && last && last.orders > first.orders) {
    lines.push(
      `| trend ${first.orders}→${last.orders} | MiB per 1,000 orders | ${names.map((n) => (slope(half, n) * 1000).toFixed(1)).join(' | ')} |`,
    );
  }
  return lines.join('\n');
}

/** Least-squares slope of one process's RSS against orders (MiB per order): robust to a single GC spike. */
function slope(points: SoakCheckpoint[], name: string): number {
  const xs = points.map((p) => p.orders);
  const ys = points.map((p) => p.rssMiB[name] ?? 0);
  const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
  const mx = mean(xs);
  const my = mean(ys);
  const num = xs.reduce((sum, x, i) => sum + (x - mx) * ((ys[i] ?? 0) - my), 0);
  const den = xs.reduce((sum, x) => sum + (x - mx) ** 2, 0);
  return den === 0 ? 0 : num / den;
}
