/** The rows `npm run bench` measures and the markdown tables it prints of them. */

/** One measurement: a mode at one load, with what it cost. */
export interface Row {
  mode: 'floor' | 'plain' | 'distributed' | 'colocated' | 'direct';
  load: string;
  /** Set for the events pair only: the saga's workers without NATS_URL ('off') or relaying with a consumer ('on'). */
  events?: 'off' | 'on';
  orders: number;
  /** Events in the history of the window's last workflow (the modes on Temporal). */
  historyEvents?: number;
  ordersPerSecond: number;
  p50: number;
  p95: number;
  p99: number;
  postP50?: number;
  postP99?: number;
  cpuPerOrderMs: number;
  /** The rest of the machine's CPU per order: the API process, the Temporal server, all Postgres backends. */
  apiCpuPerOrderMs: number;
  temporalCpuPerOrderMs: number;
  postgresCpuPerOrderMs: number;
  /** Events on only: the notifications consumer process and the nats-server (NaN when they do no work). */
  consumerCpuPerOrderMs?: number;
  natsCpuPerOrderMs?: number;
  peakWorkerRssMiB: number;
  /** Most Postgres sessions of the benchmark database busy at once / open at once (pool sizing). */
  peakDbActive: number;
  peakDbOpen: number;
}

/** A number with `digits` decimals; blank for a figure that was not measured. */
const f = (n: number | undefined, digits = 0) =>
  n === undefined || Number.isNaN(n) ? '' : n.toFixed(digits);

const post = (r: Row) => (r.postP50 !== undefined ? `${f(r.postP50)} / ${f(r.postP99)}` : '');

/**
 * Every mode per load, with its throughput and p50 as multiples of the plain saga's at the same load (the
 * headline), its throughput as a multiple of the floor's, its CPU per order by process and in all, and the
 * history events of one of its workflows.
 */
export function renderTable(rows: Row[]): string {
  const by = (mode: Row['mode']) => new Map(rows.filter((r) => r.mode === mode).map((r) => [r.load, r]));
  const [plainBy, floorBy] = [by('plain'), by('floor')];
  const lines = [
    '| mode | load | orders | orders/s | × plain | p50 ms | p50 × plain | p95 ms | p99 ms | × floor | POST p50 / p99 ms | CPU ms/order: workers / API / Temporal / Postgres | CPU ms/order, all | history events | peak worker RSS MiB | DB sessions busy / open |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  const ratio = (value: number, base: number | undefined) => (base ? value / base : Number.NaN);
  for (const r of rows) {
    const plain = plainBy.get(r.load);
    const cpu = [r.cpuPerOrderMs, r.apiCpuPerOrderMs, r.temporalCpuPerOrderMs, r.postgresCpuPerOrderMs];
    const all = cpu.reduce((sum, v) => sum + (Number.isNaN(v) ? 0 : v), 0);
    lines.push(
      `| ${r.mode} | ${r.load} | ${r.orders} | ${f(r.ordersPerSecond, 1)} | ${f(ratio(r.ordersPerSecond, plain?.ordersPerSecond), 2)} | ${f(r.p50)} | ${f(ratio(r.p50, plain?.p50), 2)} | ${f(r.p95)} | ${f(r.p99)} | ${f(ratio(r.ordersPerSecond, floorBy.get(r.load)?.ordersPerSecond), 2)} | ${post(r)} | ${cpu.map((v) => f(v, 1)).join(' / ')} | ${f(all, 1)} | ${r.historyEvents ?? ''} | ${f(r.peakWorkerRssMiB)} | ${r.peakDbActive} / ${r.peakDbOpen} |`,
    );
  }
  return lines.join('\n');
}

/**
 * The saga with events off and on per load: throughput and p50 / p99 of the events-on row as multiples of the
 * events-off row at the same load, and the CPU of the consumer and the NATS server next to the saga's.
 */
export function renderEventsTable(rows: Row[]): string {
  const offBy = new Map(rows.filter((r) => r.events === 'off').map((r) => [r.load, r]));
  const lines = [
    '| saga events | load | orders | orders/s | orders/s × off | p50 ms | p95 ms | p99 ms | p50 / p99 × off | POST p50 / p99 ms | CPU ms/order: workers / API / Temporal / Postgres / consumer / NATS | peak worker RSS MiB | DB sessions busy / open |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  // Each load's off row, then its on row, whatever order they were measured in.
  const loads = [...new Set(rows.map((r) => r.load))];
  const paired = loads.flatMap((load) =>
    ['off', 'on'].flatMap((events) => rows.filter((r) => r.load === load && r.events === events)),
  );
  for (const r of paired) {
    const off = offBy.get(r.load);
    const ratio = (on: number, base: number | undefined) => (base ? on / base : Number.NaN);
    const latency = off ? `${f(ratio(r.p50, off.p50), 2)} / ${f(ratio(r.p99, off.p99), 2)}` : '';
    const cpu = [
      r.cpuPerOrderMs,
      r.apiCpuPerOrderMs,
      r.temporalCpuPerOrderMs,
      r.postgresCpuPerOrderMs,
      r.consumerCpuPerOrderMs,
      r.natsCpuPerOrderMs,
    ];
    lines.push(
      `| ${r.events ?? ''} | ${r.load} | ${r.orders} | ${f(r.ordersPerSecond, 1)} | ${f(ratio(r.ordersPerSecond, off?.ordersPerSecond), 2)} | ${f(r.p50)} | ${f(r.p95)} | ${f(r.p99)} | ${latency} | ${post(r)} | ${cpu.map((v) => f(v, 1)).join(' / ')} | ${f(r.peakWorkerRssMiB)} | ${r.peakDbActive} / ${r.peakDbOpen} |`,
    );
  }
  return lines.join('\n');
}
