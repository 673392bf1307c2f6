/** Global setup of the operator suite: Debian's Prometheus and Chromium, installed once per run when missing. */
import { ensureDebianPackage } from '../../harness/debian-packages.js';

/** Where Debian's packages put the binaries the suite runs. */
export const PROMETHEUS_BINARY = '/usr/bin/prometheus';
export const CHROMIUM_BINARY = '/usr/bin/chromium';

export default function setup(): void {
  const log = (line: string) => process.stdout.write(`[operator] ${line}\n`);
  ensureDebianPackage('prometheus', PROMETHEUS_BINARY, log);
  ensureDebianPackage('chromium', CHROMIUM_BINARY, log);
}
