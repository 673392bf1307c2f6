/** Installs a Debian package when its binary is missing (`apt-get update` first only when apt knows no candidate). */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

function run(command: string, args: string[]): { status: number | null; stdout: string } {
  const result = spawnSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  return { status: result.status, stdout: result.stdout ?? '' };
}

/** The version apt would install, or null when its package lists do not know the package. */
function candidate(pkg: string): string | null {
  const { stdout } = run('apt-cache', ['policy', pkg]);
  const version = /Candidate:\s*(\S+)/.exec(stdout)?.[1];
  return version && version !== '(none)' ? version : null;
}

/** Makes sure `binary` exists, installing Debian's `pkg` if needed; throws with the reason when it cannot. */
export function ensureDebianPackage(pkg: string, binary: string, log: (line: string) => void): void {
  if (existsSync(binary)) return;
  if (!existsSync('/usr/bin/apt-get'))
    throw new Error(`${binary} is missing and this is not a Debian system`);
  if (!candidate(pkg)) {
    log(`apt-get update (no candidate for ${pkg} yet)`);
    if (run('apt-get', ['update']).status !== 0) throw new Error('apt-get update failed');
  }
  log(`apt-get install -y --no-install-recommends ${pkg} (${candidate(pkg) ?? 'unknown version'})`);
  const installed = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', pkg], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  if (installed.status !== 0 || !existsSync(binary)) throw new Error(`could not install ${pkg} (${binary})`);
}
