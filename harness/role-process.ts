/** One role of the image (`bin/role.ts <role>`) run as its own OS process, with its JSON log lines kept. */
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { PROJECT_ROOT } from '../core/config.js';

/** A started role process. */
export interface RoleProcess {
  name: string;
  child: ChildProcess;
  /** Every stdout/stderr line so far (pino writes one JSON object per line). */
  lines: string[];
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>;
  /** Resolves with the first line matching `test`; rejects on timeout or exit. */
  waitForLine(test: (line: string) => boolean, timeoutMs: number): Promise<string>;
  /** Sends `signal` and waits for the exit (SIGKILL after `killAfterMs`). */
  stop(signal?: NodeJS.Signals, killAfterMs?: number): Promise<number | null>;
}

/** Starts `role` with `args` and exactly `env` on top of PATH, as a container would run it. */
export function startRole(
  name: string,
  role: string,
  args: string[],
  env: Record<string, string>,
): RoleProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join('bin', 'role.ts'), role, ...args], {
    cwd: PROJECT_ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const waiters = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n')) if (line.trim()) lines.push(line);
    for (const wake of waiters) wake();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let done = false;
  void exited.then(() => {
    done = true;
    for (const wake of waiters) wake();
  });

  const waitForLine = (test: (line: string) => boolean, timeoutMs: number) =>
    new Promise<string>((resolve, reject) => {
      let seen = 0;
      const check = () => {
        for (; seen < lines.length; seen += 1) {
          const line = lines[seen] as string;
          if (test(line)) return finish(() => resolve(line));
        }
        if (done) finish(() => reject(new Error(`${name} exited before the expected line:\n${tail(lines)}`)));
      };
      const timer = setTimeout(
        () =>
          finish(() => reject(new Error(`${name}: no expected line in ${timeoutMs} ms:\n${tail(lines)}`))),
        timeoutMs,
      );
      const finish = (settle: () => void) => {
        clearTimeout(timer);
        waiters.delete(check);
        settle();
      };
      waiters.add(check);
      check();
    });

  const stop = async (signal: NodeJS.Signals = 'SIGTERM', killAfterMs = 30_000) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    const code = await exited;
    clearTimeout(timer);
    return code;
  };
  return { name, child, lines, exited, waitForLine, stop };
}

/** The last lines of a log, for error messages. */
export function tail(lines: readonly string[], count = 15): string {
  return lines.slice(-count).join('\n');
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
