/** Installs the Temporal worker runtime for a test file with SDK and core logs off (expected failures are noisy). */
import { makeTelemetryFilterString, Runtime } from '@temporalio/worker';

const noop = () => undefined;
/** A Temporal logger that drops everything. */
export const silentLogger = { log: noop, trace: noop, debug: noop, info: noop, warn: noop, error: noop };

export function installQuietRuntime(): void {
  Runtime.install({
    logger: silentLogger,
    shutdownSignals: [],
    telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'ERROR', other: 'ERROR' }) } },
  });
}
