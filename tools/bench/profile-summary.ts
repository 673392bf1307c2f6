/**
 * Summarises the V8 CPU profiles written by `npm run bench -- --profile <dir>`: per process and thread, the sampled
 * busy time inside the measurement windows (per saga or floor run) by where it was spent (a package, our own code
 * by folder, V8's GC, native code), and the hottest functions. Samples are wall-clock ticks, so on a saturated
 * machine a thread waiting for a core counts as busy: read the shares, and take CPU totals from the bench's /proc
 * columns. Usage: `tsx tools/bench/profile-summary.ts <dir> [--top 12] [--load "closed c=8"]`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

interface Meta {
  processes: Record<string, string>;
  /** The mode of a process by name, for those not of the distributed saga. */
  modes?: Record<string, string>;
  windows: { mode: string; load: string; orders: number; startUs: number; endUs: number }[];
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { top: { type: 'string', default: '12' }, load: { type: 'string' } },
});
const dir = positionals[0];
if (!dir) throw new Error('usage: profile-summary.ts <profile dir> [--top N] [--load "closed c=8"]');
const top = Number(values.top);
const meta = JSON.parse(readFileSync(path.join(dir, 'meta.json'), 'utf8')) as Meta;

/** Where a frame's time belongs: a package, one of our folders, the workflow bundle, or V8 itself. */
function bucketOf(url: string, functionName: string): string {
  if (functionName === '(idle)') return '(idle)';
  if (functionName === '(garbage collector)') return '(gc)';
  if (functionName === '(program)') return '(program: V8/native outside JS)';
  if (!url) return `(native) ${functionName.startsWith('RegExp:') ? 'RegExp' : functionName || 'anonymous'}`;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg?.[1]) return pkg[1];
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]}`;
  if (url.includes('workflows.js') || url.includes('floor.js')) return '(workflow bundle)';
  const own = /\/(activities|workers|core|db|workflows|contracts|api|scripts)\//.exec(url);
  return own ? `ours: ${own[1]}/` : url;
}

const perProcess: { name: string; thread: string; msPerOrder: number }[] = [];
// CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile
for (const file of readdirSync(dir)
  .filter((f) => f.endsWith('.cpuprofile'))
  .sort()) {
  const [, , , pid = '', thread = ''] = file.split('.');
  const name = meta.processes[pid];
  if (!name) continue;
  // Processes of the baselines and the colocated saga say their mode; the rest are the distributed saga's.
  const mode = meta.modes?.[name] ?? 'distributed';
  const windows = meta.windows.filter((w) => w.mode === mode && (!values.load || w.load === values.load));
  const orders = windows.reduce((sum, w) => sum + w.orders, 0);
  if (orders === 0)
    throw new Error(`no ${mode} measurement${values.load ? ` at load "${values.load}"` : ''} in meta.json`);
  const profile = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  let at = profile.startTime;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    at += delta;
    if (windows.some((w) => at >= w.startUs && at <= w.endUs)) selfUs.set(id, (selfUs.get(id) ?? 0) + delta);
  });
  const buckets = new Map<string, number>();
  const functions = new Map<string, number>();
  let busy = 0;
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)?.callFrame;
    if (!frame) continue;
    const bucket = bucketOf(frame.url, frame.functionName);
    if (bucket === '(idle)') continue;
    busy += us;
    buckets.set(bucket, (buckets.get(bucket) ?? 0) + us);
    const fn = `${bucket} · ${frame.functionName.slice(0, 60) || '(anonymous)'} ${path.basename(frame.url)}:${frame.lineNumber + 1}`;
    functions.set(fn, (functions.get(fn) ?? 0) + us);
  }
  if (busy < 1000 * orders * 0.5) continue; // a thread that did (almost) nothing while measuring
  const msPerOrder = busy / 1000 / orders;
  perProcess.push({ name, thread, msPerOrder });
  console.log(
    `\n## ${name}, thread ${thread}: ${(busy / 1000).toFixed(0)} ms busy over ${orders} ${mode} runs = ${msPerOrder.toFixed(1)} ms per run`,
  );
  console.log('\n| where | ms per run | % |\n|---|---:|---:|');
  for (const [bucket, us] of [...buckets].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`| ${bucket} | ${(us / 1000 / orders).toFixed(2)} | ${((100 * us) / busy).toFixed(1)} |`);
  }
  console.log('\n| hottest functions (self time) | ms per run |\n|---|---:|');
  for (const [fn, us] of [...functions].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`| ${fn.replaceAll('|', '\\|')} | ${(us / 1000 / orders).toFixed(2)} |`);
  }
}
console.log('\n| process | thread | sampled busy ms per run |\n|---|---|---:|');
for (const p of perProcess) console.log(`| ${p.name} | ${p.thread} | ${p.msPerOrder.toFixed(1)} |`);
