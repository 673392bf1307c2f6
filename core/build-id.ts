/** The build id workers announce when none is configured: the git commit, else the package version. */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
let cached: string | undefined;

export function defaultBuildId(): string {
  if (cached) return cached;
  const git = spawnSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: ROOT, encoding: 'utf8' });
  const commit = git.status === 0 ? git.stdout.trim() : '';
  if (commit) {
    cached = `git-${commit}`;
  } else {
    const { version } = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
      version: string;
    };
    cached = `v${version}`;
  }
  return cached;
}
