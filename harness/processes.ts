/**
 * Child processes of the harness (the image's roles, `npm start`, Prometheus, the chaos and bench topologies):
 * start, wait for a log line or a ready URL, stop gracefully or SIGKILL, restart after a crash, sample memory.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../core/config.js';
import { rssMiB } from './proc-stats.js';
import { waitForUrl } from './wait-ready.js';

export interface ProcessSpec {
  name: string;
  command: string;
  args: string[];
  /** Set on top of this process's environment, or of PATH alone with `cleanEnv` (as a container gets it). */
  env?: Record<string, string>;
  cleanEnv?: boolean;
  /** Default: the project's root. */
  cwd?: string;
  /** Every stdout/stderr line is appended here too, across restarts. */
  logFile?: string;
  /** Start it again a second after an exit nobody asked for, as Kubernetes would. */
  restartOnCrash?: boolean;
  /** Its own process group, so signals reach what it starts (`npm start` runs a wrapper and the stack). */
  processGroup?: boolean;
  /** Called with every output line as it arrives (e.g. to forward a server's log into the caller's logger). */
  onLine?: (line: string) => void;
}

/** `node --import tsx <file> [args]`: how the harness runs the project's TypeScript entry points. */
export function tsxCommand(file: string, args: string[] = []): Pick<ProcessSpec, 'command' | 'args'> {
  return { command: process.execPath, args: ['--import', 'tsx', file, ...args] };
}

/** The role of the image (`bin/role.ts <role>`), with exactly `env` on top of PATH, as a container runs it. */
export function roleSpec(
  name: string,
  role: string,
  args: string[],
  env: Record<string, string>,
): ProcessSpec {
  return { name, ...tsxCommand('bin/role.ts', [role, ...args]), env, cleanEnv: true };
}

/** A process of a supervised topology (chaos, bench): its log in `<logDir>/<name>.log`, restarted after a crash. */
export function supervisedSpec(spec: ProcessSpec, logDir: string): ProcessSpec {
  return { ...spec, logFile: path.join(logDir, `${spec.name}.log`), restartOnCrash: true };
}

/** Lines kept in memory per process (the log file, if any, has them all). */
const KEPT_LINES = 20_000;

const live = new Set<ManagedProcess>();
// A harness that dies must not leave its processes running (ports, CPU, the next run's database).
process.once('exit', () => {
  for (const proc of live) proc.killNow();
});

/** One supervised process. */
export class ManagedProcess {
  private child: ChildProcess | undefined;
  private readonly log: WriteStream | undefined;
  private readonly kept: string[] = [];
  private lineCount = 0;
  private readonly waiters = new Set<() => void>();
  private exit: Promise<number | null> = Promise.resolve(null);
  private expectingExit = false;
  private ended = true;
  private closed = false;
  peakRssMiB = 0;
  starts = 0;
  kills = 0;
  /** Exits nobody asked for. */
  crashes = 0;

  constructor(readonly spec: ProcessSpec) {
    this.log = spec.logFile ? createWriteStream(spec.logFile, { flags: 'a' }) : undefined;
  }

  get name(): string {
    return this.spec.name;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The last lines of its output (stdout and stderr; pino writes one JSON object per line). */
  get lines(): readonly string[] {
    return this.kept;
  }

  /** Resolves with the exit code of the current run (null when killed by a signal). */
  get exited(): Promise<number | null> {
    return this.exit;
  }

  start(): this {
    live.add(this);
    const { command, args, env = {}, cwd = PROJECT_ROOT } = this.spec;
    const base = this.spec.cleanEnv ? { PATH: process.env.PATH ?? '' } : process.env;
    const child = spawn(command, args, {
      cwd,
      env: { ...base, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: this.spec.processGroup ?? false,
    });
    this.child = child;
    // Per stream, a line cut between two chunks is joined before it is kept.
    const reader = () => {
      let partial = '';
      return (chunk: Buffer) => {
        this.log?.write(chunk);
        const parts = (partial + chunk.toString()).split('\n');
        partial = parts.pop() ?? '';
        for (const line of parts) if (line.trim()) this.keep(line);
        this.wake();
      };
    };
    child.stdout?.on('data', reader());
    child.stderr?.on('data', reader());
    this.starts += 1;
    this.expectingExit = false;
    this.ended = false;
    // 'close' comes after the last output line, so a caller awaiting the exit has every line.
    this.exit = new Promise((resolve) =>
      child.once('close', (code) => {
        this.ended = true;
        resolve(code);
        this.wake();
      }),
    );
    child.once('exit', () => {
      if (this.expectingExit || this.closed) return;
      this.crashes += 1;
      if (!this.spec.restartOnCrash) return;
      setTimeout(() => {
        if (!this.closed && !this.running) this.start();
      }, 1_000);
    });
    return this;
  }

  /** Resolves with the first line (from the start of the output kept) that passes `test`; rejects on timeout or exit. */
  waitForLine(test: (line: string) => boolean, timeoutMs: number): Promise<string> {
    return new Promise((resolve, reject) => {
      let seen = this.lineCount - this.kept.length;
      const check = () => {
        for (seen = Math.max(seen, this.lineCount - this.kept.length); seen < this.lineCount; seen += 1) {
          const line = this.kept[seen - (this.lineCount - this.kept.length)] as string;
          if (test(line)) return finish(() => resolve(line));
        }
        if (this.ended)
          finish(() => reject(new Error(`${this.name} exited before the expected line:\n${this.tail()}`)));
      };
      const timer = setTimeout(
        () =>
          finish(() =>
            reject(new Error(`${this.name}: no expected line in ${timeoutMs} ms:\n${this.tail()}`)),
          ),
        timeoutMs,
      );
      const finish = (settle: () => void) => {
        clearTimeout(timer);
        this.waiters.delete(check);
        settle();
      };
      this.waiters.add(check);
      check();
    });
  }

  /** Waits until `url` answers 200 (or `accept`s the status); fails at once if the process exits meanwhile. */
  waitReady(url: string, timeoutMs: number, accept?: (status: number) => boolean): Promise<void> {
    return waitForUrl(url, {
      timeoutMs,
      ...(accept ? { accept } : {}),
      failIf: () => (this.running ? undefined : `${this.name} exited:\n${this.tail()}`),
    });
  }

  /** Crash it: SIGKILL, no chance to drain or clean up. */
  async kill(): Promise<void> {
    if (!this.running) return;
    this.kills += 1;
    await this.signal('SIGKILL', 5_000);
  }

  /** Asks it to stop (SIGTERM), forces after `graceMs`; resolves with its exit code. */
  async stop(graceMs = 15_000): Promise<number | null> {
    if (this.running && !(await this.signal('SIGTERM', graceMs))) await this.signal('SIGKILL', 5_000);
    return this.exit;
  }

  /** SIGKILL without waiting; for the harness's own exit path. */
  killNow(): void {
    this.expectingExit = true;
    this.closed = true;
    if (this.running) this.send('SIGKILL');
  }

  sampleMemory(): void {
    this.peakRssMiB = Math.max(this.peakRssMiB, rssMiB(this.child?.pid));
  }

  /** No more restarts; closes the log file. */
  close(): void {
    this.closed = true;
    live.delete(this);
    this.log?.end();
  }

  /** The last lines of its output, for error messages. */
  tail(count = 15): string {
    return this.kept.slice(-count).join('\n');
  }

  private keep(line: string): void {
    this.kept.push(line);
    this.lineCount += 1;
    this.spec.onLine?.(line);
    if (this.kept.length > KEPT_LINES) this.kept.shift();
  }

  private wake(): void {
    for (const wake of this.waiters) wake();
  }

  private send(signal: NodeJS.Signals): void {
    const pid = this.child?.pid;
    if (pid === undefined) return;
    try {
      if (this.spec.processGroup) process.kill(-pid, signal);
      else this.child?.kill(signal);
    } catch {
      // already gone
    }
  }

  private signal(signal: NodeJS.Signals, waitMs: number): Promise<boolean> {
    this.expectingExit = true;
    const exited = this.exit;
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), waitMs);
      void exited.then(() => {
        clearTimeout(timer);
        resolve(true);
      });
      this.send(signal);
    });
  }
}

/** Starts a process as `spec` says. */
export function startProcess(spec: ProcessSpec): ManagedProcess {
  return new ManagedProcess(spec).start();
}

/** The `msg` of a pino JSON line, or undefined for other output. */
export function logMessage(line: string): string | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    return (JSON.parse(line) as { msg?: string }).msg;
  } catch {
    return undefined;
  }
}
