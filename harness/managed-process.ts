/** Child processes of the chaos topology: start, SIGKILL, restart, and peak memory sampled from /proc. */
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import path from 'node:path';
import { rssMiB } from './proc-stats.js';

export interface ProcessSpec {
  name: string;
  command: string;
  args: string[];
  env: Record<string, string>;
  cwd: string;
}

const live = new Set<ManagedProcess>();
// A harness that dies must not leave its topology running (ports, CPU, the next run's database).
process.once('exit', () => {
  for (const proc of live) proc.killNow();
});

/** One supervised process; logs go to `<logDir>/<name>.log` across restarts. */
export class ManagedProcess {
  private child: ChildProcess | undefined;
  private readonly log: WriteStream;
  peakRssMiB = 0;
  starts = 0;
  kills = 0;
  /** Exits nobody asked for; the supervisor restarts the process, as Kubernetes would. */
  crashes = 0;
  private expectingExit = false;
  private closed = false;

  constructor(
    readonly spec: ProcessSpec,
    logDir: string,
  ) {
    this.log = createWriteStream(path.join(logDir, `${spec.name}.log`), { flags: 'a' });
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** SIGKILL without waiting; for the harness's own exit path. */
  killNow(): void {
    this.expectingExit = true;
    this.closed = true;
    if (this.running) this.child?.kill('SIGKILL');
  }

  start(): void {
    live.add(this);
    const { command, args, env, cwd } = this.spec;
    this.child = spawn(command, args, {
      cwd,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout?.pipe(this.log, { end: false });
    this.child.stderr?.pipe(this.log, { end: false });
    this.starts += 1;
    this.expectingExit = false;
    this.child.once('exit', () => {
      if (this.expectingExit || this.closed) return;
      this.crashes += 1;
      setTimeout(() => {
        if (!this.closed && !this.running) this.start();
      }, 1_000);
    });
  }

  /** Crash it: no chance to drain or clean up. */
  async kill(): Promise<void> {
    if (!this.running) return;
    this.kills += 1;
    await this.signal('SIGKILL', 5_000);
  }

  /** Ask it to stop gracefully (SIGTERM), then force after `graceMs`. */
  async stop(graceMs = 15_000): Promise<void> {
    if (!this.running) return;
    const stopped = await this.signal('SIGTERM', graceMs);
    if (!stopped) await this.signal('SIGKILL', 5_000);
  }

  private signal(signal: NodeJS.Signals, waitMs: number): Promise<boolean> {
    this.expectingExit = true;
    const child = this.child;
    if (!child) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), waitMs);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve(true);
      });
      child.kill(signal);
    });
  }

  sampleMemory(): void {
    this.peakRssMiB = Math.max(this.peakRssMiB, rssMiB(this.child?.pid));
  }

  close(): void {
    this.closed = true;
    this.log.end();
  }
}
